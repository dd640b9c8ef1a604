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
    total bigint := 0;
BEGIN
    PERFORM @extschema@._require_admin('rebuild_tracker');
    FOR b IN SELECT * FROM @extschema@.loan_binding l
              WHERE l.relation = _build_tracker.relation
              ORDER BY l.relation::oid LOOP
        DELETE FROM @extschema@.last_borrower lb WHERE lb.binding = b.relation;
        CONTINUE WHEN NOT b.keep_last_borrower;
        EXECUTE format('LOCK TABLE %s IN SHARE MODE', b.relation);
        total := total + @extschema@._track_latest_closed(b);
    END LOOP;
    RETURN total;
END $$;

REVOKE ALL ON FUNCTION @extschema@._build_tracker(regclass) FROM PUBLIC;
