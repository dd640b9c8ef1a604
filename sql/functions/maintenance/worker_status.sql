-- The maintenance worker, per database it has tried (cluster-wide; no row
-- without shared_preload_libraries).
CREATE OR REPLACE FUNCTION @extschema@.worker_status(OUT database text, OUT launcher text, OUT last_start timestamptz,
                                          OUT last_end timestamptz, OUT outcome text, OUT last_error text,
                                          OUT last_error_at timestamptz, OUT next_run timestamptz,
                                          OUT runs bigint, OUT failures bigint)
RETURNS SETOF record LANGUAGE c AS 'MODULE_PATHNAME', 'pals_privacy_worker_status';

REVOKE ALL ON FUNCTION @extschema@.worker_status() FROM PUBLIC;
