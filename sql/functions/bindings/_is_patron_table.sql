-- Is the relation the patron table (or a partition, child or parent of it)?
CREATE OR REPLACE FUNCTION @extschema@._is_patron_table(rel regclass) RETURNS boolean
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT EXISTS (SELECT FROM @extschema@.patron_binding p
                    WHERE p.relation = rel
                       OR p.relation IN (SELECT r.relation FROM @extschema@._related_relations(rel) r))
$$;

REVOKE ALL ON FUNCTION @extschema@._is_patron_table(regclass) FROM PUBLIC;
