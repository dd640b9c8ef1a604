-- The columns a relation's bindings name (every "*_column" setting, every
-- element of a "*_columns" setting, a contact binding's column).
CREATE OR REPLACE FUNCTION @extschema@._bound_columns(rel oid) RETURNS SETOF text
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT DISTINCT v FROM (
        SELECT b.column_name::text AS v FROM @extschema@.bindings b
         WHERE b.relation::oid = rel AND b.kind = 'contact'
        UNION ALL
        SELECT s.value #>> '{}' FROM @extschema@.bindings b, jsonb_each(b.settings) s
         WHERE b.relation::oid = rel AND s.key LIKE '%\_column' AND jsonb_typeof(s.value) = 'string'
        UNION ALL
        SELECT e FROM @extschema@.bindings b, jsonb_each(b.settings) s, jsonb_array_elements_text(s.value) e
         WHERE b.relation::oid = rel AND s.key LIKE '%\_columns' AND jsonb_typeof(s.value) = 'array'
    ) x WHERE v IS NOT NULL
$$;

REVOKE ALL ON FUNCTION @extschema@._bound_columns(oid) FROM PUBLIC;
