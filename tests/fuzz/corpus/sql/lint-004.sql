SET lock_timeout = '2s';
CREATE INDEX CONCURRENTLY IF NOT EXISTS users_email ON users (email);