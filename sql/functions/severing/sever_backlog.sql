-- Sever the history that existed before the extension was bound: each
-- relation holding rows (the table, its partitions or inheritance children)
-- is read once in physical order, in ranges of about batch_size rows, one
-- transaction per range; a closed, settled, identified row is severed unless
-- it is its item's last borrower (the tracker entry names it; where the
-- entry holds no such row, the row that has no later closed row of its
-- item).  Resumable (the position is committed with each batch) and
-- idempotent.  dry_run => true changes nothing and reports what it would do
-- (sever_backlog_preview()).  docs/severing.md, "The backlog".
CREATE OR REPLACE PROCEDURE @extschema@.sever_backlog(batch_size integer DEFAULT 10000, restart boolean DEFAULT false,
                                           dry_run boolean DEFAULT false)
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
    po record;
    later_sql text;
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
    block_size int := pg_catalog.current_setting('block_size')::int;
    blk_max int;
BEGIN
    PERFORM @extschema@._require_admin('sever_backlog');
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
        po := @extschema@._loan_predicates(b, 'o');
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
        -- the rows the walk reads: closed, identified; whether each is its
        -- item's last borrower (the tracker entry names it), another row of
        -- a tracked item (severed), or of an item whose entry holds no such
        -- row (judged from the item's other closed rows: a later one exists)
        later_sql := format('EXISTS (SELECT FROM %1$s o WHERE o.%2$I = c.item_v AND %3$s
                                       AND (%4$s, o.tableoid, o.ctid) > (c.ord, c.rid, c.tid))',
                            b.relation, b.item_column, po.closed,
                            CASE WHEN cardinality(b.closed_columns) = 1 THEN format('o.%I', b.closed_columns[1])
                                 ELSE format('GREATEST(%s)', (SELECT string_agg(format('o.%I', c), ', ')
                                                               FROM unnest(b.closed_columns) c)) END);
        walk_sql := format(
            'WITH c AS MATERIALIZED (
                 SELECT t.tableoid AS rid, t.ctid AS tid, t.%1$I AS item_v, t.%1$I::text AS item, %2$s AS settled,
                        %3$s AS optin, t.%4$I::text AS patron, %5$s AS closed_at, %6$s AS ord
                   FROM ONLY /*rel*/ t %7$s
                  WHERE t.ctid >= $1 AND t.ctid < $2 AND %8$s AND %9$s
                    -- (a row this run left pending is not read again where
                    -- it moved: an ILS trigger kept its patron)
                    AND NOT EXISTS (SELECT FROM @extschema@.sever_pending sp
                                     WHERE sp.binding = $3 AND sp.row_relid = t.tableoid AND sp.row_tid = t.ctid
                                       AND sp.last_attempt >= $4)),
             e AS MATERIALIZED (
                 SELECT lb.item, lb.row_relid, lb.row_tid,
                        @extschema@._backlog_entry_holds($3, lb.item, lb.row_relid, lb.row_tid) AS holds
                   FROM @extschema@.last_borrower lb
                  WHERE %10$L AND lb.binding = $3
                    AND lb.item = ANY (ARRAY(SELECT DISTINCT c.item FROM c WHERE c.item IS NOT NULL))),
             d AS MATERIALIZED (
                 SELECT c.*, e.row_relid AS e_relid, e.row_tid AS e_tid,
                        CASE WHEN c.item IS NULL OR NOT %10$L THEN NULL
                             WHEN e.holds THEN (e.row_relid, e.row_tid) = (c.rid, c.tid)
                             ELSE NOT %11$s END AS last
                   FROM c LEFT JOIN e ON e.item = c.item),
             new_entry AS (
                 INSERT INTO @extschema@.last_borrower AS lb (binding, item, row_relid, row_tid)
                 SELECT $3, d.item, d.rid, d.tid FROM d WHERE d.last AND d.e_relid IS NULL
                 ON CONFLICT (binding, item) DO NOTHING),
             fixed_entry AS (
                 UPDATE @extschema@.last_borrower lb SET row_relid = d.rid, row_tid = d.tid
                   FROM d
                  WHERE d.last AND d.e_relid IS NOT NULL AND (d.e_relid, d.e_tid) <> (d.rid, d.tid)
                    AND lb.binding = $3 AND lb.item = d.item AND (lb.row_relid, lb.row_tid) = (d.e_relid, d.e_tid))
             INSERT INTO pg_temp.pals_privacy_backlog_rows (rid, tid, item, last, target, optin, patron, closed_at)
             SELECT d.rid, d.tid, d.item, coalesce(d.last, false), d.settled AND NOT coalesce(d.last, false),
                    d.optin, d.patron, d.closed_at
               FROM d',
            b.item_column, p.settled, optin_expr, b.patron_column, closed_at_expr, order_expr, optin_join,
            p.closed, p.identified, b.keep_last_borrower, later_sql);
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
            ELSE
                blk := 0; off := 1;
            END IF;
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
                lo := format('(%s,%s)', blk, off)::tid;
                hi := format('(%s,%s)', hi_blk, hi_off)::tid;
                EXECUTE replace(walk_sql, '/*rel*/', rel::regclass::text) USING lo, hi, bid, started;
                SELECT count(*), count(*) FILTER (WHERE x.last), count(*) FILTER (WHERE x.target)
                  INTO n_rows, n_items, n_targets
                  FROM pg_temp.pals_privacy_backlog_rows x;
                n_severed := 0; n_kept := 0; n_pending := 0;
                IF n_targets > 0 THEN
                    res := @extschema@._backlog_sever_batch(b);
                    n_severed := res.severed; n_kept := res.kept; n_pending := res.pending;
                END IF;
                UPDATE @extschema@.backlog_progress g
                   SET last_relid = rel, last_tid = hi, items_done = g.items_done + n_items,
                       rows_scanned = g.rows_scanned + n_rows,
                       rows_severed = g.rows_severed + n_severed, rows_kept = g.rows_kept + n_kept,
                       rows_pending = g.rows_pending + n_pending, batches = g.batches + 1,
                       updated_at = clock_timestamp()
                 WHERE g.binding = bid
                RETURNING * INTO prog;
                IF n_rows > 0 THEN
                    RAISE NOTICE 'sever_backlog: % batch %: % rows of %: % severed, % kept (opt-in), % pending, % kept as their item''s last borrower',
                        b.relation, prog.batches, n_rows, rel::regclass, n_severed, n_kept, n_pending, n_items;
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
