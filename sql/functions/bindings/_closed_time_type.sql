-- Does a closed column of this type read coarsened where a class does not
-- read the row's patron (mask_coarse in src/redact_policy.c)?  A date,
-- timestamp, timestamptz, time or timetz, or a domain over one, reads
-- truncated to closed_precision (a domain with constraints: NULL); an array,
-- range, multirange or composite reads NULL.  Any other type (a bigint
-- epoch, a time as text) reads as stored: bind_loans warns, and health()'s
-- "closed columns are times" names it, unless hide_columns hides it.
CREATE OR REPLACE FUNCTION @extschema@._closed_time_type(t regtype) RETURNS boolean
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    WITH RECURSIVE d(oid, typtype, typbasetype) AS (
        SELECT y.oid, y.typtype, y.typbasetype FROM pg_type y WHERE y.oid = t
        UNION ALL
        SELECT y.oid, y.typtype, y.typbasetype FROM d JOIN pg_type y ON y.oid = d.typbasetype WHERE d.typtype = 'd')
    SELECT coalesce(bool_or(y.oid IN ('timestamptz'::regtype, 'timestamp'::regtype, 'date'::regtype,
                                      'time'::regtype, 'timetz'::regtype)
                            OR y.typtype IN ('r', 'm', 'c')
                            OR (y.typelem <> 0 AND y.typsubscript = 'array_subscript_handler'::regproc)), false)
      FROM d JOIN pg_type y ON y.oid = d.oid
     WHERE d.typtype <> 'd'
$$;

REVOKE ALL ON FUNCTION @extschema@._closed_time_type(regtype) FROM PUBLIC;
