-- PARALLEL RESTRICTED: the session patron lives in this backend only.
CREATE OR REPLACE FUNCTION @extschema@.session_patron() RETURNS text
    LANGUAGE c STABLE PARALLEL RESTRICTED AS 'MODULE_PATHNAME', 'pals_privacy_session_patron';

REVOKE ALL ON FUNCTION @extschema@.session_patron() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.session_patron() TO PUBLIC;
