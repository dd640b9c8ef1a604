-- ANALYZE the given relations, and the inheritance parents above them
-- (their pg_stats rows with inherited = true sample the children): the
-- statistics PostgreSQL keeps (pg_statistic, pg_statistic_ext_data) are a
-- sample of the rows as they were at the last ANALYZE, so after a sever or
-- a purge they still hold what it removed (a severed notice's text, a
-- purged patron's card number) until autovacuum next analyzes the table,
-- which a few changed rows never trigger.  Called at the end of
-- sever_backlog() and purge_expired() (docs/statistics.md, "What the
-- planner's statistics keep").  A relation the caller may not analyze is
-- skipped by ANALYZE with a warning.  Returns the number analyzed.
CREATE OR REPLACE FUNCTION @extschema@._refresh_statistics(relations oid[]) RETURNS integer
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE r regclass; n integer := 0;
BEGIN
    FOR r IN WITH RECURSIVE up(rel) AS (
                 SELECT x FROM unnest(relations) x
                 UNION
                 SELECT i.inhparent FROM pg_inherits i JOIN up ON i.inhrelid = up.rel)
             SELECT c.oid::regclass FROM up JOIN pg_class c ON c.oid = up.rel
              WHERE c.relkind IN ('r', 'p', 'm') ORDER BY c.oid LOOP
        EXECUTE format('ANALYZE %s', r);
        n := n + 1;
    END LOOP;
    RETURN n;
END $$;

REVOKE ALL ON FUNCTION @extschema@._refresh_statistics(oid[]) FROM PUBLIC;
