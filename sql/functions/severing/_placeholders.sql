-- Patrons whose removal would break a binding: the placeholders of sever_with
-- and of bind_account's purge_with.
CREATE OR REPLACE FUNCTION @extschema@._placeholders() RETURNS text[]
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT coalesce(array_agg(DISTINCT p), '{}')
      FROM (SELECT substr(sever_with, 8) FROM @extschema@.loan_binding WHERE sever_with LIKE 'patron:%'
            UNION ALL
            SELECT substr(purge_with, 8) FROM @extschema@.account_binding WHERE purge_with LIKE 'patron:%') x(p)
$$;

REVOKE ALL ON FUNCTION @extschema@._placeholders() FROM PUBLIC;
