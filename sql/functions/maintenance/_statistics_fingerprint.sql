-- The row versions of tables' planner statistics, one text per table (a
-- jsonb object: oid -> text): its pg_statistic rows (both inheritance
-- flags), those of its indexes (expression columns) and its extended
-- statistics' pg_statistic_ext_data rows, each with its xmin.  ANALYZE
-- writes every row it computes as a new version (a new xmin), so a
-- different text means the statistics were sampled again since the first
-- call (by autovacuum, another session, or a trigger of the ILS in this
-- one).  Used by _statistics_lookup() and _statistics_check(): a purge
-- batch whose relation was analyzed between the two cannot know what that
-- sample holds.  One query for all the tables.  Needs the right to read
-- pg_statistic (superusers).
CREATE OR REPLACE FUNCTION @extschema@._statistics_fingerprint(rels oid[]) RETURNS jsonb
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT coalesce(jsonb_object_agg(r, coalesce(f, '')), '{}')
      FROM (SELECT r, (SELECT string_agg(x, ',' ORDER BY x)
                         FROM (SELECT format('%s.%s.%s:%s', s.starelid, s.staattnum, s.stainherit, s.xmin)
                                 FROM pg_statistic s
                                WHERE s.starelid = r OR s.starelid IN (SELECT i.indexrelid FROM pg_index i WHERE i.indrelid = r)
                               UNION ALL
                               SELECT format('x%s.%s:%s', d.stxoid, d.stxdinherit, d.xmin)
                                 FROM pg_statistic_ext_data d JOIN pg_statistic_ext e ON e.oid = d.stxoid
                                WHERE e.stxrelid = r) t(x)) AS f
              FROM (SELECT DISTINCT unnest(rels) AS r) u) v
$$;

REVOKE ALL ON FUNCTION @extschema@._statistics_fingerprint(oid[]) FROM PUBLIC;
