CREATE TABLE @extschema@.outbox_binding (
    relation        regclass PRIMARY KEY,
    patron_column   name NOT NULL,
    channel_column  name NOT NULL,
    purpose         text NOT NULL REFERENCES @extschema@.purposes (name),
    on_missing_consent text NOT NULL DEFAULT 'reject'
                    CHECK (on_missing_consent IN ('reject', 'divert', 'drop')),
    bound_at        timestamptz NOT NULL DEFAULT now(),
    bound_by        name NOT NULL DEFAULT current_user
);

SELECT pg_catalog.pg_extension_config_dump('@extschema@.outbox_binding', '');
