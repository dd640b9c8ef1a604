-- Build the tracker of one loan binding at bind time: each item's latest
-- closed row, if it still has its patron.  Returns the number of items
-- tracked.  The loan relation is locked against writes meanwhile (SHARE),
-- so no return races it.  (Deploy's _restore_tracker() also queues the
-- rows that are no item's last borrower for severing, which binding must
-- not do before the DBA has run the backlog.)
CREATE OR REPLACE FUNCTION @extschema@._build_tracker(relation regclass) RETURNS bigint
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    b @extschema@.loan_binding;
    p record;
    order_expr text;
    n bigint;
    total bigint := 0;
BEGIN
    PERFORM @extschema@._require_admin('rebuild_tracker');
    FOR b IN SELECT * FROM @extschema@.loan_binding l
              WHERE l.relation = _build_tracker.relation
              ORDER BY l.relation::oid LOOP
        DELETE FROM @extschema@.last_borrower lb WHERE lb.binding = b.relation;
        CONTINUE WHEN NOT b.keep_last_borrower;
        EXECUTE format('LOCK TABLE %s IN SHARE MODE', b.relation);
        p := @extschema@._loan_predicates(b, 't');
        order_expr := CASE WHEN cardinality(b.closed_columns) = 1 THEN format('t.%I', b.closed_columns[1])
                           ELSE format('GREATEST(%s)', (SELECT string_agg(format('t.%I', c), ', ')
                                                         FROM unnest(b.closed_columns) c)) END;
        -- the same order as the severing trigger and the backlog: latest
        -- closed first, ties to the highest relation and TID
        EXECUTE format(
            'INSERT INTO @extschema@.last_borrower (binding, item, row_relid, row_tid)
             SELECT $1, item, rid, tid FROM (
                 SELECT DISTINCT ON (t.%1$I) t.%1$I::text AS item, t.tableoid AS rid, t.ctid AS tid, %5$s AS identified
                   FROM %2$s t
                  WHERE t.%1$I IS NOT NULL AND %3$s
                  ORDER BY t.%1$I, %4$s DESC, t.tableoid DESC, t.ctid DESC) s
              WHERE identified
             ON CONFLICT (binding, item) DO NOTHING',
            b.item_column, b.relation, p.closed, order_expr, p.identified)
            USING b.relation;
        GET DIAGNOSTICS n = ROW_COUNT;
        total := total + n;
    END LOOP;
    RETURN total;
END $$;

REVOKE ALL ON FUNCTION @extschema@._build_tracker(regclass) FROM PUBLIC;
