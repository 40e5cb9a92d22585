-- 2: a generation number that every change to a secret or value bumps, in the database
-- itself (triggers), so caches see changes made by any process or tool.
INSERT INTO meta (key, value) VALUES ('generation', '0');
CREATE TRIGGER secrets_ins AFTER INSERT ON secrets BEGIN
    UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'generation'; END;
CREATE TRIGGER secrets_upd AFTER UPDATE ON secrets BEGIN
    UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'generation'; END;
CREATE TRIGGER secrets_del AFTER DELETE ON secrets BEGIN
    UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'generation'; END;
CREATE TRIGGER values_ins AFTER INSERT ON secret_values BEGIN
    UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'generation'; END;
CREATE TRIGGER values_upd AFTER UPDATE ON secret_values BEGIN
    UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'generation'; END;
CREATE TRIGGER values_del AFTER DELETE ON secret_values BEGIN
    UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'generation'; END;
CREATE TRIGGER sites_upd AFTER UPDATE ON sites BEGIN
    UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'generation'; END;
