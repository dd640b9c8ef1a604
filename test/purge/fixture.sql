\set ECHO none
-- test/purge/fixture.sql: the set-up the purge suites that keep rows from
-- their sever share (test/sql/purge_batch.sql, purge_copies.sql), included
-- with \i after \set pu_schema (the suite's schema), before the suite's
-- plan.  Not a suite itself.  The extension (terse errors), the schema, and
-- :pu_schema.keep_disputed(), a BEFORE DELETE trigger function of the ILS
-- that keeps a row whose column disputed is true.  The purge commits:
-- test/purge/done.sql unbinds and drops it all.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pals_privacy;
\set VERBOSITY terse
CREATE SCHEMA :pu_schema;
CREATE FUNCTION :pu_schema.keep_disputed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.disputed THEN
        RETURN NULL;
    END IF;
    RETURN OLD;
END $$;
\set ECHO all
