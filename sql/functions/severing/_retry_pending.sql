-- Retry the rows severing left pending (a lock, a foreign key, an ILS
-- trigger ...): gone or severed rows leave the list.
CREATE OR REPLACE FUNCTION @extschema@._retry_pending() RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE r record; outcome text; n_done bigint := 0; n_left bigint := 0;
BEGIN
    FOR r IN SELECT * FROM @extschema@.sever_pending ORDER BY first_seen LIMIT 10000 LOOP
        DELETE FROM @extschema@.sever_pending p
         WHERE p.binding = r.binding AND p.row_relid = r.row_relid AND p.row_tid = r.row_tid;
        IF to_regclass(r.binding::regclass::text) IS NULL OR to_regclass(r.row_relid::regclass::text) IS NULL THEN
            CONTINUE;
        END IF;
        -- the last borrower of its item keeps its patron
        CONTINUE WHEN EXISTS (SELECT FROM @extschema@.last_borrower lb
                               WHERE lb.binding = r.binding AND lb.row_relid = r.row_relid AND lb.row_tid = r.row_tid);
        outcome := @extschema@._sever_one(r.binding::regclass, r.row_relid::regclass, r.row_tid);
        IF outcome = 'pending' THEN
            n_left := n_left + 1;
        ELSE
            n_done := n_done + 1;
        END IF;
    END LOOP;
    RETURN jsonb_build_object('retried', n_done + n_left, 'resolved', n_done, 'still_pending', n_left);
END $$;

REVOKE ALL ON FUNCTION @extschema@._retry_pending() FROM PUBLIC;
