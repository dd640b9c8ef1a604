-- The SQL name of a column's type, for casting text values to it.
CREATE OR REPLACE FUNCTION @extschema@._column_type_name(rel regclass, col name) RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT format_type(atttypid, NULL) FROM pg_attribute WHERE attrelid = rel AND attname = col
$$;

REVOKE ALL ON FUNCTION @extschema@._column_type_name(regclass,name) FROM PUBLIC;
