-- 200: a token may expire (`token:create --expires`); NULL never expires. An expired token is
-- refused like an unknown one; `token:revoke` deletes the row (its grants go with it).
ALTER TABLE tokens ADD COLUMN expires_at TEXT;
