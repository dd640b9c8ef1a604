CREATE TABLE @extschema@.retention_rule (
    relation          regclass PRIMARY KEY,
    timestamp_column  name NOT NULL,
    keep              interval NOT NULL CHECK (keep > interval '0'),
    action            text NOT NULL DEFAULT 'delete' CHECK (action IN ('delete', 'sever')),
    bound_at          timestamptz NOT NULL DEFAULT now(),
    bound_by          name NOT NULL DEFAULT current_user
);

SELECT pg_catalog.pg_extension_config_dump('@extschema@.retention_rule', '');
