CREATE OR REPLACE FUNCTION @extschema@._install_loan_triggers(rel regclass) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE b @extschema@.loan_binding; p record; t regclass;
BEGIN
    SELECT * INTO STRICT b FROM @extschema@.loan_binding l WHERE l.relation = rel;
    p := @extschema@._loan_predicates(b, 'NEW');
    FOR t IN SELECT @extschema@._trigger_targets(rel) LOOP
        PERFORM @extschema@._drop_trigger(t, 'pals_privacy_sever');
        -- fires only for rows that are closed and have a patron after the change
        -- (the placeholder is told apart in C: this clause is re-read by every
        -- statement on the table, so it is kept short)
        EXECUTE format('CREATE TRIGGER pals_privacy_sever AFTER INSERT OR UPDATE ON %s
                        FOR EACH ROW WHEN (%s AND NEW.%I IS NOT NULL) EXECUTE FUNCTION @extschema@._sever_row()',
                       t, p.closed, b.patron_column);
        -- only a close makes a last borrower: a last-borrower row deleted,
        -- re-opened or moved leaves its item a tombstone (src/tombstone.c).
        -- No WHEN clause: the function tests the old row itself, from state
        -- it keeps per backend (a clause is compiled again by every statement)
        PERFORM @extschema@._drop_trigger(t, 'pals_privacy_tombstone');
        EXECUTE format('CREATE TRIGGER pals_privacy_tombstone AFTER UPDATE OR DELETE ON %s
                        FOR EACH ROW EXECUTE FUNCTION @extschema@._tombstone_row()', t);
    END LOOP;
END $$;

REVOKE ALL ON FUNCTION @extschema@._install_loan_triggers(regclass) FROM PUBLIC;
