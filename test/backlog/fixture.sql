\set ECHO none
-- test/backlog/fixture.sql: the set-up the suites of the backlog's walk
-- share (test/sql/backlog_rewrite.sql, backlog_walk.sql), included with \i
-- after \set bl_schema (the suite's schema) and bl_patrons (its last
-- patron id), before the suite's plan.  Not a suite itself.  The extension
-- (terse errors), the schema, its patron table (ids 0 to :bl_patrons), and
-- :walk_loans, the rest of a CREATE TABLE of a loan relation as the suites
-- walk it: id, patron_id, item_id, returned (closed), paid (settled), no
-- autovacuum (the rows stay where the suite put them).  The suites commit:
-- test/backlog/done.sql unbinds and drops it all.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pals_privacy;
\set VERBOSITY terse
CREATE SCHEMA :bl_schema;
CREATE TABLE :bl_schema.patrons (id bigint PRIMARY KEY, expires date NOT NULL DEFAULT 'infinity');
INSERT INTO :bl_schema.patrons (id) SELECT generate_series(0, :bl_patrons);
\set walk_loans '(id int PRIMARY KEY, patron_id bigint, item_id int, returned timestamptz, paid timestamptz) WITH (autovacuum_enabled = false)'
\set ECHO all
