-- Does the relation still exist with all these columns?  (A report on a
-- broken binding skips it and counts it under health/bindings_invalid.)
CREATE OR REPLACE FUNCTION @extschema@._report_usable(rel regclass, cols name[]) RETURNS boolean
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT EXISTS (SELECT FROM pg_catalog.pg_class k WHERE k.oid = rel)
       AND NOT EXISTS (SELECT FROM unnest(cols) col
                        WHERE col IS NOT NULL AND NOT EXISTS (
                            SELECT FROM pg_catalog.pg_attribute a WHERE a.attrelid = rel AND a.attname = col
                               AND a.attnum > 0 AND NOT a.attisdropped))
$$;

REVOKE ALL ON FUNCTION @extschema@._report_usable(regclass,name[]) FROM PUBLIC;
