CREATE OR REPLACE FUNCTION @extschema@._install_copy_triggers(c @extschema@.copy_binding) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE t regclass; b @extschema@.loan_binding; tg name;
BEGIN
    SELECT * INTO STRICT b FROM @extschema@.loan_binding WHERE relation = c.source;
    tg := 'pals_privacy_copy_' || c.relation::oid;
    FOR t IN SELECT @extschema@._trigger_targets(c.source) LOOP
        PERFORM @extschema@._drop_trigger(t, tg || '_u');
        PERFORM @extschema@._drop_trigger(t, tg || '_d');
        EXECUTE format('CREATE TRIGGER %I AFTER UPDATE OF %I ON %s FOR EACH ROW
                        WHEN (OLD.%I IS DISTINCT FROM NEW.%I)
                        EXECUTE FUNCTION @extschema@._sever_copies(%L)',
                       tg || '_u', b.patron_column, t, b.patron_column, b.patron_column, c.relation::oid);
        EXECUTE format('CREATE TRIGGER %I AFTER DELETE ON %s FOR EACH ROW
                        EXECUTE FUNCTION @extschema@._sever_copies(%L)', tg || '_d', t, c.relation::oid);
    END LOOP;
END $$;

REVOKE ALL ON FUNCTION @extschema@._install_copy_triggers(@extschema@.copy_binding) FROM PUBLIC;
