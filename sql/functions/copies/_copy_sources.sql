-- The sources of a copy binding, the first (bind_copy's first call) and the
-- more_sources of later calls, each with its key columns, column for column
-- with the copy's key_columns.
CREATE OR REPLACE FUNCTION @extschema@._copy_sources(c @extschema@.copy_binding,
    OUT source regclass, OUT source_keys name[], OUT n int)
RETURNS SETOF record LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT c.source, c.source_keys, 0
    UNION ALL
    SELECT m.rel, c.more_source_keys[(m.i - 1) * cardinality(c.key_columns) + 1 : m.i * cardinality(c.key_columns)], m.i::int
      FROM unnest(c.more_sources) WITH ORDINALITY m(rel, i)
     ORDER BY 3
$$;

REVOKE ALL ON FUNCTION @extschema@._copy_sources(@extschema@.copy_binding) FROM PUBLIC;
