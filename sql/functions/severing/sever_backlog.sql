-- Sever the history that existed before the extension was bound: each
-- relation holding rows (the table, its partitions or inheritance children)
-- is read once in physical order, in ranges of about batch_size rows, one
-- transaction per range; a closed, settled, identified row is severed unless
-- it is its item's last borrower (the tracker entry names it; where the
-- entry holds no such row, the row that has no later closed row of its
-- item).  Resumable (the position is committed with each batch) and
-- idempotent.  dry_run => true changes nothing and reports what it would do
-- (sever_backlog_preview()).  reorder => true (the default): the closed,
-- identified rows a range keeps that a class may read as the placeholder
-- (opted in, not settled yet; not last borrowers) are written again by the
-- statement that severs the others, so that the storage order does not set
-- them apart (_backlog_sever_batch).
-- docs/severing.md, "The backlog".
CREATE OR REPLACE PROCEDURE @extschema@.sever_backlog(batch_size integer DEFAULT 10000, restart boolean DEFAULT false,
                                           dry_run boolean DEFAULT false, reorder boolean DEFAULT true)
LANGUAGE plpgsql AS $$
DECLARE
    b @extschema@.loan_binding;
    pb @extschema@.patron_binding;
    p record;
    r record;
    v record;
    prog @extschema@.backlog_progress;
    order_expr text;
    optin_join text;
    optin_expr text;
    closed_at_expr text;
    res record;
    k bigint;
    n_rows bigint;
    n_severed bigint; n_kept bigint; n_pending bigint;
    t_severed bigint := 0; t_kept bigint := 0; t_pending bigint := 0;
    bindings oid[];
    bid oid;
    started timestamptz := clock_timestamp();
    n_copies bigint := 0;
    analyzed oid[] := '{}';
    walk_sql text;
    rel oid;
    blk bigint;
    off int;
    hi_blk bigint;
    hi_off int;
    lo tid;
    hi tid;
    nblocks bigint;
    per_block float8;
    n_items bigint;
    n_targets bigint;
    n_last bigint;
    block_size int := pg_catalog.current_setting('block_size')::int;
    blk_max int;
    n_entries bigint := 0;
    last_expr text;
    fix_sql text;
    fix_rels oid[];
    fix_nodes oid[];
    walk_node oid;
    cur_node oid;
    tk oid;
    tk_sql text;
    stats boolean;
