CREATE OR REPLACE VIEW @extschema@.sever_backlog_progress AS
    SELECT relation, items_done, rows_severed, rows_kept, rows_pending, batches,
           started_at, updated_at, finished_at,
           CASE WHEN finished_at IS NOT NULL THEN 'done' ELSE 'in progress' END AS state,
           round(rows_severed / GREATEST(extract(epoch FROM updated_at - started_at), 0.001)::numeric, 1)
               AS rows_severed_per_second,
           rows_scanned,
           CASE WHEN finished_at IS NULL AND last_relid IS NOT NULL
                THEN format('%s %s', last_relid::regclass, last_tid) END AS position
      FROM @extschema@.backlog_progress;
