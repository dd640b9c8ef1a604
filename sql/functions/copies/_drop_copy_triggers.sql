CREATE OR REPLACE FUNCTION @extschema@._drop_copy_triggers(c @extschema@.copy_binding) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE t regclass; tg name;
BEGIN
    tg := 'pals_privacy_copy_' || c.relation::oid;
    FOR t IN SELECT @extschema@._trigger_targets(s.source) FROM @extschema@._copy_sources(c) s LOOP
        PERFORM @extschema@._drop_trigger(t, tg || '_u');
        PERFORM @extschema@._drop_trigger(t, tg || '_d');
        PERFORM @extschema@._drop_trigger(t, tg || '_t');
    END LOOP;
END $$;

REVOKE ALL ON FUNCTION @extschema@._drop_copy_triggers(@extschema@.copy_binding) FROM PUBLIC;
