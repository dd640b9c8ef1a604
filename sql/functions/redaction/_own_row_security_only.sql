-- pg_stats for roles the redaction leaves alone (the ILS's own): row
-- security that is only pals_privacy's filters nothing for them
-- (src/redact_rewrite.c, redact_row_security_mutator).
CREATE OR REPLACE FUNCTION @extschema@._own_row_security_only(relation oid) RETURNS boolean
    LANGUAGE c STABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'pals_privacy_own_row_security_only';

REVOKE ALL ON FUNCTION @extschema@._own_row_security_only(oid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@._own_row_security_only(oid) TO PUBLIC;
