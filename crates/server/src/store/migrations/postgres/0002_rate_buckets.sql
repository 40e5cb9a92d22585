-- 2 (SQLite's 0300): the management API's rate limit (a token bucket per user) kept in the
-- database, so that every replica spends one budget. `at` is when the bucket was last refilled,
-- in seconds since the Unix epoch.
CREATE TABLE rate_buckets (
    name TEXT COLLATE "C" PRIMARY KEY,
    tokens DOUBLE PRECISION NOT NULL,
    at DOUBLE PRECISION NOT NULL
);
