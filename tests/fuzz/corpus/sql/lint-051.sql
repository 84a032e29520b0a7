SET lock_timeout TO '1s';
ALTER TABLE a ADD COLUMN x int;
RESET lock_timeout;
DROP TABLE a;