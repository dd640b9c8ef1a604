-- The minors the logged-in patron is guardian of (pals_privacy.guardian_access).
CREATE OR REPLACE FUNCTION @extschema@._wards() RETURNS text[]
    LANGUAGE c STABLE PARALLEL RESTRICTED AS 'MODULE_PATHNAME', 'pals_privacy_wards';

REVOKE ALL ON FUNCTION @extschema@._wards() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@._wards() TO PUBLIC;
