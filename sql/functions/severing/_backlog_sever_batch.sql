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
--   * derived copies (bind_copy) of the rows severed, in the same
--     subtransaction, one statement per copy binding (_copy_sever_collect /
--     _copy_sever_flush) rather than one per row;
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
                                  (SELECT replace(string_agg(format('%I = NULL', c), ', '), '%', '%%')
                                     FROM unnest(b.patron_column || coalesce(b.more_patron_columns, '{}')) c))
                      ELSE format('UPDATE ONLY %%1$s t SET %s FROM',
                                  (SELECT replace(string_agg(format('%I = %L', c, substr(b.sever_with, 8)), ', '), '%', '%%')
                                     FROM unnest(b.patron_column || coalesce(b.more_patron_columns, '{}')) c)) END
              || ' unnest($1::tid[], $2::boolean[], $3::text[], $4::text[], $5::timestamptz[]) AS x (tid, optin, patron, item, closed_at)'
              || ' WHERE t.ctid = ANY ($1) AND t.ctid = x.tid'
              || format(' RETURNING t.ctid AS new_tid, x.tid AS old_tid, x.optin, x.patron, x.item, x.closed_at, %s AS still',
                        CASE WHEN b.sever_with = 'delete' THEN 'false' ELSE replace(p.identified, '%', '%%') END);
    FOR r IN SELECT x.rid, array_agg(x.tid) AS tids, array_agg(x.optin) AS optins, array_agg(x.patron) AS patrons,
                    array_agg(x.item) AS items, array_agg(x.closed_at) AS closed, bool_or(x.optin) AS any_optin
               FROM pg_temp.pals_privacy_backlog_rows x
              WHERE x.target AND NOT x.fallback AND NOT (in_place AND x.optin) GROUP BY x.rid
    LOOP
        stmt := format('WITH s AS (%s)', format(sever_sql, r.rid::regclass));
        IF r.any_optin THEN
            -- copies of the opted-in rows, as they were before this statement
            -- (the statement's snapshot still sees them so)
            stmt := stmt || format(', h AS (INSERT INTO @extschema@.private_history (patron, relation, item, row_data)
                                           SELECT s.patron, $6, s.item, to_jsonb(o) FROM ONLY %s o JOIN s ON o.ctid = s.old_tid
                                            WHERE o.ctid = ANY ($1) AND s.optin AND NOT s.still ORDER BY s.old_tid)',
                                   r.rid::regclass);
        END IF;
        stmt := stmt || ' SELECT count(*), coalesce(array_agg(new_tid) FILTER (WHERE still), ''{}''),
                                 array_agg(patron) FILTER (WHERE NOT still), array_agg(item) FILTER (WHERE NOT still),
                                 array_agg(closed_at) FILTER (WHERE NOT still) FROM s';
        BEGIN
            PERFORM @extschema@._copy_sever_collect();
            -- re-pointed to the guarded placeholder: no foreign-key check
            -- (src/placeholder_guard.c) ...
            IF b.sever_with LIKE 'patron:%' THEN
                PERFORM @extschema@._skip_placeholder_check(r.rid::regclass);
            END IF;
            -- the rows by their TIDs (the planner, costing random reads, may
            -- prefer to read the whole relation at every batch)
            PERFORM pg_catalog.set_config('enable_seqscan', 'off', true);
            EXECUTE stmt INTO k, still_tids, s_patrons, s_items, s_closed
                USING r.tids, r.optins, r.patrons, r.items, r.closed, b.relation;
            PERFORM pg_catalog.set_config('enable_seqscan', seqscan, true);
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
