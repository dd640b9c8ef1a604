-- test/copy/fixture.sql: the set-up the derived-copy suites that commit
-- share (test/sql/identity_copy_chain.sql, identity_copy_when.sql,
-- identity_copy_tomb.sql), included with \i by each, which sets first
-- :cp_db (its database), :cp_schema (its schema) and :cp_roles (the prefix
-- of its roles: :cp_staff, <prefix>_staff, and :cp_ils, <prefix>_ils).  Not
-- a suite itself (pg_regress runs test/sql/*.sql only).
--
-- The backlog and the purge commit, so each suite gets a database of its
-- own, with the extension and pgTAP; the two roles (made if missing); the
-- schema with the patron table :cp_schema.patrons (id, expires, 'infinity'
-- by default), empty; and two helpers:
--   pg_temp.v(role, query)  the query's one value as the role reads it;
--   pg_temp.err(statement)  its error, "SQLSTATE message", or 'ok'.
-- After its bindings the suite includes test/copy/grants.sql (the roles'
-- grants and classes), at its end test/copy/done.sql.
SELECT :'cp_roles' || '_staff' AS cp_staff, :'cp_roles' || '_ils' AS cp_ils \gset
\set own_db :cp_db
\set own_roles :cp_staff ' ' :cp_ils
\i test/own_database.sql
CREATE EXTENSION pals_privacy;
CREATE EXTENSION pgtap;
CREATE SCHEMA :cp_schema;
CREATE TABLE :cp_schema.patrons (id bigint PRIMARY KEY, expires date NOT NULL DEFAULT 'infinity');
CREATE FUNCTION pg_temp.v(who text, query text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE r text;
BEGIN
    EXECUTE format('SET LOCAL ROLE %I', who);
    EXECUTE query INTO r;
    RESET ROLE;
    RETURN r;
END $$;
CREATE FUNCTION pg_temp.err(query text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE query;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ' ' || SQLERRM;
END $$;
