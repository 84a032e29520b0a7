SET lock_timeout = '2s';
ALTER TABLE users ADD COLUMN flag boolean NOT NULL DEFAULT false;