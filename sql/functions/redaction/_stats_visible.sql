-- Statistics (pg_stats, pg_stats_ext) of bound relations are hidden from redacted classes.
CREATE OR REPLACE FUNCTION @extschema@._stats_visible(relation oid) RETURNS boolean
    LANGUAGE c STABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'pals_privacy_stats_visible';

REVOKE ALL ON FUNCTION @extschema@._stats_visible(oid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@._stats_visible(oid) TO PUBLIC;
