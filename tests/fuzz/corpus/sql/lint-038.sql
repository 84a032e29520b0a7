SET lock_timeout = '2s';
ALTER TABLE users ADD COLUMN n bigserial;
ALTER TABLE users ADD COLUMN r float8 DEFAULT random() * 2;
ALTER TABLE users ADD COLUMN g int GENERATED ALWAYS AS IDENTITY;
ALTER TABLE users ADD COLUMN u uuid DEFAULT uuid_generate_v4();