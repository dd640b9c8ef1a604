-- PARALLEL RESTRICTED: the session state lives in this backend only.
CREATE OR REPLACE FUNCTION @extschema@.pin_change_required() RETURNS boolean
    LANGUAGE c STABLE PARALLEL RESTRICTED AS 'MODULE_PATHNAME', 'pals_privacy_pin_change_required';

GRANT EXECUTE ON FUNCTION @extschema@.pin_change_required() TO PUBLIC;
