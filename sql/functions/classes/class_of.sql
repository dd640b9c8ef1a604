-- Resolved in C: own classification, else the most restrictive class of the
-- roles it is a member of, else pals_privacy.default_class.
CREATE OR REPLACE FUNCTION @extschema@.class_of(role regrole) RETURNS text
    LANGUAGE c STABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'pals_privacy_class_of';

REVOKE ALL ON FUNCTION @extschema@.class_of(regrole) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.class_of(regrole) TO PUBLIC;
