CREATE OR REPLACE FUNCTION @extschema@._audit_hash(prev bytea, content text) RETURNS bytea
    LANGUAGE c IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'pals_privacy_audit_hash';

REVOKE ALL ON FUNCTION @extschema@._audit_hash(bytea,text) FROM PUBLIC;
