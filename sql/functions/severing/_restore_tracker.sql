-- Each item's last borrower, from the rows as they are (after a restore, or
-- when the tracker is in doubt): the latest closed row of each item, if it
-- still names a patron.  Closed, settled rows that still name a patron and
-- are not their item's last borrower are queued in sever_pending, for
-- maintenance to sever (or keep, for a patron who opted in).
-- Returns the number of items tracked.  (Internal: the restore calls it;
-- the identity helper's rebuild_tracker() is the public, bind-time build.)
CREATE OR REPLACE FUNCTION @extschema@._restore_tracker(relation regclass DEFAULT NULL) RETURNS bigint
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    b @extschema@.loan_binding;
    p record;
    order_expr text;
    n bigint;
    total bigint := 0;
BEGIN
    PERFORM @extschema@._require_admin('_restore_tracker');
    IF relation IS NOT NULL AND NOT EXISTS (SELECT FROM @extschema@.loan_binding l WHERE l.relation = _restore_tracker.relation) THEN
        RAISE EXCEPTION '_restore_tracker: "%" is not bound as loans', relation
            USING ERRCODE = 'undefined_object', HINT = 'See SELECT * FROM pals_privacy.bindings WHERE kind = ''loans''.';
    END IF;
    FOR b IN SELECT * FROM @extschema@.loan_binding l
              WHERE (_restore_tracker.relation IS NULL OR l.relation = _restore_tracker.relation)
                AND EXISTS (SELECT FROM pg_class c WHERE c.oid = l.relation::oid) LOOP
        p := @extschema@._loan_predicates(b, 't');
        order_expr := CASE WHEN cardinality(b.closed_columns) = 1 THEN format('t.%I', b.closed_columns[1])
                           ELSE format('GREATEST(%s)', (SELECT string_agg(format('t.%I', c), ', ')
                                                         FROM unnest(b.closed_columns) c)) END;
        DELETE FROM @extschema@.last_borrower l WHERE l.binding = b.relation;
        IF b.keep_last_borrower THEN
            EXECUTE format(
                'INSERT INTO @extschema@.last_borrower (binding, item, row_relid, row_tid)
                 SELECT $1, item, rid, tid FROM (
                     SELECT DISTINCT ON (t.%1$I) t.%1$I::text AS item, t.tableoid AS rid, t.ctid AS tid, %4$s AS identified
                       FROM %2$s t WHERE t.%1$I IS NOT NULL AND %3$s
                      ORDER BY t.%1$I, %5$s DESC, t.tableoid DESC, t.ctid DESC) s
                  WHERE identified',
                b.item_column, b.relation, p.closed, p.identified, order_expr) USING b.relation::oid;
            GET DIAGNOSTICS n = ROW_COUNT;
            total := total + n;
        END IF;
        EXECUTE format(
            'INSERT INTO @extschema@.sever_pending (binding, row_relid, row_tid, item, reason)
             SELECT $1, t.tableoid, t.ctid, t.%1$I::text, %6$L
               FROM %2$s t
              WHERE %3$s AND %4$s AND %5$s
                AND NOT EXISTS (SELECT FROM @extschema@.last_borrower l
                                 WHERE l.binding = $1 AND l.row_relid = t.tableoid AND l.row_tid = t.ctid)
             ON CONFLICT DO NOTHING',
            b.item_column, b.relation, p.closed, p.settled, p.identified,
            'tracker rebuilt: closed and settled, still identified') USING b.relation::oid;
    END LOOP;
    RETURN total;
END $$;

REVOKE ALL ON FUNCTION @extschema@._restore_tracker(regclass) FROM PUBLIC;
