-- The query of the items whose tracker entry (tracker key tk: one binding,
-- or a last-borrower group) a rebuild keeps: an entry chosen against the
-- dates (last_borrower.pinned: a close by a class that reads history
-- redacted kept the row it closed, sever.c) whose row is still there, in
-- the file the entry recorded (no VACUUM FULL, CLUSTER or TRUNCATE since:
-- else _tracker_repin, run first, pointed it at the row found by its key),
-- of the entry's item, closed and identified.  Rebuilt by the dates alone,
-- such an item would get back the hidden, identified row the desk's
-- back-dated close passed over.  And a tombstone (row_relid 0, pinned:
-- src/tombstone.c), which a rebuild by the dates would replace by the
-- item's latest remaining row.  Column item (text).
CREATE OR REPLACE FUNCTION @extschema@._tracker_pinned_sql(tk oid) RETURNS text
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    b @extschema@.loan_binding;
    p record;
    parts text[] := '{}';
BEGIN
    FOR b IN SELECT * FROM @extschema@.loan_binding l
              WHERE coalesce(l.last_borrower_group, l.relation)::oid = tk AND l.keep_last_borrower
                AND EXISTS (SELECT FROM pg_class c WHERE c.oid = l.relation::oid)
              ORDER BY l.relation::oid LOOP
        p := @extschema@._loan_predicates(b, 't');
        parts := parts || format(
            'SELECT lb.item FROM @extschema@.last_borrower lb JOIN %2$s t ON t.tableoid = lb.row_relid AND t.ctid = lb.row_tid
              WHERE lb.binding = %3$s AND lb.pinned = pg_catalog.pg_relation_filenode(lb.row_relid)
                AND t.%1$I::text = lb.item AND %4$s AND %5$s',
            b.item_column, b.relation, tk, p.closed, p.identified);
    END LOOP;
    IF cardinality(parts) = 0 THEN
        RETURN 'SELECT NULL::text AS item WHERE false';
    END IF;
    -- a tombstone (src/tombstone.c: the item's last-borrower row was deleted,
    -- re-opened or moved; no last borrower until its next close) is kept too
    parts := parts || format(
        'SELECT lb.item FROM @extschema@.last_borrower lb
          WHERE lb.binding = %s AND lb.row_relid = 0 AND lb.pinned IS NOT NULL', tk);
    RETURN array_to_string(parts, ' UNION ALL ');
END $$;

REVOKE ALL ON FUNCTION @extschema@._tracker_pinned_sql(oid) FROM PUBLIC;
