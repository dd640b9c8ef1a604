-- The table a single-column foreign key on the column points at, if any.
CREATE OR REPLACE FUNCTION @extschema@._fk_target(rel regclass, col name) RETURNS regclass
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT c.confrelid::regclass FROM pg_constraint c
      JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
     WHERE c.conrelid = rel AND c.contype = 'f' AND cardinality(c.conkey) = 1 AND a.attname = col
     ORDER BY c.oid LIMIT 1
$$;

REVOKE ALL ON FUNCTION @extschema@._fk_target(regclass,name) FROM PUBLIC;
