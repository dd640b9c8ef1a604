\set ECHO none
-- test/purge/done.sql (see fixture.sql): unbind and drop the suite's schema,
-- forget the maintenance runs, and check that nothing is left bound
\set unbind_schema :pu_schema
\i test/unbind_schema.sql
DELETE FROM pals_privacy.maintenance_runs;
SELECT is((SELECT count(*) FROM pals_privacy.bindings) + (SELECT count(*) FROM pals_privacy.sever_pending),
          0::bigint, 'nothing left bound, no severing state left');
\set ECHO all
