-- Is this statement a restore?  pg_dump writes the rows of configuration
-- tables as COPY ... FROM stdin.  The restored audit log already holds the
-- entries of the original binding changes: copying them in again is not a
-- new change, and appending entries while the audit log itself is being
-- restored (pg_restore -j) would collide with the restored ones.
CREATE OR REPLACE FUNCTION @extschema@._restoring() RETURNS boolean
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT coalesce(current_query() ~* '^\s*COPY\s+[^;]*\s+FROM\s+stdin', false)
$$;

REVOKE ALL ON FUNCTION @extschema@._restoring() FROM PUBLIC;
