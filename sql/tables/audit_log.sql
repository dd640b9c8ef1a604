-- The audit log (src/audit.c, docs/audit.md): append-only, hash-chained.
CREATE TABLE @extschema@.audit_log (
    id         bigint NOT NULL,      -- not unique while open transactions hold provisional ids (src/audit.c)
    at         timestamptz NOT NULL,
    role       text NOT NULL,        -- the session (login) role
    class      text NOT NULL,        -- its privacy class
    event      text NOT NULL,
    details    jsonb,                -- never a PIN or a contact value
    prev_hash  bytea,
    hash       bytea NOT NULL,
    content_format smallint NOT NULL DEFAULT 2  -- what the hash covers (docs/audit.md)
        CONSTRAINT audit_log_content_format_check CHECK (content_format IN (1, 2))
);

-- The chain's order; unique in the committed log (verify_audit() checks that
-- the ids are consecutive), not in open transactions: a unique index would
-- make an appender wait for the end of another that holds the same
-- provisional id.
CREATE INDEX audit_log_id ON @extschema@.audit_log (id);

COMMENT ON TABLE @extschema@.audit_log IS 'Append-only audit log; each hash covers the entry and the previous hash';
COMMENT ON COLUMN @extschema@.audit_log.content_format IS
    'How the hash encodes the entry: 1, fields joined with | (entries written before 0.2.0); 2, length-prefixed fields (docs/audit.md)';

SELECT pg_catalog.pg_extension_config_dump('@extschema@.audit_log', '');
