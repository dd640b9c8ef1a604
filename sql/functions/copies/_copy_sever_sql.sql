-- The SET clause (or DELETE) that severs rows of a copy binding.  A copy
-- with several sources: only rows no other source than c.source holds
-- identified (a loan moved from issues to old_issues keeps its fine's link).
CREATE OR REPLACE FUNCTION @extschema@._copy_sever_sql(c @extschema@.copy_binding, filter text) RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT CASE
        WHEN c.sever_with = 'delete' THEN format('DELETE FROM %s t WHERE %s', c.relation, filter)
        -- the link is the key columns, and every column of a foreign key they are part of
        -- (fines(loan_id, loan_checked_out_at): a checkout time alone finds the loan again)
        WHEN c.sever_with = 'unlink' THEN format('UPDATE %s t SET %s WHERE (%s) AND %s',
                                                 c.relation, @extschema@._copy_link_set(c.relation, c.key_columns),
                                                 (SELECT string_agg(format('t.%I IS NOT NULL', k), ' OR ') FROM unnest(c.key_columns) k),
                                                 filter)
        WHEN c.sever_with = 'null' THEN format('UPDATE %s t SET %I = NULL WHERE t.%I IS NOT NULL AND %s',
                                               c.relation, c.patron_column, c.patron_column, filter)
        ELSE format('UPDATE %s t SET %I = %L WHERE t.%I IS DISTINCT FROM %L AND %s', c.relation, c.patron_column,
                    substr(c.sever_with, 8), c.patron_column, substr(c.sever_with, 8), filter) END
      FROM (SELECT CASE WHEN c.more_sources IS NULL THEN filter
                        ELSE format('(%s) AND NOT (%s)', filter, @extschema@._copy_held(c, c.source)) END) f(filter)
$$;

REVOKE ALL ON FUNCTION @extschema@._copy_sever_sql(@extschema@.copy_binding,text) FROM PUBLIC;
