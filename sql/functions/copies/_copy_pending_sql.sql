-- Record the rows of a copy binding that severing left identified (among
-- those the filter picks) in sever_pending, where the maintenance pass
-- retries them (_retry_pending) and health() and the compliance report
-- count them.  binding is the copy relation; item is the row's key (the
-- source key it copies; of several columns, their text values as a text
-- array), by which the retry finds the rows again.
CREATE OR REPLACE FUNCTION @extschema@._copy_pending_sql(c @extschema@.copy_binding, filter text) RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT format('INSERT INTO @extschema@.sever_pending AS sp (binding, row_relid, row_tid, item, reason)
                   SELECT %s, t.tableoid, t.ctid, %s, %L FROM %s t WHERE %s
                   ON CONFLICT (binding, row_relid, row_tid) DO UPDATE
                      SET reason = EXCLUDED.reason, attempts = sp.attempts + 1, last_attempt = now()',
                  c.relation::oid,
                  CASE WHEN cardinality(c.key_columns) = 1 THEN format('t.%I::text', c.key_columns[1])
                       ELSE format('ARRAY[%s]::text', (SELECT string_agg(format('t.%I::text', k), ', ' ORDER BY n)
                                                         FROM unnest(c.key_columns) WITH ORDINALITY u(k, n))) END,
                  format('the %s of this copy with its source was skipped or undone by a trigger of %s',
                         CASE c.sever_with WHEN 'delete' THEN 'delete' WHEN 'unlink' THEN 'unlink' ELSE 'sever' END,
                         c.relation),
                  c.relation, @extschema@._copy_sever_where(c, filter))
$$;

REVOKE ALL ON FUNCTION @extschema@._copy_pending_sql(@extschema@.copy_binding,text) FROM PUBLIC;
