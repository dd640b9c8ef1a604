-- ANALYZE the given relations, their inheritance children (not partitions:
-- analyzed with their parent), and the inheritance parents above them
-- (their pg_stats rows with inherited = true sample the children): the
-- statistics PostgreSQL keeps (pg_statistic, pg_statistic_ext_data) are a
-- sample of the rows as they were at the last ANALYZE, so after a sever, a
-- purge or a retention run they still hold what it removed (a severed
-- notice's text, a purged patron's card number, a deleted sign-up) until
-- autovacuum next analyzes the table, which a few changed rows never
-- trigger.  ANALYZE of a table that has no row left keeps the old
-- statistics (it has nothing to compute new ones from): those are deleted.
-- Called at the end of sever_backlog(), purge_expired() and
-- apply_retention() (docs/maintenance.md, "Statistics").  A relation the
-- caller may not analyze is skipped by ANALYZE with a warning.  Returns the
-- number analyzed.
CREATE OR REPLACE FUNCTION @extschema@._refresh_statistics(relations oid[]) RETURNS integer
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE r regclass; t regclass; n integer := 0; empty boolean;
BEGIN
    FOR r IN WITH RECURSIVE down(rel) AS (
                 SELECT x FROM unnest(relations) x
                 UNION
                 -- inheritance children (made after binding too): ANALYZE of
                 -- the parent samples them for its inherited statistics but
                 -- leaves their own; partitions go with their parent
                 SELECT i.inhrelid FROM pg_inherits i JOIN down ON i.inhparent = down.rel
                  JOIN pg_class c ON c.oid = i.inhrelid AND NOT c.relispartition),
             up(rel) AS (
                 SELECT rel FROM down
                 UNION
                 SELECT i.inhparent FROM pg_inherits i JOIN up ON i.inhrelid = up.rel)
             SELECT c.oid::regclass FROM up JOIN pg_class c ON c.oid = up.rel
              WHERE c.relkind IN ('r', 'p', 'm') ORDER BY c.oid LOOP
        EXECUTE format('ANALYZE %s', r);
        -- the relation, and each partition of it, that has no row left
        FOR t IN SELECT c.oid FROM pg_class c
                  WHERE c.oid IN (SELECT r UNION SELECT x.relid FROM pg_partition_tree(r) x)
                    AND c.relkind IN ('r', 'p', 'm') LOOP
            EXECUTE format('SELECT NOT EXISTS (SELECT FROM %s)', t) INTO empty;
            IF empty AND (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
                DELETE FROM pg_statistic s WHERE s.starelid = t;
                DELETE FROM pg_statistic_ext_data d
                 WHERE d.stxoid IN (SELECT x.oid FROM pg_statistic_ext x WHERE x.stxrelid = t);
            END IF;
        END LOOP;
        n := n + 1;
    END LOOP;
    RETURN n;
END $$;

REVOKE ALL ON FUNCTION @extschema@._refresh_statistics(oid[]) FROM PUBLIC;
