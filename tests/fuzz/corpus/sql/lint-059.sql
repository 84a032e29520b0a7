SET lock_timeout = '2s';
-- reviewed: the table is tiny
-- wesley-lint: ignore index-not-concurrent, missing-lock-timeout
CREATE INDEX a ON t (x);
CREATE INDEX b ON t (y);
-- wesley-lint: ignore all

CREATE INDEX c ON t (z);