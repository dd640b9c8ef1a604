-- Sever, in one statement per copy binding, the copies whose source row
-- has lost its patron or is gone (history from before bind_copy, or from
-- before the backlog).  Returns the number of rows changed.  Rows the
-- statement left identified (a trigger of the ILS kept them) are recorded
-- in sever_pending, with a warning: never silently.
CREATE OR REPLACE FUNCTION @extschema@.sever_copies(relation regclass DEFAULT NULL) RETURNS bigint
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE c @extschema@.copy_binding; b @extschema@.loan_binding; p record; filter text;
        expected bigint; n bigint; total bigint := 0;
BEGIN
    PERFORM @extschema@._require_admin('sever_copies');
    FOR c IN SELECT * FROM @extschema@.copy_binding x
              WHERE sever_copies.relation IS NULL OR x.relation = sever_copies.relation ORDER BY x.relation::oid LOOP
        SELECT * INTO b FROM @extschema@.loan_binding WHERE loan_binding.relation = c.source;
        CONTINUE WHEN NOT FOUND;
        p := @extschema@._loan_predicates(b, 's');
        -- a copy row with its whole key NULL is no copy of any row; one with
        -- part of it NULL finds no source row, and is severed
        filter := format('(%1$s) AND NOT EXISTS (SELECT FROM %2$s s WHERE %3$s AND %4$s)',
                         (SELECT string_agg(format('t.%I IS NOT NULL', k), ' OR ') FROM unnest(c.key_columns) k),
                         c.source, @extschema@._copy_key_match(c, 's'), p.identified);
        EXECUTE @extschema@._copy_sever_checked_sql(c, filter) INTO expected, n;
        total := total + n;
        IF n < expected THEN
            EXECUTE @extschema@._copy_pending_sql(c, filter);
            GET DIAGNOSTICS n = ROW_COUNT;
            IF n > 0 THEN
                RAISE WARNING 'sever_copies: % rows of "%" were not severed with their source rows of "%"', n, c.relation, c.source
                    USING ERRCODE = 'triggered_action_exception',
                          DETAIL = format('A trigger of "%s" skipped or undid the change of sever_with %L (a BEFORE trigger returned NULL), '
                                          'so the rows still tie former borrowers to items. They are recorded in pals_privacy.sever_pending_rows.',
                                          c.relation, c.sever_with),
                          HINT = 'Make the trigger let the change through, make the source''s settled_when wait for what the trigger waits for, '
                                 'or bind the copy with another sever_with. Every maintenance run retries the rows; '
                                 'purge_expired() does not purge their patron while they remain.';
            END IF;
        END IF;
    END LOOP;
    RETURN total;
END $$;

REVOKE ALL ON FUNCTION @extschema@.sever_copies(regclass) FROM PUBLIC;
