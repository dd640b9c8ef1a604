CREATE OR REPLACE FUNCTION @extschema@.current_class() RETURNS text
    LANGUAGE c STABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'pals_privacy_current_class';

REVOKE ALL ON FUNCTION @extschema@.current_class() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.current_class() TO PUBLIC;
