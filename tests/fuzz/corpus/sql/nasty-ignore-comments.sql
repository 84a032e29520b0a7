-- wesley-lint: ignore index-not-concurrent
CREATE INDEX i ON users (email);
-- wesley-lint: ignore all
ALTER TABLE users ADD COLUMN n int NOT NULL;
-- wesley-lint: ignore 
-- wesley-lint: ignore ,,,,
DROP TABLE t;
/* wesley-lint: ignore destructive */ TRUNCATE t;
-- wesley-lint:ignore missing-lock-timeout,destructive,rename
ALTER TABLE t RENAME TO u;