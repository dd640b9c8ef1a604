-- Sever the history that existed before the extension was bound, item by
-- item in batches of batch_size items, one transaction per batch, then the
-- closed rows that have no item (title-level holds).  Resumable (progress
-- is committed with each batch) and idempotent.  dry_run => true changes
-- nothing and reports what it would do (sever_backlog_preview()).
CREATE OR REPLACE PROCEDURE @extschema@.sever_backlog(batch_size integer DEFAULT 1000, restart boolean DEFAULT false,
                                           dry_run boolean DEFAULT false)
LANGUAGE plpgsql AS $$
DECLARE
    b @extschema@.loan_binding;
    pb @extschema@.patron_binding;
    p record;
    r record;
    v record;
    prog @extschema@.backlog_progress;
    items text[];
    locked_items text[];
    itype text;
    order_expr text;
    optin_join text;
    optin_expr text;
    closed_at_expr text;
    chunk tid[];
    chunk_rid oid;
    res record;
    k bigint;
    n_rows bigint;
    seqscan text := pg_catalog.current_setting('enable_seqscan');
    n_severed bigint; n_kept bigint; n_pending bigint;
    t_severed bigint := 0; t_kept bigint := 0; t_pending bigint := 0;
    bindings oid[];
    bid oid;
    started timestamptz := clock_timestamp();
    n_copies bigint := 0;
    analyzed oid[] := '{}';
