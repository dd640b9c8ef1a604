CREATE OR REPLACE FUNCTION @extschema@._random_salt() RETURNS bytea
    LANGUAGE c AS 'MODULE_PATHNAME', 'pals_privacy_random_salt';

REVOKE ALL ON FUNCTION @extschema@._random_salt() FROM PUBLIC;
