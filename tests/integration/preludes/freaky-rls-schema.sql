-- Prelude for wesley-examples/freaky-rls-schema.graphql.
-- Why, 1: the policies call Supabase's auth.uid() and auth.role(), which a
-- Supabase database provides and a plain PostgreSQL does not: a stub `auth`
-- schema stands in for them.
-- Why, 2: the policies name tables the schema does not define. The types
-- OrganizationAdmin, DepartmentMember, DepartmentManager, Department and
-- Employee become the tables organization_admin, department_member, ... (the
-- snake_case of the type name), but the policy texts say organization_admins,
-- department_members, department_managers, departments and employees, and
-- MeetingEngagement's policy reads a `meetings` table that does not exist at
-- all. CREATE POLICY resolves those names when it runs, so stub tables with
-- the columns the policies use are created in a schema of their own,
-- `wes_prelude`, which goes on the database's search_path after public.
-- Nothing here is in schema public, which the catalog comparison reads.
CREATE SCHEMA auth;
CREATE FUNCTION auth.uid () RETURNS uuid LANGUAGE sql STABLE
    AS $$ SELECT nullif (current_setting ('request.jwt.claim.sub', true), '')::uuid $$;
CREATE FUNCTION auth.role () RETURNS text LANGUAGE sql STABLE
    AS $$ SELECT coalesce (nullif (current_setting ('request.jwt.claim.role', true), ''), 'anon') $$;

CREATE SCHEMA wes_prelude;
CREATE TABLE wes_prelude.organization_admins (user_id uuid, org_id uuid);
CREATE TABLE wes_prelude.department_members (user_id uuid, dept_id uuid, organization_id uuid);
CREATE TABLE wes_prelude.department_managers (user_id uuid, dept_id uuid);
CREATE TABLE wes_prelude.departments (id uuid, organization_id uuid);
CREATE TABLE wes_prelude.employees (user_id uuid, surveillance_level integer);
CREATE TABLE wes_prelude.meetings (id uuid, organizer_user_id uuid);

-- Every later session in this database (psql -f schema.sql) finds them.
DO $$
BEGIN
    EXECUTE format ('ALTER DATABASE %I SET search_path = public, wes_prelude',
                    current_database ());
END
$$;
