CREATE OR REPLACE FUNCTION @extschema@._drop_loan_triggers(rel regclass) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE t regclass;
BEGIN
    FOR t IN SELECT @extschema@._trigger_targets(rel) LOOP
        PERFORM @extschema@._drop_trigger(t, 'pals_privacy_sever');
        PERFORM @extschema@._drop_trigger(t, 'pals_privacy_tombstone');
    END LOOP;
    DELETE FROM @extschema@.last_borrower WHERE binding = rel;
    DELETE FROM @extschema@.tracker_pin WHERE binding = rel OR relation = rel;
    DELETE FROM @extschema@.sever_pending WHERE binding = rel;
    DELETE FROM @extschema@.backlog_progress WHERE binding = rel;
END $$;

REVOKE ALL ON FUNCTION @extschema@._drop_loan_triggers(regclass) FROM PUBLIC;
