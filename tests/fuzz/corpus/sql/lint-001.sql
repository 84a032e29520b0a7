SET lock_timeout = '2s';
SET lock_timeout = '2s';
