-- A patron who withdraws the reading-history opt-in: what was kept for them
-- is severed at once (their items' last-borrower rows aside), and the copied
-- history is deleted, so turning it on again brings nothing back.
CREATE OR REPLACE FUNCTION @extschema@._history_optout() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    pb @extschema@.patron_binding;
    b @extschema@.loan_binding;
    p record;
    r record;
    patron_id text;
    ptype text;
    who text;
BEGIN
    SELECT * INTO pb FROM @extschema@.patron_binding;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    -- Who may withdraw it: the patron (a patron-class session, which writes
    -- only its own row), the ILS (operational), an administrator.  A class
    -- that reads other patrons' closed loans masked would watch which masked
    -- rows this severs (their patron turns into the placeholder, or NULL),
    -- even in a transaction it then rolls back: the patron's hidden loans.
    -- This function runs as the extension's owner: the role that made the
    -- change is the session's current role (SET ROLE), else its login role.
    who := quote_ident(CASE WHEN current_setting('role') = 'none' THEN session_user ELSE current_setting('role') END);
    IF NOT (SELECT ro.rolsuper FROM pg_catalog.pg_roles ro WHERE ro.oid = who::regrole)
       AND who::regrole::oid IS DISTINCT FROM
           (SELECT e.extowner FROM pg_catalog.pg_extension e WHERE e.extname = 'pals_privacy')
       AND @extschema@.class_of(who::regrole) NOT IN ('operational', 'patron') THEN
        RAISE EXCEPTION 'privacy class % may not withdraw a patron''s reading-history opt-in',
                @extschema@.class_of(who::regrole)
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = 'Withdrawing it severs the patron''s kept history at once, and which masked rows that changes would tell which hidden loans were theirs.',
                  HINT = 'The patron withdraws it in the online catalogue (a patron-class session), or the ILS (an operational role) records it.';
    END IF;
    patron_id := to_jsonb(NEW) ->> pb.id_column;
    FOR b IN SELECT * FROM @extschema@.loan_binding LOOP
        p := @extschema@._loan_predicates(b, 't');
        ptype := @extschema@._column_type_name(b.relation, b.patron_column);
        FOR r IN EXECUTE format(
            'SELECT t.tableoid AS rid, t.ctid AS tid, t.%I::text AS item FROM %s t
              WHERE t.%I = $1::%s AND %s AND %s AND %s',
            b.item_column, b.relation, b.patron_column, ptype, p.closed, p.settled, p.identified)
            USING patron_id
        LOOP
            CONTINUE WHEN b.keep_last_borrower AND EXISTS (
                SELECT 1 FROM @extschema@.last_borrower lb
                 WHERE lb.binding = coalesce(b.last_borrower_group, b.relation)::oid AND lb.item = r.item
                   AND lb.row_relid = r.rid AND lb.row_tid = r.tid);
            -- (as the role that withdrew it: the ILS's triggers on the row and
            -- its copies fire as that role, never as this function's owner)
            PERFORM @extschema@._sever_one_as(b.relation, r.rid, r.tid, who::regrole);
        END LOOP;
    END LOOP;
    DELETE FROM @extschema@.private_history h WHERE h.patron = patron_id;
    RETURN NULL;
END $$;

REVOKE ALL ON FUNCTION @extschema@._history_optout() FROM PUBLIC;
