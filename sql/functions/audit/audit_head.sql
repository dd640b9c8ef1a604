CREATE OR REPLACE FUNCTION @extschema@.audit_head(OUT id bigint, OUT hash text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM @extschema@._require_auditor('audit_head');
    SELECT a.id, encode(a.hash, 'hex') INTO id, hash FROM @extschema@.audit_log a ORDER BY a.id DESC LIMIT 1;
END $$;

REVOKE ALL ON FUNCTION @extschema@.audit_head() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.audit_head() TO PUBLIC;
