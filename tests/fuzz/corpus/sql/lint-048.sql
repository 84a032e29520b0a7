SET LOCAL lock_timeout = '2s';
ALTER TABLE c ADD COLUMN z int;
