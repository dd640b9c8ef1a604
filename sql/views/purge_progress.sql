-- The purge that is running (or the last one): counts so far, rate.
CREATE OR REPLACE VIEW @extschema@.purge_progress AS
    SELECT r.id AS run, r.started_by, r.dry_run, r.started_at, r.finished_at,
           CASE WHEN r.finished_at IS NULL AND r.error IS NULL THEN 'in progress'
                WHEN r.error IS NOT NULL THEN 'failed' ELSE 'done' END AS state,
           coalesce(r.finished_at, clock_timestamp()) - r.started_at AS elapsed,
           (r.counts ->> 'purged')::bigint AS purged,
           (r.counts ->> 'eligible')::bigint AS eligible,
           r.counts -> 'skipped' AS skipped,
           round((r.counts ->> 'purged')::numeric
                 / GREATEST(extract(epoch FROM coalesce(r.finished_at, clock_timestamp()) - r.started_at), 0.001)::numeric, 1)
               AS purged_per_second,
           r.error
      FROM @extschema@.maintenance_runs r
     WHERE r.kind = 'purge'
     ORDER BY r.id DESC
     LIMIT 1;

COMMENT ON VIEW @extschema@.purge_progress IS 'The running or last purge: counts so far and rate';
