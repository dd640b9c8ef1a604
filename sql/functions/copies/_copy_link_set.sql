-- "col = NULL, ..." for the columns of the link: the key column, or the
-- columns of the foreign key it belongs to.
CREATE OR REPLACE FUNCTION @extschema@._copy_link_set(rel regclass, key_column name) RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT coalesce(
        (SELECT string_agg(format('%I = NULL', a.attname), ', ' ORDER BY a.attnum)
           FROM pg_attribute a
          WHERE a.attrelid = rel
            AND a.attnum = ANY ((SELECT c.conkey FROM pg_constraint c
                                   JOIN pg_attribute k ON k.attrelid = c.conrelid AND k.attnum = ANY (c.conkey)
                                  WHERE c.conrelid = rel AND c.contype = 'f' AND k.attname = key_column
                                  ORDER BY cardinality(c.conkey) DESC LIMIT 1)::smallint[])),
        format('%I = NULL', key_column))
$$;

REVOKE ALL ON FUNCTION @extschema@._copy_link_set(regclass,name) FROM PUBLIC;
