CREATE OR REPLACE FUNCTION @extschema@.my_data() RETURNS jsonb
    LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'pals_privacy_my_data';

COMMENT ON FUNCTION @extschema@.my_data() IS
    'Everything the database holds about the logged-in patron (patron class, after login), as one JSON document';

GRANT EXECUTE ON FUNCTION @extschema@.my_data() TO PUBLIC;
