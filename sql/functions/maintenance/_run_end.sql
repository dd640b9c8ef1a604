CREATE OR REPLACE FUNCTION @extschema@._run_end(run_id bigint, counts jsonb) RETURNS void
LANGUAGE sql SET search_path = pg_catalog, pg_temp AS $$
    UPDATE @extschema@.maintenance_runs r SET finished_at = clock_timestamp(), counts = _run_end.counts
     WHERE r.id = run_id
$$;

REVOKE ALL ON FUNCTION @extschema@._run_end(bigint,jsonb) FROM PUBLIC;
