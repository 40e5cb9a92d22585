-- 100: a UUID for each organization and site besides its name (Pantheon's tools put UUIDs in
-- URLs, people type names; either names the same one). Existing rows get a random version-4
-- UUID; new rows get theirs from the service, or from the operator for an import.
ALTER TABLE orgs ADD COLUMN uuid TEXT;
ALTER TABLE sites ADD COLUMN uuid TEXT;
UPDATE orgs SET uuid = lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2)
    || '-' || substr('89ab', 1 + abs(random()) % 4, 1) || substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6)));
UPDATE sites SET uuid = lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2)
    || '-' || substr('89ab', 1 + abs(random()) % 4, 1) || substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6)));
CREATE UNIQUE INDEX orgs_uuid ON orgs(uuid);
CREATE UNIQUE INDEX sites_uuid ON sites(uuid);
