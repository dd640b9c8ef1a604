-- Sever, in one statement per copy binding, the copies whose source row
-- has lost its patron or is gone (history from before bind_copy, or from
-- before the backlog): no source holds an identified row with its key.  Returns the number of rows changed.
CREATE OR REPLACE FUNCTION @extschema@.sever_copies(relation regclass DEFAULT NULL) RETURNS bigint
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE c @extschema@.copy_binding; n bigint; total bigint := 0;
BEGIN
    PERFORM @extschema@._require_admin('sever_copies');
    FOR c IN SELECT * FROM @extschema@.copy_binding x
              WHERE sever_copies.relation IS NULL OR x.relation = sever_copies.relation ORDER BY x.relation::oid LOOP
        -- no source bound any more: nothing says which rows are copies of severed ones
        CONTINUE WHEN NOT EXISTS (SELECT FROM @extschema@._copy_sources(c) s
                                    JOIN @extschema@.loan_binding l ON l.relation = s.source);
        -- a copy row with its whole key NULL is no copy of any row; one with
        -- part of it NULL finds no source row, and is severed.  With several
        -- sources (bind_copy once per source), a row is severed when no
        -- source holds an identified row with its key
        EXECUTE @extschema@._copy_sever_sql(c, format('(%s) AND NOT (%s)',
            (SELECT string_agg(format('t.%I IS NOT NULL', k), ' OR ') FROM unnest(c.key_columns) k),
            @extschema@._copy_held(c, NULL)));
        GET DIAGNOSTICS n = ROW_COUNT;
        total := total + n;
    END LOOP;
    RETURN total;
END $$;

REVOKE ALL ON FUNCTION @extschema@.sever_copies(regclass) FROM PUBLIC;
