-- "EXISTS (the key of the copy row t is in copy_tomb)": its copies were
-- severed for good, whatever row of a source holds the key now.  Each stored
-- key column read back into the column's type (the canonical text
-- _copy_tomb_record writes), so the session's TimeZone or DateStyle does not
-- matter.
CREATE OR REPLACE FUNCTION @extschema@._copy_tombed(c @extschema@.copy_binding) RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT format('EXISTS (SELECT FROM @extschema@.copy_tomb x WHERE x.relation = %L::regclass AND %s)',
                  c.relation::oid,
                  string_agg(format('t.%I = x.key[%s]::%s', k.key, k.n, @extschema@._column_type_name(c.relation, k.key)),
                             ' AND ' ORDER BY k.n))
      FROM unnest(c.key_columns) WITH ORDINALITY k(key, n)
$$;

REVOKE ALL ON FUNCTION @extschema@._copy_tombed(@extschema@.copy_binding) FROM PUBLIC;