BEGIN
    PERFORM @extschema@._require_admin('sever_backlog');
    IF batch_size IS NULL OR batch_size < 1 THEN
        RAISE EXCEPTION 'sever_backlog: batch_size must be a positive number of items'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF dry_run THEN
        FOR v IN SELECT * FROM @extschema@.sever_backlog_preview(5) LOOP
            RAISE NOTICE 'sever_backlog (dry run): %: % closed rows: % to sever (sever_with %), % kept as their item''s last borrower, % of patrons who opted in, % not settled yet (kept), % without an item',
                v.relation, v.closed_rows, v.to_sever, quote_literal(v.sever_with), v.last_borrowers,
                v.kept_opted_in, v.unsettled, v.without_item
                USING DETAIL = format('First rows to sever: %s', v.sample_rows);
        END LOOP;
        RETURN;
    END IF;
    IF restart THEN
        DELETE FROM @extschema@.backlog_progress;
    END IF;
    -- the rows of one batch that are to lose their patron, or to be tracked
    -- (_backlog_sever_batch severs them): with the patron, item and closed
    -- time the statistics record and the history copy need
    IF pg_catalog.to_regclass('pg_temp.pals_privacy_backlog_rows') IS NULL THEN
        CREATE TEMP TABLE pals_privacy_backlog_rows (
            rid oid, tid tid, item text, last boolean, target boolean, optin boolean,
            patron text, closed_at timestamptz, fallback boolean NOT NULL DEFAULT false
        ) ON COMMIT DELETE ROWS;
    END IF;
    SELECT * INTO pb FROM @extschema@.patron_binding;
    SELECT array_agg(relation::oid ORDER BY relation::oid) INTO bindings FROM @extschema@.loan_binding;
    FOREACH bid IN ARRAY coalesce(bindings, '{}') LOOP
        SELECT * INTO b FROM @extschema@.loan_binding l WHERE l.relation = bid;
        CONTINUE WHEN NOT FOUND;
        INSERT INTO @extschema@.backlog_progress (binding, relation) VALUES (bid, b.relation::text)
        ON CONFLICT (binding) DO NOTHING;
        SELECT * INTO prog FROM @extschema@.backlog_progress g WHERE g.binding = bid;
        IF prog.finished_at IS NOT NULL THEN
            RAISE NOTICE 'sever_backlog: % already done (% rows severed); use restart => true to scan again',
                b.relation, prog.rows_severed;
            CONTINUE;
        END IF;
        p := @extschema@._loan_predicates(b, 't');
        itype := @extschema@._column_type_name(b.relation, b.item_column);
        order_expr := CASE WHEN cardinality(b.closed_columns) = 1 THEN format('t.%I', b.closed_columns[1])
                           ELSE format('GREATEST(%s)', (SELECT string_agg(format('t.%I', c), ', ')
                                                         FROM unnest(b.closed_columns) c)) END;
        IF pb.keep_history_column IS NOT NULL THEN
            optin_join := format('LEFT JOIN %s pt ON pt.%I = t.%I', pb.relation, pb.id_column, b.patron_column);
            optin_expr := @extschema@._optin_sql(pb, 'pt');
        ELSE
            optin_join := '';
            optin_expr := 'false';
        END IF;
        -- the closed time of a row, for its statistics record (a closed
        -- value that is not a date or time: NULL, recorded as now)
        closed_at_expr := CASE WHEN @extschema@._column_type_name(b.relation, b.closed_columns[1])
                                    IN ('timestamp with time zone', 'timestamp without time zone', 'date')
                               THEN format('(%s)::timestamptz', order_expr) ELSE 'NULL::timestamptz' END;
        LOOP
            -- each statement of a batch is planned for its rows and run
            -- once: compiling it (JIT, for the cost of reading by TID) is waste
            PERFORM pg_catalog.set_config('jit', 'off', true);
            -- the next batch of items that have closed rows (rows without an
            -- item come after: NULL is no place to resume from)
            EXECUTE format('SELECT array_agg(i::text ORDER BY i) FROM (
                                SELECT DISTINCT t.%1$I AS i FROM %2$s t
                                 WHERE t.%1$I IS NOT NULL AND ($1::text IS NULL OR t.%1$I > $1::%3$s) AND %4$s
                                 ORDER BY 1 LIMIT $2) s',
                           b.item_column, b.relation, itype, p.closed)
                INTO items USING prog.last_item, batch_size;
            EXIT WHEN items IS NULL;
            IF prog.last_item IS NOT NULL AND items[1] = prog.last_item THEN
                RAISE EXCEPTION 'sever_backlog: % makes no progress past item %', b.relation, prog.last_item
                    USING ERRCODE = 'internal_error',
                          DETAIL = format('Items of type %s do not order the same way as their text.', itype);
            END IF;
            -- lock the tracker rows of these items: a concurrent return of one
            -- of them waits for this batch, or this batch sees its result
            -- (EXECUTE: planned for each batch; a cached plan made while the
            -- tracker was empty scans all of it at every batch, which made
            -- the backlog quadratic in the number of items -- bench, issue 17)
            EXECUTE 'SELECT coalesce(pg_catalog.array_agg(lb.item), ''{}'')
                       FROM (SELECT lb.item FROM @extschema@.last_borrower lb
                              WHERE lb.binding = $1 AND lb.item = ANY ($2) FOR UPDATE) lb'
                INTO locked_items USING bid, items;
            n_severed := 0; n_kept := 0; n_pending := 0;
            EXECUTE format(
                'INSERT INTO pg_temp.pals_privacy_backlog_rows (rid, tid, item, last, target, optin, patron, closed_at)
                 SELECT rid, tid, item, last, target AND settled AND identified, optin, patron, closed_at FROM (
                     SELECT t.tableoid AS rid, t.ctid AS tid, t.%1$I::text AS item, %5$s AS settled, %6$s AS identified,
                            %8$s AS optin, t.%11$I::text AS patron, %12$s AS closed_at,
                            row_number() OVER (PARTITION BY t.%1$I ORDER BY %7$s DESC, t.tableoid DESC, t.ctid DESC) = 1
                                AND %10$L AS last,
                            row_number() OVER (PARTITION BY t.%1$I ORDER BY %7$s DESC, t.tableoid DESC, t.ctid DESC) > 1
                                OR NOT %10$L AS target
                       FROM %2$s t %9$s
                      WHERE t.%1$I BETWEEN $1::%3$s AND $2::%3$s AND %4$s) s
                  WHERE (last AND identified) OR (target AND settled AND identified)',
                b.item_column, b.relation, itype, p.closed, p.settled, p.identified, order_expr,
                optin_expr, optin_join, b.keep_last_borrower, b.patron_column, closed_at_expr)
                USING items[1], items[cardinality(items)];
            -- each item's latest closed row is its last borrower; where a
            -- concurrent return created the tracker row after this batch
            -- began, the return knows better and wins
            -- (the tracker rows found through their index, by the items'
            -- array: a join alone hashes the whole tracker at every batch;
            -- rows that already say so, as bind_loans built them, are left)
            IF cardinality(locked_items) > 0 THEN
                UPDATE @extschema@.last_borrower lb SET row_relid = x.rid, row_tid = x.tid
                  FROM pg_temp.pals_privacy_backlog_rows x
                 WHERE x.last AND lb.binding = bid AND lb.item = ANY (locked_items) AND lb.item = x.item
                   AND (lb.row_relid, lb.row_tid) IS DISTINCT FROM (x.rid, x.tid);
            END IF;
            IF cardinality(locked_items) < cardinality(items) THEN
                INSERT INTO @extschema@.last_borrower AS lb (binding, item, row_relid, row_tid)
                SELECT bid, x.item, x.rid, x.tid FROM pg_temp.pals_privacy_backlog_rows x
                 WHERE x.last AND NOT x.item = ANY (locked_items)
                ON CONFLICT (binding, item) DO NOTHING;
            END IF;
            -- the others lose their patron, a statement per table or
            -- partition, opted in or not (the copies first); rows that
            -- cannot be severed so go one by one
            res := @extschema@._backlog_sever_batch(b);
            n_severed := res.severed; n_kept := res.kept; n_pending := res.pending;
            UPDATE @extschema@.backlog_progress g
               SET last_item = items[cardinality(items)], items_done = g.items_done + cardinality(items),
                   rows_severed = g.rows_severed + n_severed, rows_kept = g.rows_kept + n_kept,
                   rows_pending = g.rows_pending + n_pending, batches = g.batches + 1,
                   updated_at = clock_timestamp()
             WHERE g.binding = bid
            RETURNING * INTO prog;
            RAISE NOTICE 'sever_backlog: % batch %: % items, % rows severed, % kept (opt-in), % pending',
                b.relation, prog.batches, cardinality(items), n_severed, n_kept, n_pending;
            t_severed := t_severed + n_severed; t_kept := t_kept + n_kept; t_pending := t_pending + n_pending;
            COMMIT;
        END LOOP;
        -- closed rows without an item (title-level holds): no item's last
        -- borrower, so each identified, settled one is severed; one pass
        -- (the query is read once), in chunks of batch_size rows of one
        -- relation, each severed set-based as a batch and committed
        n_rows := 0;
        chunk := '{}'; chunk_rid := NULL;
        FOR r IN EXECUTE format('SELECT rid, tid FROM (
                                     SELECT t.tableoid AS rid, t.ctid AS tid, 0 AS o FROM %s t
                                      WHERE t.%I IS NULL AND %s AND %s AND %s
                                     UNION ALL SELECT NULL, NULL, 1) q
                                  ORDER BY o, rid, tid',
                                b.relation, b.item_column, p.closed, p.settled, p.identified)
        LOOP
            -- a chunk is full, the relation changes, or the end (rid NULL)
            IF cardinality(chunk) > 0 AND (r.rid IS DISTINCT FROM chunk_rid OR cardinality(chunk) >= batch_size) THEN
                -- (by their TIDs: not the whole relation for every chunk)
                PERFORM pg_catalog.set_config('enable_seqscan', 'off', true);
                EXECUTE format('INSERT INTO pg_temp.pals_privacy_backlog_rows (rid, tid, item, last, target, optin, patron, closed_at)
                                SELECT t.tableoid, t.ctid, NULL, false, true, %1$s, t.%2$I::text, %3$s
                                  FROM ONLY %4$s t %5$s
                                 WHERE t.ctid = ANY ($1) AND t.%6$I IS NULL AND %7$s AND %8$s AND %9$s',
                               optin_expr, b.patron_column, closed_at_expr, chunk_rid::regclass, optin_join,
                               b.item_column, p.closed, p.settled, p.identified)
                    USING chunk;
                PERFORM pg_catalog.set_config('enable_seqscan', seqscan, true);
                res := @extschema@._backlog_sever_batch(b);
                UPDATE @extschema@.backlog_progress g
                   SET rows_severed = g.rows_severed + res.severed, rows_kept = g.rows_kept + res.kept,
                       rows_pending = g.rows_pending + res.pending, batches = g.batches + 1,
                       updated_at = clock_timestamp()
                 WHERE g.binding = bid;
                t_severed := t_severed + res.severed; t_kept := t_kept + res.kept; t_pending := t_pending + res.pending;
                COMMIT;
                chunk := '{}';
            END IF;
            EXIT WHEN r.rid IS NULL;
            chunk_rid := r.rid;
            chunk := chunk || r.tid;
            n_rows := n_rows + 1;
        END LOOP;
        IF n_rows > 0 THEN
            RAISE NOTICE 'sever_backlog: % closed rows without an item processed in %', n_rows, b.relation;
        END IF;
        UPDATE @extschema@.backlog_progress g SET finished_at = clock_timestamp(), updated_at = clock_timestamp()
         WHERE g.binding = bid;
        COMMIT;
    END LOOP;
    -- derived copies of rows severed before they were bound (the severing
    -- of each row above reached its copies through their triggers)
    IF to_regclass('@extschema@.copy_binding') IS NOT NULL THEN
        k := @extschema@.sever_copies();
        n_copies := k;
        IF k > 0 THEN
            RAISE NOTICE 'sever_backlog: % rows of derived copies severed', k;
        END IF;
        COMMIT;
    END IF;
    -- the planner's statistics of what changed, sampled before: they keep
    -- severed values (a deleted notice's text) until analyzed again.  A loan
    -- relation the backlog only updated ('null', 'patron:<id>') changed in
    -- its patron column alone, the one column whose statistics can hold what
    -- was severed: that column is analyzed (the same sample, one column's
    -- statistics computed instead of every column's: 40 % of the time on
    -- the demo's loans), unless extended statistics, an inheritance parent or
    -- inheritance children (not partitions, which are analyzed with their
    -- parent) call for the whole of _refresh_statistics
    FOR v IN SELECT l.relation, l.patron_column FROM @extschema@.loan_binding l
               JOIN @extschema@.backlog_progress g ON g.binding = l.relation::oid
              WHERE g.updated_at >= started AND g.rows_severed > 0 AND l.sever_with <> 'delete'
                AND NOT EXISTS (SELECT FROM pg_catalog.pg_inherits i WHERE i.inhrelid = l.relation)
                AND NOT EXISTS (SELECT FROM pg_catalog.pg_inherits i JOIN pg_catalog.pg_class c ON c.oid = i.inhrelid
                                 WHERE i.inhparent = l.relation AND NOT c.relispartition)
                AND NOT EXISTS (SELECT FROM pg_catalog.pg_statistic_ext x
                                 WHERE x.stxrelid = l.relation
                                    OR x.stxrelid IN (SELECT t.relid FROM pg_catalog.pg_partition_tree(l.relation) t))
    LOOP
        EXECUTE format('ANALYZE %s (%I)', v.relation, v.patron_column);
        analyzed := analyzed || v.relation::oid;
    END LOOP;
    k := @extschema@._refresh_statistics(ARRAY(
        SELECT g.binding FROM @extschema@.backlog_progress g
         WHERE g.updated_at >= started AND g.rows_severed > 0 AND g.binding <> ALL (analyzed)
        UNION
        SELECT c.relation::oid FROM @extschema@.copy_binding c
         WHERE c.source::oid IN (SELECT g.binding FROM @extschema@.backlog_progress g
                                  WHERE g.updated_at >= started AND g.rows_severed > 0)
            OR n_copies > 0));
    COMMIT;
    RAISE NOTICE 'sever_backlog: done: % rows severed, % kept for patrons who opted in, % left pending',
        t_severed, t_kept, t_pending;
END $$;

REVOKE ALL ON PROCEDURE @extschema@.sever_backlog(integer,boolean,boolean) FROM PUBLIC;