BEGIN
    PERFORM @extschema@._require_admin('sever_backlog');
    -- (NULL: as the default, the private way)
    reorder := coalesce(reorder, true);
    IF batch_size IS NULL OR batch_size < 1 THEN
        RAISE EXCEPTION 'sever_backlog: batch_size must be a positive number of rows'
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
    -- the rows kept that a batch wrote again ahead of the walk (reorder):
    -- not taken again where they went (_backlog_sever_batch)
    IF pg_catalog.to_regclass('pg_temp.pals_privacy_backlog_ahead') IS NULL THEN
        CREATE TEMP TABLE pals_privacy_backlog_ahead (rid oid, tid tid, PRIMARY KEY (rid, tid));
    END IF;
    DELETE FROM pg_temp.pals_privacy_backlog_ahead;
    SELECT * INTO pb FROM @extschema@.patron_binding;
    SELECT array_agg(relation::oid ORDER BY relation::oid) INTO bindings FROM @extschema@.loan_binding;
    FOREACH bid IN ARRAY coalesce(bindings, '{}') LOOP
        SELECT * INTO b FROM @extschema@.loan_binding l WHERE l.relation = bid;
        -- the binding's tracker key: a last-borrower group's (bind_loans'
        -- last_borrower_group) is its first binding's, else its own
        tk := coalesce(b.last_borrower_group, b.relation)::oid;
        tk_sql := CASE WHEN tk = bid THEN '$3' ELSE format('%s::oid', tk) END;
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
        -- the patron, item and closed time of each row are for the
        -- statistics records alone (the history copy reads the row itself):
        -- not written to the batch table for a binding that collects none
        stats := EXISTS (SELECT FROM @extschema@.statistics_binding s WHERE s.relation = b.relation);
        -- first the tracker: each item's entry set to its latest closed row
        -- if that row is identified, gone if it is not (rows closed without
        -- the severing trigger: bound with build_tracker => false, loaded
        -- with session_replication_role = replica; entries VACUUM FULL or
        -- CLUSTER left naming other rows).  One read of the relation and a
        -- sort, as at bind time; an entry is changed only if it is still
        -- what this statement read (a return since knows better), so the
        -- walk below can trust the tracker: the trigger keeps it so.
        IF b.keep_last_borrower THEN
            PERFORM pg_catalog.set_config('jit', 'off', true);
            -- (a binding of a last-borrower group: the group's entries, from
            -- every member's rows, one row per item across them)
            -- (an entry chosen against the dates stays while its row is
            -- live: _tracker_pinned_sql)
            fix_sql := format(
                'WITH latest AS MATERIALIZED (%1$s),
                 pinned AS MATERIALIZED (%2$s),
                 cur AS MATERIALIZED (
                     SELECT lb.item, lb.row_relid, lb.row_tid FROM @extschema@.last_borrower lb WHERE lb.binding = $1),
                 ins AS (
                     INSERT INTO @extschema@.last_borrower (binding, item, row_relid, row_tid)
                     SELECT $1, l.item, l.rid, l.tid FROM latest l
                      WHERE l.identified AND NOT EXISTS (SELECT FROM cur c WHERE c.item = l.item)
                     ON CONFLICT (binding, item) DO NOTHING
                     RETURNING 1),
                 upd AS (
                     UPDATE @extschema@.last_borrower lb SET row_relid = l.rid, row_tid = l.tid, pinned = NULL
                       FROM latest l JOIN cur c ON c.item = l.item
                      WHERE l.identified AND (c.row_relid, c.row_tid) <> (l.rid, l.tid)
                        AND NOT EXISTS (SELECT FROM pinned k WHERE k.item = l.item)
                        AND lb.binding = $1 AND lb.item = l.item AND (lb.row_relid, lb.row_tid) = (c.row_relid, c.row_tid)
                     RETURNING 1),
                 del AS (
                     DELETE FROM @extschema@.last_borrower lb
                      USING latest l JOIN cur c ON c.item = l.item
                      WHERE NOT l.identified
                        AND NOT EXISTS (SELECT FROM pinned k WHERE k.item = l.item)
                        AND lb.binding = $1 AND lb.item = l.item AND (lb.row_relid, lb.row_tid) = (c.row_relid, c.row_tid)
                     RETURNING 1)
                 SELECT (SELECT count(*) FROM ins) + (SELECT count(*) FROM upd) + (SELECT count(*) FROM del)',
                @extschema@._latest_closed_sql(tk), @extschema@._tracker_pinned_sql(tk));
            -- (pinned entries a rewrite moved: found by their keys first)
            PERFORM @extschema@._tracker_repin(tk);
            EXECUTE fix_sql INTO n_items USING tk;
            PERFORM @extschema@._tracker_unpin_stale(tk);
            PERFORM @extschema@._tracker_file_record(tk);   -- (the files the entries name rows of: tracker_file)
            -- the files the tracker's TIDs refer to (the statement holds its
            -- locks until the commit: nothing rewrote them since it read them)
            WITH RECURSIVE tree (relid) AS (
                SELECT b.relation::oid
                UNION SELECT i.inhrelid FROM pg_catalog.pg_inherits i JOIN tree ON i.inhparent = tree.relid)
            SELECT array_agg(t.relid), array_agg(pg_catalog.pg_relation_filenode(t.relid))
              INTO fix_rels, fix_nodes FROM tree t;
            UPDATE @extschema@.backlog_progress g SET items_done = g.items_done + n_items, updated_at = clock_timestamp()
             WHERE g.binding = bid
            RETURNING * INTO prog;
            IF n_items > 0 THEN
                RAISE NOTICE 'sever_backlog: %: the last borrowers of % items recorded or corrected', b.relation, n_items;
            END IF;
            COMMIT;
        END IF;
        -- the walk: the closed, identified rows of a range, each severed
        -- (if settled) unless the tracker entry of its item names it.  The
        -- entries are hashed once per range where the binding has few of
        -- them against the range's rows, and read by one probe of the
        -- tracker's key per row where it has many (hashing every entry at
        -- every range would make a range's cost grow with the tracker);
        -- the subquery is kept apart (OFFSET 0) so that "last" is worked out
        -- once per row, not once for each use of it below
        IF b.keep_last_borrower THEN
            SELECT count(*) INTO n_entries FROM @extschema@.last_borrower lb WHERE lb.binding = tk;
        END IF;
        last_expr := CASE WHEN NOT b.keep_last_borrower THEN 'false'
                          WHEN n_entries <= 3 * batch_size
                          THEN format('t.%1$I IS NOT NULL
                                       AND EXISTS (SELECT FROM @extschema@.last_borrower lb
                                                    WHERE lb.binding = %2$s AND lb.item = t.%1$I::text
                                                      AND lb.row_relid = t.tableoid AND lb.row_tid = t.ctid)', b.item_column, tk_sql)
                          ELSE format('t.%1$I IS NOT NULL
                                       AND coalesce((SELECT lb.row_relid = t.tableoid AND lb.row_tid = t.ctid
                                                       FROM @extschema@.last_borrower lb
                                                      WHERE lb.binding = %2$s AND lb.item = t.%1$I::text), false)', b.item_column, tk_sql) END;
        walk_sql := format(
            'INSERT INTO pg_temp.pals_privacy_backlog_rows (rid, tid, item, last, target, optin, patron, closed_at)
             SELECT rid, tid, item, last, settled AND NOT last, optin, patron, closed_at FROM (
                 SELECT t.tableoid AS rid, t.ctid AS tid, %11$s AS item, %2$s AS settled,
                        %3$s AS optin, %4$s AS patron, %5$s AS closed_at,
                        %10$s AS last
                   FROM ONLY /*rel*/ t %6$s
                  WHERE t.ctid >= $1 AND t.ctid < $2 AND %7$s AND %8$s
                    -- (a row this run left pending is not read again where
                    -- it moved: an ILS trigger kept its patron)
                    AND NOT EXISTS (SELECT FROM @extschema@.sever_pending sp
                                     WHERE sp.binding = $3 AND sp.row_relid = t.tableoid AND sp.row_tid = t.ctid
                                       AND sp.last_attempt >= $4)
                    /*ahead*/
                 OFFSET 0) s',
            b.item_column, p.settled, optin_expr,
            CASE WHEN stats THEN format('t.%I::text', b.patron_column) ELSE 'NULL::text' END,
            CASE WHEN stats THEN closed_at_expr ELSE 'NULL::timestamptz' END, optin_join,
            p.closed, p.identified, NULL, last_expr,
            CASE WHEN stats THEN format('t.%I::text', b.item_column) ELSE 'NULL::text' END);
        -- the relations that hold the rows, in order: the table itself, its
        -- partitions, its inheritance children (at any depth)
        FOR rel IN WITH RECURSIVE tree (relid) AS (
                       SELECT b.relation::oid
                       UNION SELECT i.inhrelid FROM pg_catalog.pg_inherits i JOIN tree ON i.inhparent = tree.relid)
                   SELECT c.oid FROM tree JOIN pg_catalog.pg_class c ON c.oid = tree.relid
                    WHERE c.relkind = 'r' AND c.oid >= coalesce(prog.last_relid, 0)
                    ORDER BY c.oid
        LOOP
            -- where to go on, and how far: the blocks the relation has now
            -- (rows written after this point are the severing trigger's)
            IF rel = prog.last_relid AND prog.last_tid IS NOT NULL THEN
                blk := (prog.last_tid::text::point)[0]::bigint;
                off := (prog.last_tid::text::point)[1]::int;
                walk_node := prog.last_filenode;
            ELSE
                blk := 0; off := 1; walk_node := NULL;
            END IF;
            blk_max := NULL;
            nblocks := pg_catalog.pg_relation_size(rel) / block_size;
            -- rows per block, to make a batch of about batch_size rows: a
            -- range of blocks, or of line pointers within one block
            SELECT CASE WHEN c.relpages > 0 AND c.reltuples > 0 THEN c.reltuples / c.relpages ELSE 100 END
              INTO per_block FROM pg_catalog.pg_class c WHERE c.oid = rel;
            WHILE blk < nblocks LOOP
                PERFORM pg_catalog.set_config('jit', 'off', true);
                IF batch_size >= per_block THEN
                    hi_blk := blk + GREATEST(1, round(batch_size / per_block))::bigint;
                    hi_off := 1;
                ELSE
                    -- line pointers of one block, up to its last row
                    IF off = 1 OR blk_max IS NULL THEN
                        EXECUTE format('SELECT max((t.ctid::text::point)[1])::int FROM ONLY %s t
                                         WHERE t.ctid >= $1 AND t.ctid < $2', rel::regclass)
                            INTO blk_max USING format('(%s,1)', blk)::tid, format('(%s,1)', blk + 1)::tid;
                    END IF;
                    IF off + batch_size > coalesce(blk_max, 0) THEN
                        hi_blk := blk + 1; hi_off := 1;
                    ELSE
                        hi_blk := blk; hi_off := off + batch_size;
                    END IF;
                END IF;
                -- (no further than the blocks the walk set out to read: past
                -- them are the rows written since, by this walk too)
                IF hi_blk > nblocks THEN
                    hi_blk := nblocks; hi_off := 1;
                END IF;
                lo := format('(%s,%s)', blk, off)::tid;
                hi := format('(%s,%s)', hi_blk, hi_off)::tid;
                -- (nor a row kept that this run wrote again ahead of here)
                EXECUTE replace(replace(walk_sql, '/*rel*/', rel::regclass::text), '/*ahead*/',
                                CASE WHEN EXISTS (SELECT FROM pg_temp.pals_privacy_backlog_ahead a
                                                   WHERE a.rid = rel AND a.tid >= lo AND a.tid < hi)
                                     THEN 'AND NOT EXISTS (SELECT FROM pg_temp.pals_privacy_backlog_ahead a
                                                            WHERE a.rid = t.tableoid AND a.tid = t.ctid)'
                                     ELSE '' END)
                    USING lo, hi, bid, started;
                -- (what the walk wrote, and the relation's file)
                SELECT count(*), count(*) FILTER (WHERE x.last), count(*) FILTER (WHERE x.target),
                       pg_catalog.pg_relation_filenode(rel)
                  INTO n_rows, n_last, n_targets, cur_node
                  FROM pg_temp.pals_privacy_backlog_rows x;
                -- the file the walk read (its lock, held until the commit,
                -- keeps it so).  A VACUUM FULL, CLUSTER or rewriting ALTER
                -- TABLE since the walk's position was taken, or since the
                -- tracker was set right, moved the rows: the position now
                -- points elsewhere (the rows before it in the new file were
                -- not read) and the tracker's TIDs name other rows.  The
                -- range is dropped (the commit empties the batch table), the
                -- tracker set right again, and the relation walked from its
                -- start (rows severed already are not identified: skipped)
                IF (walk_node IS DISTINCT FROM cur_node AND (blk, off) <> (0, 1))
                   OR (b.keep_last_borrower AND fix_nodes[pg_catalog.array_position(fix_rels, rel)] IS DISTINCT FROM cur_node) THEN
                    RAISE NOTICE 'sever_backlog: % was rewritten (VACUUM FULL, CLUSTER or ALTER TABLE) during the backlog: read again from its start',
                        rel::regclass;
                    IF b.keep_last_borrower THEN
                        PERFORM @extschema@._tracker_repin(tk);
                        EXECUTE fix_sql INTO n_items USING tk;
                        PERFORM @extschema@._tracker_unpin_stale(tk);
                        PERFORM @extschema@._tracker_file_record(tk);
                        WITH RECURSIVE tree (relid) AS (
                            SELECT b.relation::oid
                            UNION SELECT i.inhrelid FROM pg_catalog.pg_inherits i JOIN tree ON i.inhparent = tree.relid)
                        SELECT array_agg(t.relid), array_agg(pg_catalog.pg_relation_filenode(t.relid))
                          INTO fix_rels, fix_nodes FROM tree t;
                    ELSE
                        n_items := 0;
                    END IF;
                    UPDATE @extschema@.backlog_progress g
                       SET last_relid = rel, last_tid = '(0,1)', last_filenode = cur_node,
                           items_done = g.items_done + n_items, updated_at = clock_timestamp()
                     WHERE g.binding = bid
                    RETURNING * INTO prog;
                    COMMIT;
                    DELETE FROM pg_temp.pals_privacy_backlog_ahead a WHERE a.rid = rel;
                    blk := 0; off := 1; walk_node := cur_node; blk_max := NULL;
                    nblocks := pg_catalog.pg_relation_size(rel) / block_size;
                    SELECT CASE WHEN c.relpages > 0 AND c.reltuples > 0 THEN c.reltuples / c.relpages ELSE 100 END
                      INTO per_block FROM pg_catalog.pg_class c WHERE c.oid = rel;
                    CONTINUE;
                END IF;
                walk_node := cur_node;
                n_severed := 0; n_kept := 0; n_pending := 0;
                -- (a range with rows to keep only is written again too, with reorder)
                IF n_targets > 0 OR (reorder AND n_rows > n_last AND b.sever_with <> 'delete') THEN
                    res := @extschema@._backlog_sever_batch(b, reorder, format('(%s,1)', nblocks)::tid);
                    n_severed := res.severed; n_kept := res.kept; n_pending := res.pending;
                END IF;
                UPDATE @extschema@.backlog_progress g
                   SET last_relid = rel, last_tid = hi, last_filenode = walk_node,
                       rows_scanned = g.rows_scanned + n_rows,
                       rows_severed = g.rows_severed + n_severed, rows_kept = g.rows_kept + n_kept,
                       rows_pending = g.rows_pending + n_pending, batches = g.batches + 1,
                       updated_at = clock_timestamp()
                 WHERE g.binding = bid
                RETURNING * INTO prog;
                IF n_rows > 0 THEN
                    RAISE NOTICE 'sever_backlog: % batch %: % rows of %: % severed, % kept (opt-in), % pending, % kept as their item''s last borrower',
                        b.relation, prog.batches, n_rows, rel::regclass, n_severed, n_kept, n_pending, n_last;
                END IF;
                t_severed := t_severed + n_severed; t_kept := t_kept + n_kept; t_pending := t_pending + n_pending;
                COMMIT;
                IF hi_blk > blk THEN blk_max := NULL; END IF;
                blk := hi_blk; off := hi_off;
            END LOOP;
        END LOOP;
        UPDATE @extschema@.backlog_progress g SET finished_at = clock_timestamp(), updated_at = clock_timestamp()
         WHERE g.binding = bid;
        COMMIT;
    END LOOP;
    -- (each statement below runs once, over whole relations: compiling it
    -- is waste, 3 % of the backlog's instructions at scale 0.2)
    PERFORM pg_catalog.set_config('jit', 'off', true);
    -- derived copies of rows severed before they were bound (the severing
    -- of each row above reached its copies through their triggers)
    IF to_regclass('@extschema@.copy_binding') IS NOT NULL THEN
        k := @extschema@.sever_copies();
        n_copies := k;
        IF k > 0 THEN
            RAISE NOTICE 'sever_backlog: % rows of derived copies severed', k;
        END IF;
        COMMIT;
        PERFORM pg_catalog.set_config('jit', 'off', true);
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
                -- nor a stored generated column (computed from the patron
                -- column, it changed too) or an expression index (its
                -- statistics are computed only by an ANALYZE of every column)
                AND NOT EXISTS (SELECT FROM (SELECT l.relation::oid AS relid
                                              UNION SELECT pt.relid FROM pg_catalog.pg_partition_tree(l.relation) pt) t
                                 WHERE EXISTS (SELECT FROM pg_catalog.pg_attribute a
                                                WHERE a.attrelid = t.relid AND a.attgenerated = 's' AND NOT a.attisdropped)
                                    OR EXISTS (SELECT FROM pg_catalog.pg_index i
                                                WHERE i.indrelid = t.relid AND i.indexprs IS NOT NULL))
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

REVOKE ALL ON PROCEDURE @extschema@.sever_backlog(integer,boolean,boolean,boolean) FROM PUBLIC;
