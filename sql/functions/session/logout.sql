CREATE OR REPLACE FUNCTION @extschema@.logout() RETURNS void
    LANGUAGE c AS 'MODULE_PATHNAME', 'pals_privacy_logout';

REVOKE ALL ON FUNCTION @extschema@.logout() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.logout() TO PUBLIC;
