-- Sever, in one statement per copy binding, the copies whose source row
-- has lost its patron or is gone (history from before bind_copy, or from
-- before the backlog).  Returns the number of rows changed.
CREATE OR REPLACE FUNCTION @extschema@.sever_copies(relation regclass DEFAULT NULL) RETURNS bigint
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE c @extschema@.copy_binding; b @extschema@.loan_binding; p record; n bigint; total bigint := 0;
BEGIN
    PERFORM @extschema@._require_admin('sever_copies');
    FOR c IN SELECT * FROM @extschema@.copy_binding x
              WHERE sever_copies.relation IS NULL OR x.relation = sever_copies.relation ORDER BY x.relation::oid LOOP
        SELECT * INTO b FROM @extschema@.loan_binding WHERE loan_binding.relation = c.source;
        CONTINUE WHEN NOT FOUND;
        p := @extschema@._loan_predicates(b, 's');
        -- a copy row with its whole key NULL is no copy of any row; one with
        -- part of it NULL finds no source row, and is severed
        EXECUTE @extschema@._copy_sever_sql(c, format(
            '(%1$s) AND NOT EXISTS (SELECT FROM %2$s s WHERE %3$s AND %4$s)',
            (SELECT string_agg(format('t.%I IS NOT NULL', k), ' OR ') FROM unnest(c.key_columns) k),
            c.source, @extschema@._copy_key_match(c, 's'), p.identified));
        GET DIAGNOSTICS n = ROW_COUNT;
        total := total + n;
    END LOOP;
    RETURN total;
END $$;

REVOKE ALL ON FUNCTION @extschema@.sever_copies(regclass) FROM PUBLIC;
