CREATE OR REPLACE FUNCTION @extschema@._random_key() RETURNS bytea
    LANGUAGE c AS 'MODULE_PATHNAME', 'pals_privacy_random_key';

REVOKE ALL ON FUNCTION @extschema@._random_key() FROM PUBLIC;
