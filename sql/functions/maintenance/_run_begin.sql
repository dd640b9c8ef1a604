CREATE OR REPLACE FUNCTION @extschema@._run_begin(kind text, dry_run boolean) RETURNS bigint
LANGUAGE sql SET search_path = pg_catalog, pg_temp AS $$
    INSERT INTO @extschema@.maintenance_runs (kind, dry_run, started_by)
    VALUES (kind, dry_run, coalesce(nullif(current_setting('application_name'), ''),
                                    (SELECT a.backend_type FROM pg_stat_activity a WHERE a.pid = pg_backend_pid())))
    RETURNING id
$$;

REVOKE ALL ON FUNCTION @extschema@._run_begin(text,boolean) FROM PUBLIC;
