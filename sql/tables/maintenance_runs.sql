-- Purge of expired cardholders, retention rules, maintenance runs
-- (docs/maintenance.md).  The background worker (src/worker.c) calls
-- run_maintenance(); without it, pg_cron or cron can.
CREATE TABLE @extschema@.maintenance_runs (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind         text NOT NULL CHECK (kind IN ('purge', 'retention', 'maintenance')),
    dry_run      boolean NOT NULL DEFAULT false,
    started_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    finished_at  timestamptz,
    counts       jsonb,           -- counts only: never a patron's identity
    error        text,
    started_by   text
);

COMMENT ON TABLE @extschema@.maintenance_runs IS 'One row per purge, retention or maintenance run: counts, no identities';

SELECT pg_catalog.pg_extension_config_dump('@extschema@.maintenance_runs', '');

SELECT pg_catalog.pg_extension_config_dump(pg_catalog.pg_get_serial_sequence('@extschema@.maintenance_runs', 'id'), '');

COMMENT ON COLUMN @extschema@.maintenance_runs.started_by IS
    'application_name of the session that started the run, else its backend type (the worker: pals_privacy maintenance)';
