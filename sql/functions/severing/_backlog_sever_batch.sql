-- One batch of sever_backlog(): the rows of pg_temp.pals_privacy_backlog_rows
-- marked target (closed, settled, identified, not their item's last
-- borrower) lose their patron, set-based: one statement per table or
-- partition, whatever the patron's opt-in.  What the severing of each row
-- does one by one (src/sever.c), done for the batch at once:
--   * a patron who opted in keeps the row (history_mode 'in_place': not
--     touched, counted kept) or gets a copy of it in private_history first
--     (history_mode 'copy': the row as it was before the statement, written
--     by the same statement, only for rows that did lose their patron);
--   * pseudonymous statistics, for bindings that collect them, one record
--     per row that lost its patron (_record_statistics);
--   * derived copies (bind_copy) of the rows severed, by a part of the same
--     statement per copy binding, keyed by the rows' keys as they were
--     before it (the statement's snapshot), and the copy triggers of those
--     bindings left out of it (_backlog_copies_in_statement): no per-row
--     firing.  A copy binding's trigger the statement does not know of
--     (bound since) fires and is collected (_copy_sever_collect /
--     _copy_sever_flush), as before;
--   * a row an ILS trigger gave its patron back is left pending; a row a
--     BEFORE trigger skipped, and every row of a statement that failed, go
--     one by one through _sever_one() (which records why they stay pending).
-- No SET search_path: the ILS's triggers run under the caller's, as they
-- do for a return.  Returns the rows severed, kept and left pending.
CREATE OR REPLACE FUNCTION @extschema@._backlog_sever_batch(b @extschema@.loan_binding,
    OUT severed bigint, OUT kept bigint, OUT pending bigint)
LANGUAGE plpgsql AS $$
DECLARE
    p record;
    r record;
    in_place boolean := b.history_mode = 'in_place';
    stats boolean;
    sever_sql text;
    stmt text;
    k bigint;
    still_tids tid[];
    skipped tid[];
    s_patrons text[];
    s_items text[];
    s_closed timestamptz[];
    outcome text;
    seqscan text := pg_catalog.current_setting('enable_seqscan');
    jit text := pg_catalog.current_setting('jit');
    c @extschema@.copy_binding;
    ca @extschema@.copy_binding;
    copy_oids oid[] := '{}';
    copy_parts text[] := '{}';
    copy_multi boolean[] := '{}';
    r_oids oid[];
    r_parts text;
    ki2 int;
    old_keys name[] := '{}';
    old_sql text;
    ki int;
    match_t text;
    rls_exempt boolean;
BEGIN
    severed := 0; kept := 0; pending := 0;
    p := @extschema@._loan_predicates(b, 't');
    stats := EXISTS (SELECT FROM @extschema@.statistics_binding s WHERE s.relation = b.relation);
    -- the rows of patrons who keep their history in place are not touched
    IF in_place THEN
        SELECT count(*) INTO kept FROM pg_temp.pals_privacy_backlog_rows x WHERE x.target AND x.optin;
    END IF;
    -- the statement that severs the batch's rows of one relation, given as
    -- arrays ($1 the TIDs, $2 opted in, $3 patrons, $4 items, $5 closed
    -- times; $6 the binding): per row whether it still has a patron (a
    -- BEFORE UPDATE trigger of the ILS may have put it back).  The rows are
    -- found by a TID scan and joined to the arrays by hashing (the planner
    -- knows the arrays' sizes; a join to the batch table, whose size it
    -- does not know, could become a nested loop over both).
    sever_sql := CASE WHEN b.sever_with = 'delete'
                      THEN 'DELETE FROM ONLY %1$s t USING'
                      WHEN b.sever_with = 'null'
                      THEN format('UPDATE ONLY %%1$s t SET %s FROM',
                                  (SELECT replace(string_agg(format('%I = NULL', pc), ', '), '%', '%%')
                                     FROM unnest(b.patron_column || coalesce(b.more_patron_columns, '{}')) pc))
                      ELSE format('UPDATE ONLY %%1$s t SET %s FROM',
                                  (SELECT replace(string_agg(format('%I = %L', pc, substr(b.sever_with, 8)), ', '), '%', '%%')
                                     FROM unnest(b.patron_column || coalesce(b.more_patron_columns, '{}')) pc)) END
              || ' unnest($1::tid[], $2::boolean[], $3::text[], $4::text[], $5::timestamptz[]) AS x (tid, optin, patron, item, closed_at)%2$s'
              || ' WHERE t.ctid = ANY ($1) AND t.ctid = x.tid'
              || format(' RETURNING t.ctid AS new_tid, x.tid AS old_tid, x.optin, x.patron, x.item, x.closed_at, %s AS still%%3$s',
                        CASE WHEN b.sever_with = 'delete' THEN 'false' ELSE replace(p.identified, '%', '%%') END);
    -- the copy bindings of this relation (as their source, or one of their
    -- sources): a part of the statement each, severing the copies whose
    -- key is the key a row of the batch had before the statement, unless
    -- the row kept its patron (still) or another source holds the key
    -- identified (_copy_sever_sql); the rows' keys read in pals_old
    IF pg_catalog.to_regclass('@extschema@.copy_binding') IS NOT NULL THEN
        SELECT g.rolsuper OR g.rolbypassrls INTO rls_exempt FROM pg_catalog.pg_roles g WHERE g.rolname = current_user;
        FOR c IN SELECT * FROM @extschema@.copy_binding x
                  WHERE (x.source = b.relation OR b.relation = ANY (x.more_sources)) AND x.sever_with <> 'keep'
                  ORDER BY x.relation::oid LOOP
            SELECT * INTO ca FROM @extschema@._copy_binding_as(c.relation,
                                      CASE WHEN c.source = b.relation THEN NULL ELSE b.relation::oid END);
            CONTINUE WHEN NOT FOUND;
            -- the statement runs as the caller: a copy the caller may not
            -- change, or whose rows (or another source's) row security may
            -- hide, is left to its trigger (which runs as the extension's owner)
            CONTINUE WHEN NOT (pg_catalog.has_table_privilege(c.relation, 'SELECT')
                               AND pg_catalog.has_table_privilege(c.relation, CASE WHEN c.sever_with = 'delete' THEN 'DELETE' ELSE 'UPDATE' END))
                       OR (NOT rls_exempt AND EXISTS (
                               SELECT FROM pg_catalog.pg_class k
                                WHERE k.relrowsecurity AND k.oid IN (SELECT x.source FROM @extschema@._copy_sources(c) x
                                                                     UNION ALL SELECT c.relation)
                                  -- (the extension's own pass-through policies hide nothing)
                                  AND (EXISTS (SELECT FROM pg_catalog.pg_policy po WHERE po.polrelid = k.oid
                                                  AND po.polname NOT IN ('pals_privacy_guard', 'pals_privacy_redaction'))
                                       OR NOT EXISTS (SELECT FROM pg_catalog.pg_policy po WHERE po.polrelid = k.oid
                                                         AND po.polname = 'pals_privacy_redaction'))))
                       OR EXISTS (SELECT FROM @extschema@._copy_sources(c) x WHERE NOT pg_catalog.has_table_privilege(x.source, 'SELECT'));
            match_t := '';
            FOR ki IN 1 .. cardinality(ca.key_columns) LOOP
                IF NOT ca.source_keys[ki] = ANY (old_keys) THEN
                    old_keys := old_keys || ca.source_keys[ki];
                END IF;
                match_t := match_t || format(' AND t.%I = s.pals_k%s::%s', ca.key_columns[ki],
                                             pg_catalog.array_position(old_keys, ca.source_keys[ki]),
                                             @extschema@._column_type_name(ca.relation, ca.key_columns[ki]));
            END LOOP;
            copy_parts := copy_parts || format(', pals_copy_%s AS (%s)', cardinality(copy_oids) + 1,
                -- (EXISTS: a hash semi join on the rows of s; IN hashed them
                -- twice, to make them distinct and to join)
                @extschema@._copy_sever_sql(ca, format('EXISTS (SELECT FROM s WHERE NOT s.still%s)', match_t)));
            copy_oids := copy_oids || c.relation::oid;
            copy_multi := copy_multi || (c.more_sources IS NOT NULL);
        END LOOP;
    END IF;
    FOR r IN SELECT x.rid, array_agg(x.tid) AS tids, array_agg(x.optin) AS optins, array_agg(x.patron) AS patrons,
                    array_agg(x.item) AS items, array_agg(x.closed_at) AS closed, bool_or(x.optin) AS any_optin,
                    array_agg(x.tid) FILTER (WHERE x.optin) AS optin_tids
               FROM pg_temp.pals_privacy_backlog_rows x
              WHERE x.target AND NOT x.fallback AND NOT (in_place AND x.optin) GROUP BY x.rid
    LOOP
        -- the copy parts for this relation: a copy with several sources is
        -- left to its trigger where the ILS has triggers of its own on the
        -- relation (one might write a row of another source that keeps the
        -- copy: the trigger, firing after it, sees that row; the statement's
        -- part, reading the statement's snapshot, would not)
        r_oids := '{}'; r_parts := '';
        FOR ki2 IN 1 .. cardinality(copy_oids) LOOP
            CONTINUE WHEN copy_multi[ki2] AND EXISTS (
                SELECT FROM pg_catalog.pg_trigger g
                 WHERE g.tgrelid = r.rid AND NOT g.tgisinternal AND g.tgenabled <> 'D'
                   AND g.tgname NOT LIKE 'pals\_privacy\_%');
            r_oids := r_oids || copy_oids[ki2];
            r_parts := r_parts || copy_parts[ki2];
        END LOOP;
        IF cardinality(r_oids) = 0 THEN
            stmt := format('WITH s AS (%s)', format(sever_sql, r.rid::regclass, '', ''));
        ELSE
            -- the keys the rows had before the statement: as it returns them,
            -- unless a row can leave it with another key (the patron column
            -- is part of a key, a BEFORE UPDATE trigger or a rule of the ILS
            -- may change one): then read as they were (the statement's
            -- snapshot), by a join of the rows by their TIDs
            IF b.sever_with <> 'delete' AND (b.patron_column = ANY (old_keys)
                OR EXISTS (SELECT FROM pg_catalog.pg_trigger g
                            WHERE g.tgrelid = r.rid AND g.tgtype & 19 = 19 AND g.tgenabled <> 'D')  -- ROW, BEFORE, UPDATE
                OR EXISTS (SELECT FROM pg_catalog.pg_rewrite w WHERE w.ev_class = r.rid AND w.ev_type = '2')) THEN
                old_sql := (SELECT format(' JOIN (SELECT o.ctid AS pals_tid, %s FROM ONLY %s o WHERE o.ctid = ANY ($1)) o ON o.pals_tid = x.tid',
                                          string_agg(format('o.%I', u.key), ', ' ORDER BY u.n), r.rid::regclass)
                              FROM unnest(old_keys) WITH ORDINALITY u(key, n));
                stmt := format('WITH s AS (%s)', format(sever_sql, r.rid::regclass, old_sql,
                    (SELECT string_agg(format(', o.%I AS pals_k%s', u.key, u.n), '' ORDER BY u.n)
                       FROM unnest(old_keys) WITH ORDINALITY u(key, n))));
            ELSE
                stmt := format('WITH s AS (%s)', format(sever_sql, r.rid::regclass, '',
                    (SELECT string_agg(format(', t.%I AS pals_k%s', u.key, u.n), '' ORDER BY u.n)
                       FROM unnest(old_keys) WITH ORDINALITY u(key, n))));
            END IF;
            stmt := stmt || r_parts;
        END IF;
        IF r.any_optin THEN
            -- copies of the opted-in rows, as they were before this statement
            -- (the statement's snapshot still sees them so; read by their
            -- TIDs, $7, not the whole batch's)
            stmt := stmt || format(', h AS (INSERT INTO @extschema@.private_history (patron, relation, item, row_data)
                                           SELECT s.patron, $6, s.item, to_jsonb(o) FROM ONLY %s o JOIN s ON o.ctid = s.old_tid
                                            WHERE o.ctid = ANY ($7) AND s.optin AND NOT s.still ORDER BY s.old_tid)',
                                   r.rid::regclass);
        END IF;
        -- (the patrons, items and closed times of the rows severed: for their
        -- statistics records, if the binding collects them)
        stmt := stmt || ' SELECT count(*), coalesce(array_agg(new_tid) FILTER (WHERE still), ''{}'')'
                     || CASE WHEN stats THEN ', array_agg(patron) FILTER (WHERE NOT still), array_agg(item) FILTER (WHERE NOT still),
                                              array_agg(closed_at) FILTER (WHERE NOT still) FROM s'
                             ELSE ', NULL::text[], NULL::text[], NULL::timestamptz[] FROM s' END;
        BEGIN
            PERFORM @extschema@._copy_sever_collect();
            -- re-pointed to the guarded placeholder: no foreign-key check
            -- (src/placeholder_guard.c) ...
            IF b.sever_with LIKE 'patron:%' THEN
                PERFORM @extschema@._skip_placeholder_check(r.rid::regclass);
            END IF;
            -- ... and the triggers of the copies it severs itself
            PERFORM @extschema@._backlog_copies_in_statement(r.rid::regclass, r_oids);
            -- the rows by their TIDs (the planner, costing random reads, may
            -- prefer to read the whole relation at every batch)
            PERFORM pg_catalog.set_config('enable_seqscan', 'off', true);
            -- (planned for these rows, run once: compiling it is waste)
            PERFORM pg_catalog.set_config('jit', 'off', true);
            EXECUTE stmt INTO k, still_tids, s_patrons, s_items, s_closed
                USING r.tids, r.optins, r.patrons, r.items, r.closed, b.relation, r.optin_tids;
            PERFORM pg_catalog.set_config('enable_seqscan', seqscan, true);
            PERFORM pg_catalog.set_config('jit', jit, true);
            -- ... unless an ILS trigger put a patron back, who went unchecked:
            -- the statement is undone, its rows go one by one
            IF b.sever_with LIKE 'patron:%' AND cardinality(still_tids) > 0 THEN
                RAISE EXCEPTION 'a trigger kept the patron of a row being severed' USING ERRCODE = 'triggered_action_exception';
            END IF;
            PERFORM @extschema@._copy_sever_flush();
            IF stats AND s_patrons IS NOT NULL THEN
                PERFORM @extschema@._record_statistics(b.relation, s_patrons, s_items, s_closed);
            END IF;
            severed := severed + k - cardinality(still_tids);
            -- rows a BEFORE trigger of the ILS skipped (it returned NULL)
            -- are still where they were: they go one by one below, and are
            -- left pending with the reason
            IF k < cardinality(r.tids) THEN
                EXECUTE format('SELECT coalesce(array_agg(ctid), ''{}'') FROM ONLY %s WHERE ctid = ANY ($1)', r.rid::regclass)
                    INTO skipped USING r.tids;
                UPDATE pg_temp.pals_privacy_backlog_rows x SET fallback = true
                 WHERE x.rid = r.rid AND x.target AND x.tid = ANY (skipped);
            END IF;
            -- rows a trigger gave their patron back
            INSERT INTO @extschema@.sever_pending AS sp (binding, row_relid, row_tid, item, reason)
            SELECT b.relation, r.rid, x, NULL, 'a trigger of the table kept the patron of the row being severed'
              FROM unnest(still_tids) x
            ON CONFLICT (binding, row_relid, row_tid) DO UPDATE
               SET reason = EXCLUDED.reason, attempts = sp.attempts + 1, last_attempt = now();
            pending := pending + cardinality(still_tids);
        EXCEPTION WHEN OTHERS THEN
            UPDATE pg_temp.pals_privacy_backlog_rows x SET fallback = true
             WHERE x.rid = r.rid AND x.target AND NOT (in_place AND x.optin);
        END;
    END LOOP;
    -- rows skipped above, and the rows of a statement that failed, one by one
    FOR r IN SELECT x.rid, x.tid FROM pg_temp.pals_privacy_backlog_rows x WHERE x.target AND x.fallback LOOP
        outcome := @extschema@._sever_one(b.relation, r.rid::regclass, r.tid);
        CASE outcome
            WHEN 'severed' THEN severed := severed + 1;
            WHEN 'kept' THEN kept := kept + 1;
            WHEN 'pending' THEN pending := pending + 1;
            ELSE NULL;
        END CASE;
    END LOOP;
END $$;

REVOKE ALL ON FUNCTION @extschema@._backlog_sever_batch(@extschema@.loan_binding) FROM PUBLIC;
