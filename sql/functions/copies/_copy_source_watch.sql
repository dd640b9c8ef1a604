-- What the copy-severing trigger on a source watches (src/copy_sever_cache.c):
-- the column whose change to NULL (or to the placeholder, sever_with
-- 'patron:<id>') means the source row lost its identity.  A loan binding:
-- its patron column.  A copy binding (a copy of a copy): its patron column
-- ('null', 'patron:<id>'), the first of its key columns ('unlink': severing
-- sets them all NULL; returned with sever_with 'null'); no column for
-- 'delete' and 'keep' (their rows go, or are never written: the DELETE and
-- key-change triggers do).  No row for a relation bound as neither.
CREATE OR REPLACE FUNCTION @extschema@._copy_source_watch(source regclass, OUT patron_column name, OUT sever_with text)
RETURNS SETOF record LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT l.patron_column, l.sever_with FROM @extschema@.loan_binding l WHERE l.relation = _copy_source_watch.source
    UNION ALL
    SELECT CASE WHEN c.sever_with = 'unlink' THEN c.key_columns[1]
                WHEN c.sever_with IN ('delete', 'keep') THEN NULL ELSE c.patron_column END,
           CASE WHEN c.sever_with = 'unlink' THEN 'null'
                WHEN c.sever_with IN ('delete', 'keep') THEN NULL ELSE c.sever_with END
      FROM @extschema@.copy_binding c WHERE c.relation = _copy_source_watch.source
$$;

REVOKE ALL ON FUNCTION @extschema@._copy_source_watch(regclass) FROM PUBLIC;
