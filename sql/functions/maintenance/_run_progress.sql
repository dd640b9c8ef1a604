-- Counts so far of a run still going (a purge calls it after each batch,
-- before its COMMIT): what purge_progress shows.
CREATE OR REPLACE FUNCTION @extschema@._run_progress(run_id bigint, counts jsonb) RETURNS void
LANGUAGE sql SET search_path = pg_catalog, pg_temp AS $$
    UPDATE @extschema@.maintenance_runs r SET counts = _run_progress.counts
     WHERE r.id = run_id AND r.finished_at IS NULL
$$;

REVOKE ALL ON FUNCTION @extschema@._run_progress(bigint,jsonb) FROM PUBLIC;
