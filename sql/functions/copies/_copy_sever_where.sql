-- The rows of a copy binding that severing must change, among those the
-- filter picks: every one for 'delete', else those that still carry the
-- link or the patron.  The same condition decides, after the severing
-- statement, which rows it left identified (a BEFORE trigger of the ILS
-- returned NULL, or put the patron back): those become pending severs.
-- Only rows copy_when says are copies (_copy_when_sql), on every path.
CREATE OR REPLACE FUNCTION @extschema@._copy_sever_where(c @extschema@.copy_binding, filter text) RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT CASE
        WHEN c.sever_with = 'delete' THEN f.filter
        WHEN c.sever_with = 'unlink' THEN format('(%s) AND %s',
                                                 (SELECT string_agg(format('t.%I IS NOT NULL', k), ' OR ') FROM unnest(c.key_columns) k),
                                                 f.filter)
        WHEN c.sever_with = 'null' THEN format('t.%I IS NOT NULL AND %s', c.patron_column, f.filter)
        ELSE format('t.%I IS DISTINCT FROM %L AND %s', c.patron_column, substr(c.sever_with, 8), f.filter) END
      -- with several sources, a row another source holds identified is not
      -- severed; a row that is no copy (copy_when false) never is
      FROM (SELECT CASE WHEN c.more_sources IS NULL THEN _copy_sever_where.filter
                        ELSE format('(%s) AND NOT (%s)', _copy_sever_where.filter, @extschema@._copy_held(c, c.source)) END) f0(filter)
     CROSS JOIN LATERAL (SELECT CASE WHEN c.copy_when IS NULL THEN f0.filter
                                     ELSE format('%s AND (%s)', @extschema@._copy_when_sql(c), f0.filter) END) f(filter)
$$;

REVOKE ALL ON FUNCTION @extschema@._copy_sever_where(@extschema@.copy_binding,text) FROM PUBLIC;
