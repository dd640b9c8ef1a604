-- "col = NULL, ..." for the columns of the link: the key columns, and the
-- columns of the (widest) foreign key they belong to.
CREATE OR REPLACE FUNCTION @extschema@._copy_link_set(rel regclass, key_columns name[]) RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT string_agg(format('%I = NULL', a.attname), ', ' ORDER BY a.attnum)
      FROM pg_attribute a
     WHERE a.attrelid = rel AND a.attnum > 0 AND NOT a.attisdropped
       AND (a.attname = ANY (key_columns)
            OR a.attnum = ANY ((SELECT c.conkey FROM pg_constraint c
                                  JOIN pg_attribute k ON k.attrelid = c.conrelid AND k.attnum = ANY (c.conkey)
                                 WHERE c.conrelid = rel AND c.contype = 'f' AND k.attname = ANY (key_columns)
                                 ORDER BY cardinality(c.conkey) DESC, c.conname LIMIT 1)::smallint[]))
$$;

REVOKE ALL ON FUNCTION @extschema@._copy_link_set(regclass,name[]) FROM PUBLIC;
