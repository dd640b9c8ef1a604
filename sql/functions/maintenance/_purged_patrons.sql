-- Patrons already purged whose row a soft-deleting purge function left in
-- place: purge_expired() and the compliance report leave them out.
CREATE OR REPLACE FUNCTION @extschema@._purged_patrons() RETURNS text[]
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT coalesce(array_agg(patron), '{}') FROM @extschema@.purged_patrons
$$;

REVOKE ALL ON FUNCTION @extschema@._purged_patrons() FROM PUBLIC;
