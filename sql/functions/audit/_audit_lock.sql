CREATE OR REPLACE FUNCTION @extschema@._audit_lock() RETURNS void
    LANGUAGE c AS 'MODULE_PATHNAME', 'pals_privacy_audit_lock';

REVOKE ALL ON FUNCTION @extschema@._audit_lock() FROM PUBLIC;
