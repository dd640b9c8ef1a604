-- Fill the tracker of one loan binding (of its last-borrower group, when it
-- is in one: every member's rows) from the rows as they are: each item's
-- latest closed row, if it still names a patron (_latest_closed_sql: latest
-- closed first, ties to the highest relation and TID, as the severing
-- trigger and the backlog order them).  The caller has emptied the
-- entries of the binding's tracker key and decides the lock.  Returns the
-- number of items tracked.
CREATE OR REPLACE FUNCTION @extschema@._track_latest_closed(b @extschema@.loan_binding) RETURNS bigint
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    tk constant oid := coalesce(b.last_borrower_group, b.relation)::oid;
    n bigint;
BEGIN
    EXECUTE format(
        'INSERT INTO @extschema@.last_borrower (binding, item, row_relid, row_tid)
         SELECT $1, item, rid, tid FROM (%s) s
          WHERE identified
         ON CONFLICT (binding, item) DO NOTHING',
        @extschema@._latest_closed_sql(tk))
        USING tk;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END $$;

REVOKE ALL ON FUNCTION @extschema@._track_latest_closed(@extschema@.loan_binding) FROM PUBLIC;
