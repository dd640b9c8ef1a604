-- Has the session user acknowledged the policy within a year? (pals_privacy.require_acknowledgment)
CREATE OR REPLACE FUNCTION @extschema@._acknowledged() RETURNS boolean
    LANGUAGE c STABLE PARALLEL RESTRICTED AS 'MODULE_PATHNAME', 'pals_privacy_acknowledged';

REVOKE ALL ON FUNCTION @extschema@._acknowledged() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@._acknowledged() TO PUBLIC;
