CREATE OR REPLACE FUNCTION @extschema@._install_outbox_triggers(rel regclass) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE ob @extschema@.outbox_binding; t regclass;
BEGIN
    SELECT * INTO STRICT ob FROM @extschema@.outbox_binding b WHERE b.relation = rel;
    FOR t IN SELECT @extschema@._trigger_targets(rel) LOOP
        PERFORM @extschema@._drop_trigger(t, 'pals_privacy_outbox');
        EXECUTE format('CREATE TRIGGER pals_privacy_outbox BEFORE INSERT OR UPDATE OF %I, %I ON %s
                        FOR EACH ROW EXECUTE FUNCTION @extschema@._outbox_check()',
                       ob.patron_column, ob.channel_column, t);
    END LOOP;
END $$;

REVOKE ALL ON FUNCTION @extschema@._install_outbox_triggers(regclass) FROM PUBLIC;
