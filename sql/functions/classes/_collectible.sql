-- Does the patron owe more than pals_privacy.collections_threshold? (collections class only)
CREATE OR REPLACE FUNCTION @extschema@._collectible(patron text) RETURNS boolean
    LANGUAGE c STABLE STRICT PARALLEL RESTRICTED AS 'MODULE_PATHNAME', 'pals_privacy_collectible';

REVOKE ALL ON FUNCTION @extschema@._collectible(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@._collectible(text) TO PUBLIC;
