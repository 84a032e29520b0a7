SET lock_timeout = '2s';
ALTER TABLE users ADD COLUMN c timestamptz NOT NULL DEFAULT now();
ALTER TABLE users ADD COLUMN d timestamptz DEFAULT current_timestamp;
ALTER TABLE users ADD COLUMN e text NOT NULL DEFAULT 'x'::text;