-- Patrons already purged whose row a soft-deleting purge function left in
-- place: purge_expired() and the compliance report leave them out.  Those of
-- the bound patron table only: the records of a table unbound before are
-- kept for its re-bind and keep no patron of another table from the purge.
CREATE OR REPLACE FUNCTION @extschema@._purged_patrons() RETURNS text[]
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT coalesce(array_agg(p.patron), '{}') FROM @extschema@.purged_patrons p
     WHERE p.relation IN (SELECT b.relation FROM @extschema@.patron_binding b)
$$;

REVOKE ALL ON FUNCTION @extschema@._purged_patrons() FROM PUBLIC;
