SET lock_timeout = '2s';

  CREATE UNIQUE INDEX users_email ON users (email);