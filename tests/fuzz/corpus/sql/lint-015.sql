SET lock_timeout = '2s';
ALTER TABLE orders ADD CONSTRAINT positive CHECK (total > 0);