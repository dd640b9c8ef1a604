-- Sever, in one statement per copy binding, the copies whose source row
-- has lost its patron or is gone (history from before bind_copy, or from
-- before the backlog): no source holds an identified row with its key.
-- Returns the number of rows changed.  Rows the statement left identified
-- (a trigger of the ILS kept them) are recorded in sever_pending, with a
-- warning: never silently.
CREATE OR REPLACE FUNCTION @extschema@.sever_copies(relation regclass DEFAULT NULL) RETURNS bigint
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp SET pals_privacy.sweep_as_owner = on AS $$
DECLARE c @extschema@.copy_binding; filter text; expected bigint; n bigint; total bigint := 0;
BEGIN
    PERFORM @extschema@._require_admin('sever_copies');
    FOR c IN SELECT * FROM @extschema@.copy_binding x
              WHERE sever_copies.relation IS NULL OR x.relation = sever_copies.relation
              -- copies of copies after the copies they follow (their rows
              -- are found by their sources' identity, whatever the order:
              -- this only makes it deterministic)
              ORDER BY @extschema@._copy_depth(x.relation), x.relation::oid LOOP
        -- a copy the extension never writes (redaction only)
        CONTINUE WHEN c.sever_with = 'keep';
        -- no source bound any more: nothing says which rows are copies of severed ones
        CONTINUE WHEN NOT EXISTS (SELECT FROM @extschema@._copy_sources(c) s
                                   WHERE EXISTS (SELECT FROM @extschema@.loan_binding l WHERE l.relation = s.source)
                                      OR EXISTS (SELECT FROM @extschema@.copy_binding x WHERE x.relation = s.source));
        -- a copy row with its whole key NULL is no copy of any row; one with
        -- part of it NULL finds no source row, and is severed.  With several
        -- sources (bind_copy once per source), a row is severed when no
        -- source holds an identified row with its key; and a row whose key
        -- was severed for good (copy_tomb) is severed whatever row holds
        -- its key now
        filter := format('(%s) AND (NOT (%s) OR %s)',
            (SELECT string_agg(format('t.%I IS NOT NULL', k), ' OR ') FROM unnest(c.key_columns) k),
            @extschema@._copy_held(c, NULL), @extschema@._copy_tombed(c));
        -- a copy with no BEFORE UPDATE or DELETE row trigger and no rule of
        -- its own (on it, its partitions or children) cannot keep a row from
        -- the statement: it runs without counting first what it must change
        -- (one pass over the copy instead of two, as at a return)
        IF EXISTS (WITH RECURSIVE tree(rel) AS (
                       SELECT c.relation::oid
                       UNION SELECT i.inhrelid FROM pg_inherits i JOIN tree ON i.inhparent = tree.rel)
                   SELECT FROM tree
                    WHERE EXISTS (SELECT FROM pg_trigger g WHERE g.tgrelid = tree.rel AND NOT g.tgisinternal
                                     AND g.tgtype & 3 = 3 AND g.tgtype & 24 <> 0)   -- ROW, BEFORE, DELETE or UPDATE
                       OR EXISTS (SELECT FROM pg_rewrite w WHERE w.ev_class = tree.rel AND w.ev_type IN ('2', '4'))) THEN
            EXECUTE @extschema@._copy_sever_checked_sql(c, filter) INTO expected, n;
        ELSE
            EXECUTE @extschema@._copy_sever_sql(c, filter);
            GET DIAGNOSTICS n = ROW_COUNT;
            expected := n;
        END IF;
        total := total + n;
        IF n < expected THEN
            EXECUTE @extschema@._copy_pending_sql(c, filter);
            GET DIAGNOSTICS n = ROW_COUNT;
            IF n > 0 THEN
                RAISE WARNING 'sever_copies: % of "%" % not severed with their source rows of "%"',
                        CASE n WHEN 1 THEN '1 row' ELSE n || ' rows' END, c.relation, CASE n WHEN 1 THEN 'was' ELSE 'were' END, c.source
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
