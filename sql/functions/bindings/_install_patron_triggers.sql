-- The patron table's triggers, now with the guard: BEFORE UPDATE OR DELETE of every row,
-- ENABLE ALWAYS (it fires under session_replication_role = replica too).  Severing skips the
-- foreign-key check only while the guard is there exactly so.
CREATE OR REPLACE FUNCTION @extschema@._install_patron_triggers(rel regclass) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE pb @extschema@.patron_binding;
BEGIN
    SELECT * INTO STRICT pb FROM @extschema@.patron_binding b WHERE b.relation = rel;
    PERFORM @extschema@._drop_trigger(rel, 'pals_privacy_default_consents');
    EXECUTE format('CREATE TRIGGER pals_privacy_default_consents AFTER INSERT ON %s
                    FOR EACH ROW EXECUTE FUNCTION @extschema@._default_consents()', rel);
    PERFORM @extschema@._drop_trigger(rel, 'pals_privacy_history_optout');
    IF pb.keep_history_column IS NOT NULL THEN
        -- opted in before, not after (keep_history_when: the condition on the old and the new row)
        EXECUTE format('CREATE TRIGGER pals_privacy_history_optout AFTER UPDATE OF %1$I ON %2$s
                        FOR EACH ROW WHEN (%3$s AND NOT %4$s)
                        EXECUTE FUNCTION @extschema@._history_optout()',
                       pb.keep_history_column, rel, @extschema@._optin_sql(pb, 'old'), @extschema@._optin_sql(pb, 'new'));
    END IF;
    PERFORM @extschema@._drop_trigger(rel, 'pals_privacy_placeholder_guard');
    EXECUTE format('CREATE TRIGGER pals_privacy_placeholder_guard BEFORE UPDATE OR DELETE ON %s
                    FOR EACH ROW EXECUTE FUNCTION @extschema@._placeholder_guard()', rel);
    EXECUTE format('ALTER TABLE %s ENABLE ALWAYS TRIGGER pals_privacy_placeholder_guard', rel);
END $$;

REVOKE ALL ON FUNCTION @extschema@._install_patron_triggers(regclass) FROM PUBLIC;
