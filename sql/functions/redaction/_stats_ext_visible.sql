CREATE OR REPLACE FUNCTION @extschema@._stats_ext_visible(statistics oid) RETURNS boolean
    LANGUAGE c STABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'pals_privacy_stats_ext_visible';

REVOKE ALL ON FUNCTION @extschema@._stats_ext_visible(oid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@._stats_ext_visible(oid) TO PUBLIC;
