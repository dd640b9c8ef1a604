-- The rows of a copy binding that severing must change, among those the
-- filter picks: every one for 'delete', else those that still carry the
-- link or the patron.  The same condition decides, after the severing
-- statement, which rows it left identified (a BEFORE trigger of the ILS
-- returned NULL, or put the patron back): those become pending severs.
CREATE OR REPLACE FUNCTION @extschema@._copy_sever_where(c @extschema@.copy_binding, filter text) RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT CASE
        WHEN c.sever_with = 'delete' THEN filter
        WHEN c.sever_with = 'unlink' THEN format('(%s) AND %s',
                                                 (SELECT string_agg(format('t.%I IS NOT NULL', k), ' OR ') FROM unnest(c.key_columns) k),
                                                 filter)
        WHEN c.sever_with = 'null' THEN format('t.%I IS NOT NULL AND %s', c.patron_column, filter)
        ELSE format('t.%I IS DISTINCT FROM %L AND %s', c.patron_column, substr(c.sever_with, 8), filter) END
      -- with several sources, a row another source holds identified is not severed
      FROM (SELECT CASE WHEN c.more_sources IS NULL THEN filter
                        ELSE format('(%s) AND NOT (%s)', filter, @extschema@._copy_held(c, c.source)) END) f(filter)
$$;

REVOKE ALL ON FUNCTION @extschema@._copy_sever_where(@extschema@.copy_binding,text) FROM PUBLIC;
