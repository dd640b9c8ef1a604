-- 70_placeholder_guard.sql (bench, issue 17): the placeholder patron of sever_with =>
-- 'patron:<id>' is guarded by a trigger on the patron table, so that a return re-points rows to
-- it without the foreign key's KEY SHARE lock on that one row from every concurrent return
-- (src/placeholder_guard.c, docs/severing.md).

CREATE FUNCTION @extschema@._placeholder_guard() RETURNS trigger
    LANGUAGE c AS 'MODULE_PATHNAME', 'pals_privacy_placeholder_guard';
REVOKE ALL ON FUNCTION @extschema@._placeholder_guard() FROM PUBLIC;

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
        EXECUTE format('CREATE TRIGGER pals_privacy_history_optout AFTER UPDATE OF %1$I ON %2$s
                        FOR EACH ROW WHEN (OLD.%1$I IS TRUE AND NEW.%1$I IS NOT TRUE)
                        EXECUTE FUNCTION @extschema@._history_optout()',
                       pb.keep_history_column, rel);
    END IF;
    PERFORM @extschema@._drop_trigger(rel, 'pals_privacy_placeholder_guard');
    EXECUTE format('CREATE TRIGGER pals_privacy_placeholder_guard BEFORE UPDATE OR DELETE ON %s
                    FOR EACH ROW EXECUTE FUNCTION @extschema@._placeholder_guard()', rel);
    EXECUTE format('ALTER TABLE %s ENABLE ALWAYS TRIGGER pals_privacy_placeholder_guard', rel);
END $$;

CREATE OR REPLACE FUNCTION @extschema@._drop_patron_triggers(rel regclass) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM @extschema@._drop_trigger(rel, 'pals_privacy_history_optout');
    PERFORM @extschema@._drop_trigger(rel, 'pals_privacy_default_consents');
    PERFORM @extschema@._drop_trigger(rel, 'pals_privacy_placeholder_guard');
END $$;

-- an upgraded database: its bound patron table gets the guard now
SELECT @extschema@._install_patron_triggers(relation) FROM @extschema@.patron_binding;
