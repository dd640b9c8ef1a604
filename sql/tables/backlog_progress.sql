-- Progress of sever_backlog(), one row per loan binding.
CREATE TABLE @extschema@.backlog_progress (
    binding       oid PRIMARY KEY,
    relation      text NOT NULL,
    last_item     text,
    items_done    bigint NOT NULL DEFAULT 0,
    rows_severed  bigint NOT NULL DEFAULT 0,
    rows_kept     bigint NOT NULL DEFAULT 0,
    rows_pending  bigint NOT NULL DEFAULT 0,
    batches       integer NOT NULL DEFAULT 0,
    started_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    finished_at   timestamptz,
    -- where the walk in physical order goes on (0.2.0): the relation (the
    -- table, partition or child) and the first TID not yet read
    last_relid    oid,
    last_tid      tid,
    rows_scanned  bigint NOT NULL DEFAULT 0,
    -- the file of last_relid that last_tid is a position in: a rewrite
    -- since (VACUUM FULL, CLUSTER) moved the rows, the walk starts again
    last_filenode oid
);

SELECT pg_catalog.pg_extension_config_dump('@extschema@.backlog_progress', '');
