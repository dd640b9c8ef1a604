-- A closed time where a class does not read the row's patron (mask_coarse in
-- src/redact_policy.c): truncated to unit in zone, in one call per row.  The
-- same value as timezone(zone, date_trunc(unit, timezone(zone, x))); a time
-- of day to the hour ('hour') or midnight (any coarser unit), a timetz
-- keeping its offset.
CREATE OR REPLACE FUNCTION @extschema@._coarse_time(x timestamptz, unit text, zone text) RETURNS timestamptz
    LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'pals_privacy_coarse_timestamptz';
CREATE OR REPLACE FUNCTION @extschema@._coarse_time(x time, unit text) RETURNS time
    LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'pals_privacy_coarse_time';
CREATE OR REPLACE FUNCTION @extschema@._coarse_time(x timetz, unit text) RETURNS timetz
    LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'pals_privacy_coarse_timetz';

-- the queries the redaction rewrites call them as the reading role
REVOKE ALL ON FUNCTION @extschema@._coarse_time(timestamptz, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@._coarse_time(timestamptz, text, text) TO PUBLIC;
REVOKE ALL ON FUNCTION @extschema@._coarse_time(time, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@._coarse_time(time, text) TO PUBLIC;
REVOKE ALL ON FUNCTION @extschema@._coarse_time(timetz, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@._coarse_time(timetz, text) TO PUBLIC;
