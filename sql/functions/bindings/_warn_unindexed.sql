-- Severing and purge look rows up by this column: without an index each
-- lookup reads the whole table.  Judged on the tables that hold the rows: an
-- inheritance parent's or a partitioned table's own index is no use to the
-- children (an inheritance parent's index covers none of them), so for a
-- parent the children or partitions without one are named.
CREATE OR REPLACE FUNCTION @extschema@._warn_unindexed(fn text, rel regclass, col name, why text) RETURNS void
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    partitioned boolean := (SELECT relkind = 'p' FROM pg_class WHERE oid = rel);
    parent boolean := EXISTS (SELECT FROM pg_inherits WHERE inhparent = rel);
    own_rows boolean := true;
    lacking regclass[];
BEGIN
    IF parent AND NOT partitioned THEN
        -- an inheritance parent often holds no row itself (a trigger routes
        -- them to the children): then it needs no index either
        EXECUTE format('SELECT EXISTS (SELECT FROM ONLY %s)', rel) INTO own_rows;
    END IF;
    WITH RECURSIVE tree (relid) AS (
        SELECT rel::oid
        UNION ALL
        SELECT i.inhrelid FROM pg_inherits i JOIN tree t ON i.inhparent = t.relid)
    SELECT array_agg(t.relid::regclass ORDER BY t.relid::regclass::text) INTO lacking
      FROM tree t JOIN pg_class c ON c.oid = t.relid
     WHERE c.relkind = 'r'                          -- partitioned and foreign tables have no rows to index
       AND (t.relid <> rel OR own_rows)
       AND NOT EXISTS (SELECT FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
                        WHERE i.indrelid = t.relid AND a.attname = col AND i.indpred IS NULL);
    IF lacking IS NULL THEN
        RETURN;
    END IF;
    IF NOT parent THEN
        RAISE NOTICE '%: column "%" of "%" has no index', fn, col, rel
            USING DETAIL = format('%s reads every row of the table without one.', why),
                  HINT = format('CREATE INDEX ON %s (%I);', rel, col);
    ELSIF partitioned THEN
        RAISE NOTICE '%: column "%" of "%" has no index in the tables that hold its rows: %', fn, col, rel,
                     array_to_string(lacking, ', ')
            USING DETAIL = format('%s reads every row of those partitions without one.', why),
                  HINT = format('CREATE INDEX ON %s (%I); on the partitioned table: it creates one on each partition that lacks it, and on partitions attached later.', rel, col);
    ELSE
        RAISE NOTICE '%: column "%" of "%" has no index in the tables that hold its rows: %', fn, col, rel,
                     array_to_string(lacking, ', ')
            USING DETAIL = format('%s reads every row of those tables without one; an index on an inheritance parent covers none of its children.', why),
                  HINT = (SELECT string_agg(format('CREATE INDEX ON %s (%I);', r, col), ' ' ORDER BY ord)
                            FROM unnest(lacking) WITH ORDINALITY u (r, ord))
                         || ' (on each child: a child added later needs one too)';
    END IF;
END $$;

REVOKE ALL ON FUNCTION @extschema@._warn_unindexed(text,regclass,name,text) FROM PUBLIC;
