-- The audit log (src/audit.c, docs/audit.md): append-only, hash-chained.
CREATE TABLE @extschema@.audit_log (
    id         bigint PRIMARY KEY,
    at         timestamptz NOT NULL,
    role       text NOT NULL,        -- the session (login) role
    class      text NOT NULL,        -- its privacy class
    event      text NOT NULL,
    details    jsonb,                -- never a PIN or a contact value
    prev_hash  bytea,
    hash       bytea NOT NULL
);

COMMENT ON TABLE @extschema@.audit_log IS 'Append-only audit log; each hash covers the entry and the previous hash';

SELECT pg_catalog.pg_extension_config_dump('@extschema@.audit_log', '');
