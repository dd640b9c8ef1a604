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
        -- (a binding of a last-borrower group: the group's entries, rebuilt
        -- across every member, as often as the group has members)
        -- (an entry chosen against the dates is kept while its row is live:
        -- _tracker_pinned_sql; after a restore the tracker is empty: the
        -- pinned entries come back from their keys, tracker_pin, which is
        -- dumped: _tracker_repin)
        PERFORM @extschema@._tracker_repin(coalesce(b.last_borrower_group, b.relation)::oid);
        EXECUTE format('DELETE FROM @extschema@.last_borrower lb WHERE lb.binding = $1
                          AND NOT (%L::boolean AND lb.item = ANY (ARRAY(%s)))',
                       b.keep_last_borrower, @extschema@._tracker_pinned_sql(coalesce(b.last_borrower_group, b.relation)::oid))
            USING coalesce(b.last_borrower_group, b.relation)::oid;
        IF b.keep_last_borrower THEN
            total := total + @extschema@._track_latest_closed(b);
        END IF;
        PERFORM @extschema@._tracker_unpin_stale(coalesce(b.last_borrower_group, b.relation)::oid);
        -- (the files the entries' TIDs refer to now: tracker_file)
        PERFORM @extschema@._tracker_file_record(coalesce(b.last_borrower_group, b.relation)::oid);
        EXECUTE format(
            'INSERT INTO @extschema@.sever_pending (binding, row_relid, row_tid, item, reason)
             SELECT $1, t.tableoid, t.ctid, t.%1$I::text, %6$L
               FROM %2$s t
              WHERE %3$s AND %4$s AND %5$s
                AND NOT EXISTS (SELECT FROM @extschema@.last_borrower l
                                 WHERE l.binding = $2 AND l.row_relid = t.tableoid AND l.row_tid = t.ctid)
             ON CONFLICT DO NOTHING',
            b.item_column, b.relation, p.closed, p.settled, p.identified,
            'tracker rebuilt: closed and settled, still identified')
            USING b.relation::oid, coalesce(b.last_borrower_group, b.relation)::oid;
    END LOOP;
    RETURN total;
END $$;

REVOKE ALL ON FUNCTION @extschema@._restore_tracker(regclass) FROM PUBLIC;
