-- Build the tracker of one loan binding at bind time: each item's latest
-- closed row, if it still has its patron (rebuilt: but where the entry was
-- chosen against the dates and its row is live, _tracker_pinned_sql); for
-- a binding in a last-borrower
-- group (bind_loans' last_borrower_group), the group's entries, one row per
-- item across every member.  Returns the number of items tracked.  The
-- loan relations are locked against writes meanwhile (SHARE), so no return
-- races it.  (Deploy's _restore_tracker() also queues the rows that are no
-- item's last borrower for severing, which binding must not do before the
-- DBA has run the backlog.)
CREATE OR REPLACE FUNCTION @extschema@._build_tracker(relation regclass) RETURNS bigint
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    b @extschema@.loan_binding;
    m regclass;
    total bigint := 0;
BEGIN
    PERFORM @extschema@._require_admin('rebuild_tracker');
    FOR b IN SELECT * FROM @extschema@.loan_binding l
              WHERE l.relation = _build_tracker.relation
              ORDER BY l.relation::oid LOOP
        IF NOT b.keep_last_borrower THEN
            DELETE FROM @extschema@.last_borrower lb WHERE lb.binding = coalesce(b.last_borrower_group, b.relation)::oid;
            CONTINUE;
        END IF;
        FOR m IN SELECT l.relation FROM @extschema@.loan_binding l
                  WHERE coalesce(l.last_borrower_group, l.relation) = coalesce(b.last_borrower_group, b.relation)
                    AND EXISTS (SELECT FROM pg_class c WHERE c.oid = l.relation::oid)
                  ORDER BY l.relation::oid LOOP
            EXECUTE format('LOCK TABLE %s IN SHARE MODE', m);
        END LOOP;
        -- (an entry chosen against the dates is kept while its row is live:
        -- _tracker_pinned_sql; found by its key first where a rewrite moved
        -- it: _tracker_repin)
        PERFORM @extschema@._tracker_repin(coalesce(b.last_borrower_group, b.relation)::oid);
        EXECUTE format('DELETE FROM @extschema@.last_borrower lb WHERE lb.binding = $1
                          AND NOT lb.item = ANY (ARRAY(%s))',
                       @extschema@._tracker_pinned_sql(coalesce(b.last_borrower_group, b.relation)::oid))
            USING coalesce(b.last_borrower_group, b.relation)::oid;
        total := total + @extschema@._track_latest_closed(b);
        PERFORM @extschema@._tracker_unpin_stale(coalesce(b.last_borrower_group, b.relation)::oid);
        -- the files these entries' TIDs refer to (tracker_file: after a
        -- rewrite, _last_borrower() trusts none of them until the next rebuild)
        PERFORM @extschema@._tracker_file_record(coalesce(b.last_borrower_group, b.relation)::oid);
    END LOOP;
    RETURN total;
END $$;

REVOKE ALL ON FUNCTION @extschema@._build_tracker(regclass) FROM PUBLIC;
