-- The work of _purge_patrons(), for purge_expired(): when a trigger of the
-- ILS kept rows of some of the patrons from their sever (a BEFORE trigger
-- returned NULL, or put the patron back), everything is rolled back and the
-- answer names those patrons (kept) with the error's message, detail and
-- hint, so that the caller tries the others again as one group instead of
-- each patron alone.  Any other error is raised as it is; kept is NULL on
-- success (purged: the number of patrons removed).
-- No SET search_path here: the ILS's purge function runs with the caller's
-- (the worker's: the database default), as the ILS itself would call it.
-- Everything below is schema-qualified; only administrators may call it.
CREATE OR REPLACE FUNCTION @extschema@._purge_patrons_try(ids text[], OUT purged bigint, OUT kept text[],
                                                        OUT message text, OUT detail text, OUT hint text)
LANGUAGE plpgsql SET pals_privacy.sweep_as_owner = on AS $$
DECLARE
    pb @extschema@.patron_binding;
    b record;
    more_col name;
    lb @extschema@.loan_binding;
    cb @extschema@.copy_binding;
    t text;
    fn record;
    n bigint;
    expected bigint;
    cs record;
    keys jsonb;
    copy_keys jsonb := '{}';
    acc record;
BEGIN
    kept := NULL;
    BEGIN
    SELECT * INTO STRICT pb FROM @extschema@.patron_binding;
    -- derived copies without a patron column (a notice keyed by the loan, its
    -- text naming the patron) are tied to the patron only through the source
    -- rows: the keys of the patron's rows in each source, before they are severed
    FOR cb IN SELECT c.* FROM @extschema@.copy_binding c WHERE c.patron_column IS NULL AND c.sever_with <> 'keep' LOOP
        keys := '[]';
        -- (a source that is itself a copy: its rows that are copies of the
        -- patron's rows, through its own sources, _copy_source_of_patrons)
        FOR cs IN SELECT s.source, s.source_keys FROM @extschema@._copy_sources(cb) s
                   WHERE EXISTS (SELECT FROM @extschema@.loan_binding l WHERE l.relation = s.source)
                      OR EXISTS (SELECT FROM @extschema@.copy_binding x WHERE x.relation = s.source) LOOP
            EXECUTE pg_catalog.format('SELECT %L::jsonb || coalesce(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_array(%s)), ''[]'') FROM %s s WHERE %s',
                    keys, (SELECT pg_catalog.string_agg(pg_catalog.format('s.%I::text', k.key), ', ' ORDER BY k.n)
                             FROM unnest(cs.source_keys) WITH ORDINALITY k(key, n)),
                    cs.source, @extschema@._copy_source_of_patrons(cs.source, 's'))
                INTO keys USING ids;
        END LOOP;
        copy_keys := copy_keys || pg_catalog.jsonb_build_object(cb.relation::oid::text, keys);
    END LOOP;
    -- derived copies with a patron column first, by the statements that
    -- close the work below (which runs them again for what the loan severing
    -- brought): rows a trigger of the ILS keeps from them are found before
    -- the loan relations are severed, so that an attempt that fails for them
    -- costs little, and the loan relations' copy triggers find them gone
    FOR cb IN SELECT c.* FROM @extschema@.copy_binding c
               WHERE c.patron_column IS NOT NULL AND (c.sever_with IN ('delete', 'null') OR c.sever_with LIKE 'patron:%') LOOP
        t := pg_catalog.format('t.%I = ANY ($1::%s[]) AND %s', cb.patron_column,
                               @extschema@._column_type_name(cb.relation, cb.patron_column), @extschema@._copy_when_sql(cb));
        IF cb.sever_with = 'delete' THEN
            EXECUTE pg_catalog.format('DELETE FROM %s t WHERE %s', cb.relation, t) USING ids;
        ELSE
            EXECUTE pg_catalog.format('UPDATE %s t SET %I = %L WHERE %s', cb.relation, cb.patron_column,
                                      CASE WHEN cb.sever_with LIKE 'patron:%' THEN substr(cb.sever_with, 8) END, t) USING ids;
        END IF;
        -- what still names one of the patrons was kept (or given back)
        EXECUTE pg_catalog.format('SELECT count(*), ARRAY(SELECT DISTINCT x FROM unnest(pg_catalog.array_agg(t.%I::text)) x ORDER BY 1) FROM %s t WHERE %s',
                                  cb.patron_column, cb.relation, t)
            INTO n, kept USING ids;
        IF n > 0 THEN
            PERFORM @extschema@._purge_kept_error(n, cb.relation, cb.sever_with, cb.source);
        END IF;
    END LOOP;
    FOR b IN SELECT * FROM @extschema@.loan_binding LOOP
        t := @extschema@._column_type_name(b.relation, b.patron_column);
        IF b.sever_with = 'delete' THEN
            EXECUTE pg_catalog.format('DELETE FROM %s WHERE %I = ANY ($1::%s[])', b.relation, b.patron_column, t) USING ids;
        ELSE
            -- the patron's rows lose every patron column, as a severed row does
            EXECUTE pg_catalog.format('UPDATE %s SET %s WHERE %I = ANY ($1::%s[])', b.relation,
                           (SELECT pg_catalog.string_agg(pg_catalog.format('%I = %L', c, CASE WHEN b.sever_with <> 'null' THEN substr(b.sever_with, 8) END), ', ')
                              FROM unnest(b.patron_column || coalesce(b.more_patron_columns, '{}')) c),
                           b.patron_column, t) USING ids;
        END IF;
        -- a patron named only in one of more_patron_columns (the requestor
        -- of another patron's hold) loses it there: NULL, or the placeholder
        -- (bind_loans refuses a NOT NULL one with 'null' or 'delete')
        FOR more_col IN SELECT x FROM unnest(b.more_patron_columns) x LOOP
            EXECUTE pg_catalog.format('UPDATE %s SET %I = %L WHERE %I = ANY ($1::%s[])', b.relation, more_col,
                           CASE WHEN b.sever_with LIKE 'patron:%' THEN substr(b.sever_with, 8) END, more_col, t) USING ids;
        END LOOP;
        -- a BEFORE trigger of the ILS that returned NULL skipped some rows
        -- (or one put the patron back): never a silent half purge
        -- (and which of the patrons they name: those are the ones kept)
        EXECUTE pg_catalog.format('SELECT count(*), ARRAY(SELECT DISTINCT x FROM unnest(pg_catalog.array_agg(ARRAY[%s])) x
                                    WHERE x = ANY ($1) ORDER BY 1) FROM %s t WHERE %s',
                       (SELECT pg_catalog.string_agg(pg_catalog.format('t.%I::text', c), ', ')
                          FROM unnest(b.patron_column || coalesce(b.more_patron_columns, '{}')) c),
                       b.relation,
                       (SELECT pg_catalog.string_agg(pg_catalog.format('t.%I = ANY ($1::%s[])', c, t), ' OR ')
                          FROM unnest(b.patron_column || coalesce(b.more_patron_columns, '{}')) c))
            INTO n, kept USING ids;
        IF n > 0 THEN
            PERFORM @extschema@._purge_kept_error(n, b.relation, b.sever_with);
        END IF;
    END LOOP;
    -- derived copies with a patron column: what severing the source did not
    -- reach (copies not linked to any source row)
    FOR cb IN SELECT c.* FROM @extschema@.copy_binding c WHERE c.patron_column IS NOT NULL LOOP
        t := @extschema@._column_type_name(cb.relation, cb.patron_column);
        -- only the rows that are copies (copy_when): the others are the ILS's own
        IF cb.sever_with = 'delete' THEN
            EXECUTE pg_catalog.format('DELETE FROM %s t WHERE t.%I = ANY ($1::%s[]) AND %s', cb.relation, cb.patron_column, t,
                                      @extschema@._copy_when_sql(cb)) USING ids;
        ELSIF cb.sever_with = 'null' THEN
            EXECUTE pg_catalog.format('UPDATE %s t SET %I = NULL WHERE t.%I = ANY ($1::%s[]) AND %s', cb.relation, cb.patron_column,
                                      cb.patron_column, t, @extschema@._copy_when_sql(cb)) USING ids;
        ELSIF cb.sever_with LIKE 'patron:%' THEN
            EXECUTE pg_catalog.format('UPDATE %s t SET %I = %L WHERE t.%I = ANY ($1::%s[]) AND %s', cb.relation, cb.patron_column,
                           substr(cb.sever_with, 8), cb.patron_column, t, @extschema@._copy_when_sql(cb)) USING ids;
        END IF;
        -- a copy a trigger of the ILS kept (a BEFORE trigger returned NULL:
        -- a notice kept while its bill is open) or gave the patron back
        -- still names the patron, and ties them to an item: the patron is
        -- not purged while it remains (an 'unlink' copy keeps its patron
        -- once unlinked: only rows still linked to a severed source count)
        SELECT * INTO lb FROM @extschema@.loan_binding l WHERE l.relation = cb.source;
        EXECUTE pg_catalog.format('SELECT count(*), ARRAY(SELECT DISTINCT x FROM unnest(pg_catalog.array_agg(t.%I::text)) x ORDER BY 1) FROM %s t WHERE %s',
                cb.patron_column, cb.relation,
                @extschema@._copy_sever_where(cb, pg_catalog.format('t.%I = ANY ($1::%s[])%s', cb.patron_column, t,
                    CASE WHEN cb.sever_with = 'unlink' AND lb.relation IS NOT NULL
                         THEN pg_catalog.format(' AND NOT (%s)', @extschema@._copy_held(cb, NULL))
                         ELSE '' END)))
            INTO n, kept USING ids;
        IF n > 0 THEN
            PERFORM @extschema@._purge_kept_error(n, cb.relation, cb.sever_with, cb.source);
        END IF;
    END LOOP;
    -- copies without a patron column: the rows keyed by the patron's source
    -- rows, which no source holds identified any more, are severed by the
    -- copy's strategy (the source's trigger did it, unless it is disabled),
    -- and what a trigger of the ILS kept keeps the patron from the purge
    FOR cb IN SELECT c.* FROM @extschema@.copy_binding c WHERE c.patron_column IS NULL AND c.sever_with <> 'keep' LOOP
        keys := copy_keys -> cb.relation::oid::text;
        CONTINUE WHEN keys IS NULL OR pg_catalog.jsonb_array_length(keys) = 0;
        t := pg_catalog.format('EXISTS (SELECT FROM pg_catalog.jsonb_array_elements($1) e WHERE %s) AND NOT (%s)',
                (SELECT pg_catalog.string_agg(pg_catalog.format('t.%I = (e ->> %s)::%s', k.key, k.n - 1,
                                                                @extschema@._column_type_name(cb.relation, k.key)), ' AND ' ORDER BY k.n)
                   FROM unnest(cb.key_columns) WITH ORDINALITY k(key, n)),
                @extschema@._copy_held(cb, NULL));
        EXECUTE @extschema@._copy_sever_checked_sql(cb, t) INTO expected, n USING keys;
        IF n < expected THEN
            -- (which patron's rows they were is not known here: kept stays NULL,
            -- and purge_expired() tries the batch's patrons one by one)
            kept := NULL;
            RAISE EXCEPTION 'purge: % of "%" (a copy of "%") kept their link to the patron''s loans after sever_with %',
                    CASE expected - n WHEN 1 THEN '1 row' ELSE (expected - n) || ' rows' END, cb.relation, cb.source,
                    pg_catalog.quote_literal(cb.sever_with)
                USING ERRCODE = 'triggered_action_exception',
                      DETAIL = 'The copy has no patron column: its rows are the patron''s through the loans they copy, and a trigger of the table skipped or undid their sever (a BEFORE trigger returned NULL).',
                      HINT = 'The patron is not purged while the rows remain (pals_privacy.sever_pending_rows lists them); change the trigger, or bind the copy with another sever_with. The next purge tries the patron again.';
        END IF;
    END LOOP;
    PERFORM @extschema@._purge_outbox(ids);
    t := @extschema@._column_type_name(pb.relation, pb.id_column);
    IF pb.purge_function IS NULL THEN
        EXECUTE pg_catalog.format('DELETE FROM %s WHERE %I = ANY ($1::%s[])', pb.relation, pb.id_column, t) USING ids;
        GET DIAGNOSTICS n = ROW_COUNT;
    ELSE
        SELECT p.proname, n2.nspname INTO fn FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n2 ON n2.oid = p.pronamespace
         WHERE p.oid = pb.purge_function::regprocedure;
        -- one statement calls it once per patron
        -- (as the patron table's owner where the caller is a superuser:
        -- src/ils_owner.c)
        n := @extschema@._run_as_owner(pb.relation,
                 pg_catalog.format('SELECT count(*) FROM (SELECT %I.%I(x) FROM unnest($1::%s[]) x) s',
                                   fn.nspname, fn.proname, t), ids);
        -- a purge function that soft-deletes leaves the row: recorded, so that
        -- the patron is never eligible, purged or counted again
        EXECUTE pg_catalog.format('INSERT INTO @extschema@.purged_patrons (relation, patron)
                                   SELECT $2, p.%I::text FROM %s p WHERE p.%I = ANY ($1::%s[]) ON CONFLICT DO NOTHING',
                                  pb.id_column, pb.relation, pb.id_column, t) USING ids, pb.relation;
    END IF;
    -- account records (bind_account) the purge function left still name the
    -- patrons (a soft delete keeps payments and charges with the patron's
    -- id): each relation's purge_with, after the function, so that one that
    -- deleted or re-pointed them itself leaves nothing to do; rows a trigger
    -- of the ILS kept keep their patrons from the purge
    SELECT * INTO acc FROM @extschema@._purge_accounts(ids);
    IF acc.kept IS NOT NULL THEN
        kept := acc.kept;
        PERFORM @extschema@._purge_account_error(acc.remaining, acc.relation, acc.purge_with);
    END IF;
    -- private history last: the purge function's own triggers may have
    -- written the patron's old rows into it (an ILS audit history)
    FOR b IN SELECT * FROM @extschema@.private_history_binding LOOP
        t := @extschema@._column_type_name(b.relation, b.patron_column);
        EXECUTE pg_catalog.format('DELETE FROM %s WHERE %I = ANY ($1::%s[])', b.relation, b.patron_column, t) USING ids;
    END LOOP;
    PERFORM @extschema@._purge_outbox(ids);
    DELETE FROM @extschema@.private_history h WHERE h.patron = ANY (ids);
    DELETE FROM @extschema@.consents c WHERE c.patron = ANY (ids);
    DELETE FROM @extschema@.patron_pins p WHERE p.patron = ANY (ids);
    DELETE FROM @extschema@.consent_history c WHERE c.patron = ANY (ids);
    kept := NULL;
    purged := n;
    EXCEPTION WHEN triggered_action_exception THEN
        -- only the check above that named the patrons whose rows were kept
        -- is answered here: the work of all of them is rolled back
        IF kept IS NULL OR cardinality(kept) = 0 THEN
            RAISE;
        END IF;
        GET STACKED DIAGNOSTICS message = MESSAGE_TEXT, detail = PG_EXCEPTION_DETAIL, hint = PG_EXCEPTION_HINT;
        purged := NULL;
    END;
END $$;

REVOKE ALL ON FUNCTION @extschema@._purge_patrons_try(text[]) FROM PUBLIC;
