-- The severing statement of a copy binding (_copy_sever_sql) that also says
-- whether it did all it should: one row, (rows to sever before it ran, rows
-- it severed).  Fewer severed than there were to sever means the ILS kept
-- some (a BEFORE trigger returned NULL: a notice kept while its bill is
-- open) or put the patron back: the caller then records what is left
-- (_copy_pending_sql), never silently.
CREATE OR REPLACE FUNCTION @extschema@._copy_sever_checked_sql(c @extschema@.copy_binding, filter text) RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT format('WITH s AS (%s RETURNING %s AS still) '
                  'SELECT (SELECT count(*) FROM %s t WHERE %s) AS expected, count(*) FILTER (WHERE NOT s.still) AS done FROM s',
                  @extschema@._copy_sever_sql(c, filter),
                  -- a row the statement changed still carries the link or the
                  -- patron (a BEFORE UPDATE trigger put it back); a deleted row does not
                  CASE WHEN c.sever_with = 'delete' THEN 'false'
                       ELSE format('coalesce(%s, false)', @extschema@._copy_sever_where(c, filter)) END,
                  c.relation, @extschema@._copy_sever_where(c, filter))
$$;

REVOKE ALL ON FUNCTION @extschema@._copy_sever_checked_sql(@extschema@.copy_binding,text) FROM PUBLIC;
