CREATE OR REPLACE FUNCTION @extschema@._audit_durable(event text, details jsonb) RETURNS bigint
    LANGUAGE c AS 'MODULE_PATHNAME', 'pals_privacy_audit_durable';

REVOKE ALL ON FUNCTION @extschema@._audit_durable(text,jsonb) FROM PUBLIC;
