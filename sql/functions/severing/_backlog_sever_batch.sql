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
--     one by one through _sever_one() (which records why they stay pending);
--   * reorder (sever_backlog's, default true): the rows the batch keeps
--     identified that a class may read as the placeholder (opted in with
--     history_mode 'in_place', not settled yet) are written again, with
--     their own values, by the same statement, interleaved with the rows
--     severed in the order of their TIDs: new versions of kept and severed
--     rows alike, so that a scan without ORDER BY does not return the kept
--     ones apart (docs/redaction.md, "Storage order").  Not the items' last
--     borrowers: staff read them as they are, and a class that reads every
--     patron masked tells them by the item's latest closed value, which it
--     reads (and their tracker entries stay as they are).
--     Not for sever_with 'delete' (a kept closed row is not read by classes
--     that do not read its patron: there is no order of it to read).  A
--     kept row written again ahead of the walk (a later line pointer or
--     block before walk_end, the end of the walk) is recorded in
--     pg_temp.pals_privacy_backlog_ahead, so that the walk does not take it
--     again (sever_backlog).
-- No SET search_path: the ILS's triggers run under the caller's, as they
-- do for a return.  Returns the rows severed, kept and left pending.
CREATE OR REPLACE FUNCTION @extschema@._backlog_sever_batch(b @extschema@.loan_binding, reorder boolean DEFAULT true,
    walk_end tid DEFAULT NULL, OUT severed bigint, OUT kept bigint, OUT pending bigint)
LANGUAGE plpgsql SET pals_privacy.sweep_as_owner = on AS $$
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
    rewrite boolean := reorder AND b.sever_with <> 'delete';
    k_all bigint;
    old_cols name[];
    patron_cols name[] := b.patron_column || coalesce(b.more_patron_columns, '{}');
    check_kept boolean;
    need_old_keys boolean;
    key_off int;
    n_changed bigint;
    moved tid;
    kept_tids tid[];
BEGIN
    severed := 0; kept := 0; pending := 0;
    p := @extschema@._loan_predicates(b, 't');
    -- (the walk wrote the rows' patrons, items and closed times only where
    -- the binding collected statistics when it read them)
    stats := EXISTS (SELECT FROM @extschema@.statistics_binding s WHERE s.relation = b.relation)
             AND EXISTS (SELECT FROM pg_temp.pals_privacy_backlog_rows x WHERE x.patron IS NOT NULL);
    -- the rows of patrons who keep their history in place are not severed
    -- (with reorder, written again as they are)
    IF in_place THEN
        SELECT count(*) INTO kept FROM pg_temp.pals_privacy_backlog_rows x WHERE x.target AND x.optin;
    END IF;
    -- the statement that severs the batch's rows of one relation, given as
    -- arrays ($1 the TIDs, $8 whether the row is severed, or, reorder,
    -- written again as it is; for a binding that collects statistics $3
    -- patrons, $4 items, $5 closed times; $6 the binding, $7 the TIDs of
    -- the opted-in rows severed): per row severed whether it still has a
    -- patron (a BEFORE UPDATE trigger of the ILS may have put it back).
    -- Only what a part of the statement reads goes through it (each
    -- column is formed in the function scan, its row copy for a
    -- concurrent update, the hash, the returned rows and their CTE): the
    -- history copy reads the patron and item from the row itself.
    -- The rows are found by a TID scan and joined to the arrays by hashing
    -- (the planner knows the arrays' sizes; a join to the batch table,
    -- whose size it does not know, could become a nested loop over both);
    -- the arrays are in TID order, and so is a TID scan's output, so the
    -- rows are written in that order whichever side is hashed.
    sever_sql := CASE WHEN b.sever_with = 'delete'
                      THEN 'DELETE FROM ONLY %1$s t USING'
                      WHEN NOT rewrite
                      THEN format('UPDATE ONLY %%1$s t SET %s FROM',
                                  (SELECT replace(string_agg(format('%I = %s', pc, CASE WHEN b.sever_with = 'null' THEN 'NULL'
                                                                                   ELSE quote_literal(substr(b.sever_with, 8)) END), ', '), '%', '%%')
                                     FROM unnest(patron_cols) pc))
                      -- (a kept row: its own value, the column unchanged)
                      ELSE format('UPDATE ONLY %%1$s t SET %s FROM',
                                  (SELECT replace(string_agg(format('%1$I = CASE WHEN x.sever THEN %2$s ELSE t.%1$I END', pc,
                                                                    CASE WHEN b.sever_with = 'null' THEN 'NULL'
                                                                         ELSE quote_literal(substr(b.sever_with, 8)) END), ', '), '%', '%%')
                                     FROM unnest(patron_cols) pc)) END
              || CASE WHEN stats THEN ' unnest($1::tid[], $8::boolean[], $3::text[], $4::text[], $5::timestamptz[]) AS x (tid, sever, patron, item, closed_at)%2$s'
                      ELSE ' unnest($1::tid[], $8::boolean[]) AS x (tid, sever)%2$s' END
              || ' WHERE t.ctid = ANY ($1) AND t.ctid = x.tid'
              || format(' RETURNING t.ctid AS new_tid, x.tid AS old_tid, x.sever, %s AS still%s%%3$s',
                        CASE WHEN b.sever_with = 'delete' THEN 'false'
                             ELSE format('(x.sever AND %s)', replace(p.identified, '%', '%%')) END,
                        CASE WHEN stats THEN ', x.patron, x.item, x.closed_at' ELSE '' END);
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
                @extschema@._copy_sever_sql(ca, format('EXISTS (SELECT FROM s WHERE s.sever AND NOT s.still%s)', match_t)));
            copy_oids := copy_oids || c.relation::oid;
            copy_multi := copy_multi || (c.more_sources IS NOT NULL);
        END LOOP;
    END IF;
    -- (per relation: the rows to sever, and with reorder the rows kept,
    -- sever false; in the order the walk wrote them to the batch table,
    -- which is their TIDs' (a range read in physical order), and which
    -- the arrays keep)
    FOR r IN SELECT x.rid, array_agg(x.tid) AS tids,
                    array_agg(x.patron) FILTER (WHERE stats) AS patrons, array_agg(x.item) FILTER (WHERE stats) AS items,
                    array_agg(x.closed_at) FILTER (WHERE stats) AS closed, array_agg(x.sever) AS severs,
                    bool_or(x.optin AND x.sever) AS any_optin,
                    array_agg(x.tid) FILTER (WHERE x.optin AND x.sever) AS optin_tids,
                    bool_or(NOT x.sever) AS any_kept
               FROM (SELECT x.*, x.target AND NOT (in_place AND x.optin) AS sever
                       FROM pg_temp.pals_privacy_backlog_rows x WHERE NOT x.fallback) x
              WHERE x.sever OR (rewrite AND NOT x.last) GROUP BY x.rid
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
        -- a kept row written again is checked for a patron column a BEFORE
        -- UPDATE trigger or a rule of the ILS changed (with the placeholder's
        -- foreign-key check left out, such a change would go unchecked: the
        -- statement is undone, its rows go one by one), its patron columns
        -- read as they were by the join below
        check_kept := rewrite AND r.any_kept AND b.sever_with LIKE 'patron:%'
            AND (EXISTS (SELECT FROM pg_catalog.pg_trigger g
                          WHERE g.tgrelid = r.rid AND g.tgtype & 19 = 19 AND g.tgenabled <> 'D')  -- ROW, BEFORE, UPDATE
                 OR EXISTS (SELECT FROM pg_catalog.pg_rewrite w WHERE w.ev_class = r.rid AND w.ev_type = '2'));
        -- the keys the rows had before the statement: as it returns them,
        -- unless a row can leave it with another key (the patron column
        -- is part of a key, a BEFORE UPDATE trigger or a rule of the ILS
        -- may change one): then read as they were (the statement's
        -- snapshot), by a join of the rows by their TIDs
        need_old_keys := cardinality(r_oids) > 0 AND b.sever_with <> 'delete' AND (b.patron_column = ANY (old_keys)
            OR EXISTS (SELECT FROM pg_catalog.pg_trigger g
                        WHERE g.tgrelid = r.rid AND g.tgtype & 19 = 19 AND g.tgenabled <> 'D')  -- ROW, BEFORE, UPDATE
            OR EXISTS (SELECT FROM pg_catalog.pg_rewrite w WHERE w.ev_class = r.rid AND w.ev_type = '2'));
        -- (the columns read as they were: the patron columns, then the keys)
        old_cols := CASE WHEN check_kept THEN patron_cols ELSE '{}' END;
        key_off := cardinality(old_cols);
        IF need_old_keys THEN
            old_cols := old_cols || old_keys;
        END IF;
        IF cardinality(old_cols) > 0 THEN
            old_sql := (SELECT format(' JOIN (SELECT o.ctid AS pals_tid, %s FROM ONLY %s o WHERE o.ctid = ANY ($1)) o ON o.pals_tid = x.tid',
                                      string_agg(format('o.%I AS pals_o%s', u.col, u.n), ', ' ORDER BY u.n), r.rid::regclass)
                          FROM unnest(old_cols) WITH ORDINALITY u(col, n));
        ELSE
            old_sql := '';
        END IF;
        stmt := format('WITH s AS (%s)', format(sever_sql, r.rid::regclass, old_sql,
            -- the keys of the copies' rows, as they were or as returned
            coalesce((SELECT string_agg(CASE WHEN need_old_keys THEN format(', o.pals_o%s AS pals_k%s', key_off + u.n, u.n)
                                             ELSE format(', t.%I AS pals_k%s', u.key, u.n) END, '' ORDER BY u.n)
                        FROM unnest(CASE WHEN cardinality(r_oids) > 0 THEN old_keys ELSE '{}' END) WITH ORDINALITY u(key, n)), '')
            -- a kept row whose patron columns the statement changed
            || CASE WHEN check_kept
                    THEN format(', NOT x.sever AND (%s) IS DISTINCT FROM (%s) AS pals_changed',
                                (SELECT string_agg(format('t.%I', q.pc), ', ' ORDER BY q.o) FROM unnest(patron_cols) WITH ORDINALITY q(pc, o)),
                                (SELECT string_agg(format('o.pals_o%s', q.o), ', ' ORDER BY q.o) FROM unnest(patron_cols) WITH ORDINALITY q(pc, o)))
                    ELSE ', false AS pals_changed' END));
        stmt := stmt || r_parts;
        IF r.any_optin THEN
            -- copies of the opted-in rows, as they were before this statement
            -- (the statement's snapshot still sees them so; read by their
            -- TIDs, $7, not the whole batch's)
            -- ($7: opted in and severed; the patron and item as the walk
            -- read them, from the same row version)
            stmt := stmt || format(', h AS (INSERT INTO @extschema@.private_history (patron, relation, item, row_data)
                                           SELECT o.%2$I::text, $6, o.%3$I::text, to_jsonb(o) FROM ONLY %1$s o JOIN s ON o.ctid = s.old_tid
                                            WHERE o.ctid = ANY ($7) AND s.sever AND NOT s.still ORDER BY s.old_tid)',
                                   r.rid::regclass, b.patron_column, b.item_column);
        END IF;
        -- (the patrons, items and closed times of the rows severed: for their
        -- statistics records, if the binding collects them)
        stmt := stmt || ' SELECT count(*) FILTER (WHERE sever), count(*), count(*) FILTER (WHERE pals_changed),'
                     || ' coalesce(array_agg(new_tid) FILTER (WHERE still), ''{}'')'
                     || ', coalesce(array_agg(new_tid) FILTER (WHERE NOT sever), ''{}'')'
                     || CASE WHEN stats THEN ', array_agg(patron) FILTER (WHERE sever AND NOT still), array_agg(item) FILTER (WHERE sever AND NOT still),
                                              array_agg(closed_at) FILTER (WHERE sever AND NOT still) FROM s'
                             ELSE ', NULL::text[], NULL::text[], NULL::timestamptz[] FROM s' END;
        BEGIN
            PERFORM @extschema@._copy_sever_collect();
            -- re-pointed to the guarded placeholder: no foreign-key check
            -- (src/placeholder_guard.c) ...
            IF b.sever_with LIKE 'patron:%' THEN
                PERFORM @extschema@._skip_placeholder_check(r.rid::regclass);
            END IF;
            -- ... and the triggers of the copies it severs itself, and the
            -- tombstone trigger (no row of the batch is its item's last borrower)
            PERFORM @extschema@._backlog_copies_in_statement(r.rid::regclass, r_oids);
            -- the rows by their TIDs (the planner, costing random reads, may
            -- prefer to read the whole relation at every batch)
            PERFORM pg_catalog.set_config('enable_seqscan', 'off', true);
            -- (planned for these rows, run once: compiling it is waste)
            PERFORM pg_catalog.set_config('jit', 'off', true);
            EXECUTE stmt INTO k, k_all, n_changed, still_tids, kept_tids, s_patrons, s_items, s_closed
                USING r.tids, NULL::boolean[], r.patrons, r.items, r.closed, b.relation, r.optin_tids, r.severs;
            PERFORM pg_catalog.set_config('enable_seqscan', seqscan, true);
            PERFORM pg_catalog.set_config('jit', jit, true);
            -- ... unless an ILS trigger put a patron back, who went unchecked:
            -- the statement is undone, its rows go one by one
            -- (or changed the patron of a row kept and written again)
            IF b.sever_with LIKE 'patron:%' AND (cardinality(still_tids) > 0 OR n_changed > 0) THEN
                RAISE EXCEPTION 'a trigger kept the patron of a row being severed' USING ERRCODE = 'triggered_action_exception';
            END IF;
            PERFORM @extschema@._copy_sever_flush();
            IF walk_end IS NOT NULL AND cardinality(kept_tids) > 0 THEN
                INSERT INTO pg_temp.pals_privacy_backlog_ahead (rid, tid)
                SELECT r.rid, t FROM unnest(kept_tids) t WHERE t > (SELECT max(o) FROM unnest(r.tids) o) AND t < walk_end
                ON CONFLICT DO NOTHING;
            END IF;
            IF stats AND s_patrons IS NOT NULL THEN
                PERFORM @extschema@._record_statistics(b.relation, s_patrons, s_items, s_closed);
            END IF;
            severed := severed + k - cardinality(still_tids);
            -- rows a BEFORE trigger of the ILS skipped (it returned NULL)
            -- are still where they were: they go one by one below, and are
            -- left pending with the reason
            -- (a kept row skipped stays where it is)
            IF k_all < cardinality(r.tids) THEN
                EXECUTE format('SELECT coalesce(array_agg(ctid), ''{}'') FROM ONLY %s WHERE ctid = ANY ($1)', r.rid::regclass)
                    INTO skipped USING r.tids;
                UPDATE pg_temp.pals_privacy_backlog_rows x SET fallback = true
                 WHERE x.rid = r.rid AND x.target AND NOT (in_place AND x.optin) AND x.tid = ANY (skipped);
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
             WHERE x.rid = r.rid AND ((x.target AND NOT (in_place AND x.optin)) OR (rewrite AND NOT x.last));
        END;
    END LOOP;
    -- rows skipped above, and the rows of a statement that failed, one by
    -- one in TID order: severed, or (reorder) a kept row written again as it
    -- is (its severing trigger fires and finds it kept; a row that cannot be
    -- written stays where it is)
    FOR r IN SELECT x.rid, x.tid, x.target AND NOT (in_place AND x.optin) AS sever
               FROM pg_temp.pals_privacy_backlog_rows x WHERE x.fallback ORDER BY x.rid, x.tid LOOP
        IF r.sever THEN
            outcome := @extschema@._sever_one(b.relation, r.rid::regclass, r.tid);
            CASE outcome
                WHEN 'severed' THEN severed := severed + 1;
                WHEN 'kept' THEN kept := kept + 1;
                WHEN 'pending' THEN pending := pending + 1;
                ELSE NULL;
            END CASE;
        ELSE
            BEGIN
                EXECUTE format('UPDATE ONLY %s SET %I = %I WHERE ctid = $1 RETURNING ctid', r.rid::regclass, b.patron_column, b.patron_column)
                    INTO moved USING r.tid;
                IF walk_end IS NOT NULL AND moved > r.tid AND moved < walk_end THEN
                    INSERT INTO pg_temp.pals_privacy_backlog_ahead (rid, tid) VALUES (r.rid, moved) ON CONFLICT DO NOTHING;
                END IF;
            EXCEPTION WHEN OTHERS THEN
                NULL;
            END;
        END IF;
    END LOOP;
END $$;

REVOKE ALL ON FUNCTION @extschema@._backlog_sever_batch(@extschema@.loan_binding,boolean,tid) FROM PUBLIC;
