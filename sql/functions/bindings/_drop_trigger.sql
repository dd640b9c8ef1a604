-- Triggers that bindings install on the bound relations.
CREATE OR REPLACE FUNCTION @extschema@._drop_trigger(rel regclass, trigger_name name) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = rel AND tgname = trigger_name AND NOT tgisinternal
                                          AND tgparentid = 0) THEN
        EXECUTE format('DROP TRIGGER %I ON %s', trigger_name, rel);
    END IF;
END $$;

REVOKE ALL ON FUNCTION @extschema@._drop_trigger(regclass,name) FROM PUBLIC;
