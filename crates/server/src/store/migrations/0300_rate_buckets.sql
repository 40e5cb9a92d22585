-- 300: the management API's rate limit (a token bucket per user) kept in the database, so that
-- every `serve` sharing it (replicas over one PostgreSQL database) spends one budget. `at` is
-- when the bucket was last refilled, in seconds since the Unix epoch.
CREATE TABLE rate_buckets (name TEXT PRIMARY KEY, tokens REAL NOT NULL, at REAL NOT NULL);
