CREATE OR REPLACE FUNCTION @extschema@._audit(event text, details jsonb) RETURNS bigint
    LANGUAGE c SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    AS 'MODULE_PATHNAME', 'pals_privacy_audit_append';

REVOKE ALL ON FUNCTION @extschema@._audit(text,jsonb) FROM PUBLIC;
