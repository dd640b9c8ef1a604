\set own_echo :ECHO
\set ECHO none
-- test/own_database.sql: a database of the suite's own, for a suite whose work commits (no
-- transaction rolls it back), included with \i after \set own_db (the database) and, where the
-- suite needs roles, own_roles (their names, separated by spaces) and own_role_options (what
-- CREATE ROLE gives each, LOGIN say; none when unset).  Drops own_db if it exists, creates it
-- and connects to it with client_min_messages = warning; creates each of own_roles that is
-- missing (roles belong to the cluster: a role another suite left is kept as it is); sets
-- own_home to the database the suite started in, which its end returns to before it drops
-- own_db (\c :own_home).  Echo is off while it runs; output goes where the suite sent it.
-- Used by test/sql/drop_extension_commit.sql, attack_session8.sql, identity_walk.sql,
-- test/{shelf,koha,evergreen}/setup.sql and test/{attack,copy}/fixture.sql.  Not a suite itself.
SELECT current_database() AS own_home \gset
SET client_min_messages = warning;
DROP DATABASE IF EXISTS :own_db WITH (FORCE);
CREATE DATABASE :own_db;
\c :own_db
SET client_min_messages = warning;
\if :{?own_roles}
\if :{?own_role_options}
\else
\set own_role_options ''
\endif
SELECT format('CREATE ROLE %I %s', r, :'own_role_options') FROM regexp_split_to_table(:'own_roles', ' +') r
 WHERE r <> '' AND NOT EXISTS (SELECT FROM pg_roles WHERE rolname = r) \gexec
\endif
\set ECHO :own_echo
