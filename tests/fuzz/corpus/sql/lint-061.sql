SET lock_timeout = '2s';
CREATE INDEX i ON t (a);