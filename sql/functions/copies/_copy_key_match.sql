-- "t.k1 = s.c1 AND t.k2 = s.c2": the copy's key columns (t) against the
-- source's, or against parameters $1, $2 ... as text cast to the copy's types
-- (s NULL).
CREATE OR REPLACE FUNCTION @extschema@._copy_key_match(c @extschema@.copy_binding, s text) RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT string_agg(CASE WHEN s IS NULL
                           THEN format('t.%I = $%s::%s', k.key, k.n, @extschema@._column_type_name(c.relation, k.key))
                           ELSE format('%s.%I = t.%I', s, c.source_keys[k.n], k.key) END,
                      ' AND ' ORDER BY k.n)
      FROM unnest(c.key_columns) WITH ORDINALITY k(key, n)
$$;

REVOKE ALL ON FUNCTION @extschema@._copy_key_match(@extschema@.copy_binding,text) FROM PUBLIC;
