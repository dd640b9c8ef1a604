-- Every change to a binding or classification table is an audit entry.
CREATE OR REPLACE FUNCTION @extschema@._audit_config_change() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM @extschema@._audit('binding.' || lower(TG_OP),
        jsonb_build_object('table', TG_TABLE_NAME,
                           'row', CASE TG_OP WHEN 'DELETE' THEN to_jsonb(OLD) ELSE to_jsonb(NEW) END));
    RETURN NULL;
END $$;

REVOKE ALL ON FUNCTION @extschema@._audit_config_change() FROM PUBLIC;
