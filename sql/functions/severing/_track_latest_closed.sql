-- Fill the tracker of one loan binding from the rows as they are: each
-- item's latest closed row, if it still names a patron.  The same order as
-- the severing trigger and the backlog: latest closed first, ties to the
-- highest relation and TID.  The caller has emptied the binding's tracker
-- and decides the lock.  Returns the number of items tracked.
CREATE OR REPLACE FUNCTION @extschema@._track_latest_closed(b @extschema@.loan_binding) RETURNS bigint
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    p record := @extschema@._loan_predicates(b, 't');
    order_expr text;
    n bigint;
BEGIN
    order_expr := CASE WHEN cardinality(b.closed_columns) = 1 THEN format('t.%I', b.closed_columns[1])
                       ELSE format('GREATEST(%s)', (SELECT string_agg(format('t.%I', c), ', ')
                                                     FROM unnest(b.closed_columns) c)) END;
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
    RETURN n;
END $$;

REVOKE ALL ON FUNCTION @extschema@._track_latest_closed(@extschema@.loan_binding) FROM PUBLIC;
