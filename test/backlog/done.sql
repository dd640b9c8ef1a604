\set ECHO none
-- test/backlog/done.sql (see fixture.sql): unbind and drop the suite's
-- schema, and forget the backlog's progress
\set unbind_schema :bl_schema
\i test/unbind_schema.sql
DELETE FROM pals_privacy.backlog_progress;
\set ECHO all
