-- Before a rebuild of the tracker of tracker key tk (a loan binding, or a
-- last-borrower group): point each pinned entry at its row again, found by
-- its key (tracker_pin), where a rewrite (VACUUM FULL, CLUSTER, a rewriting
-- ALTER TABLE), a partition replaced by a copy of its rows, or a dump and
-- restore (the entry is not there at all: last_borrower is not dumped) left
-- it naming another TID or file.  The row must be of the entry's item,
-- closed and identified, and the only row of its member with that key;
-- then the entry names it, pinned to its file as the live tracker pins
-- (and _tracker_pinned_sql keeps it); else the entry stays as it was and
-- the rebuild goes by the dates.  An entry the dates chose (not pinned) is
-- never taken, nor a tombstone (row_relid 0: the item has no last borrower
-- until its next close; a key left over must not give it one).  Pinned entries without a recorded key whose file still
-- holds their row get one first (pins of a relation given a primary key
-- since).  Returns the number of entries pointed anew.
CREATE OR REPLACE FUNCTION @extschema@._tracker_repin(tk oid) RETURNS bigint
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    b @extschema@.loan_binding;
    p record;
    e record;
    cols name[];
    n bigint;
    total bigint := 0;
BEGIN
    FOR e IN SELECT lb.item, lb.row_relid, lb.row_tid FROM @extschema@.last_borrower lb
              WHERE lb.binding = tk AND lb.pinned IS NOT NULL
                AND lb.pinned = pg_catalog.pg_relation_filenode(lb.row_relid)
                AND NOT EXISTS (SELECT FROM @extschema@.tracker_pin k
                                 WHERE k.binding = tk::regclass AND k.item = lb.item) LOOP
        PERFORM @extschema@._tracker_pin_write(tk, e.item, e.row_relid, e.row_tid);
    END LOOP;
    FOR b IN SELECT * FROM @extschema@.loan_binding l
              WHERE coalesce(l.last_borrower_group, l.relation)::oid = tk AND l.keep_last_borrower
                AND EXISTS (SELECT FROM pg_class c WHERE c.oid = l.relation::oid)
              ORDER BY l.relation::oid LOOP
        cols := @extschema@._row_key_columns(b.relation);
        CONTINUE WHEN cols IS NULL;
        p := @extschema@._loan_predicates(b, 't');
        EXECUTE format(
            'WITH found AS (
                 SELECT k.item, t.tableoid AS rid, t.ctid AS tid, count(*) OVER (PARTITION BY k.item) AS n
                   FROM @extschema@.tracker_pin k JOIN %2$s t ON %3$s
                  WHERE k.binding = $1::regclass AND k.relation = $2::regclass
                    AND t.%1$I::text = k.item AND %4$s AND %5$s)
             INSERT INTO @extschema@.last_borrower AS lb (binding, item, row_relid, row_tid, pinned)
             SELECT $1, f.item, f.rid, f.tid, pg_catalog.pg_relation_filenode(f.rid) FROM found f WHERE f.n = 1
             ON CONFLICT (binding, item) DO UPDATE
                SET row_relid = EXCLUDED.row_relid, row_tid = EXCLUDED.row_tid, pinned = EXCLUDED.pinned
              WHERE lb.pinned IS NOT NULL AND lb.row_relid <> 0
                AND (lb.row_relid, lb.row_tid, lb.pinned) IS DISTINCT FROM (EXCLUDED.row_relid, EXCLUDED.row_tid, EXCLUDED.pinned)',
            b.item_column, b.relation,
            (SELECT string_agg(format('t.%1$I = (k.key ->> %1$L)::%2$s', a.attname, format_type(a.atttypid, a.atttypmod)),
                               ' AND ' ORDER BY c.o)
               FROM unnest(cols) WITH ORDINALITY AS c (name, o)
               JOIN pg_catalog.pg_attribute a ON a.attrelid = b.relation AND a.attname = c.name),
            p.closed, p.identified)
            USING tk, b.relation::oid;
        GET DIAGNOSTICS n = ROW_COUNT;
        total := total + n;
    END LOOP;
    RETURN total;
END $$;

REVOKE ALL ON FUNCTION @extschema@._tracker_repin(oid) FROM PUBLIC;
