-- Prelude for wesley-examples/rpc-example.graphql.
-- Why: the Post policies call Supabase's auth.uid(), which a Supabase
-- database provides and a plain PostgreSQL does not. This stub `auth`
-- schema stands in for it, outside schema public (the catalog comparison
-- looks at public only), so the example's schema.sql applies unchanged.
CREATE SCHEMA auth;
CREATE FUNCTION auth.uid () RETURNS uuid LANGUAGE sql STABLE
    AS $$ SELECT nullif (current_setting ('request.jwt.claim.sub', true), '')::uuid $$;
CREATE FUNCTION auth.role () RETURNS text LANGUAGE sql STABLE
    AS $$ SELECT coalesce (nullif (current_setting ('request.jwt.claim.role', true), ''), 'anon') $$;
