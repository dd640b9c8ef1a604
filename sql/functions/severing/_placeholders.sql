-- Patrons whose removal would break a binding: the placeholders of sever_with.
CREATE OR REPLACE FUNCTION @extschema@._placeholders() RETURNS text[]
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT coalesce(array_agg(DISTINCT substr(sever_with, 8)), '{}')
      FROM @extschema@.loan_binding WHERE sever_with LIKE 'patron:%'
$$;

REVOKE ALL ON FUNCTION @extschema@._placeholders() FROM PUBLIC;
