SET lock_timeout = '2s';
ALTER TABLE users ADD COLUMN f int DEFAULT my_func();