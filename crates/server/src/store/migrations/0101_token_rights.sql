-- 101: a token's rights belong to the token, fixed when it is made. Before, admin and grants
-- were the user's, so a later `token:create U --admin` (or one with more grants) widened U's
-- existing tokens too. Existing tokens keep exactly what they could do; `users.admin` and
-- `grants` are no longer read.
ALTER TABLE tokens ADD COLUMN admin INTEGER NOT NULL DEFAULT 0;
CREATE TABLE token_grants (
    token TEXT NOT NULL REFERENCES tokens(hash) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('org', 'site')),
    target TEXT NOT NULL,
    PRIMARY KEY (token, kind, target)
);
UPDATE tokens SET admin = (SELECT u.admin FROM users u WHERE u.name = tokens.user);
INSERT INTO token_grants (token, kind, target)
    SELECT t.hash, g.kind, g.target FROM tokens t JOIN grants g ON g.user = t.user;
