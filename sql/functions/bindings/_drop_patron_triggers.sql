CREATE OR REPLACE FUNCTION @extschema@._drop_patron_triggers(rel regclass) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM @extschema@._drop_trigger(rel, 'pals_privacy_history_optout');
    PERFORM @extschema@._drop_trigger(rel, 'pals_privacy_default_consents');
    PERFORM @extschema@._drop_trigger(rel, 'pals_privacy_placeholder_guard');
END $$;

REVOKE ALL ON FUNCTION @extschema@._drop_patron_triggers(regclass) FROM PUBLIC;
