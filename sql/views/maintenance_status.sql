-- The last run of each kind in this database.
CREATE OR REPLACE VIEW @extschema@.maintenance_status AS
    SELECT DISTINCT ON (r.kind) r.kind, r.id AS last_run, r.started_by, r.started_at, r.finished_at,
           CASE WHEN r.finished_at IS NULL AND r.error IS NULL THEN 'running'
                WHEN r.error LIKE 'interrupted%' THEN 'interrupted'
                WHEN r.error IS NOT NULL THEN 'failed'
                ELSE 'done' END AS state,
           r.error, r.counts,
           (SELECT w.next_run FROM @extschema@.worker_status() w WHERE w.database = current_database()) AS next_worker_run
      FROM @extschema@.maintenance_runs r
     ORDER BY r.kind, r.id DESC;

COMMENT ON VIEW @extschema@.maintenance_status IS 'The last purge, retention and maintenance run of this database';
