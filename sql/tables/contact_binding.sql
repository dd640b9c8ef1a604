CREATE TABLE @extschema@.contact_binding (
    relation       regclass NOT NULL,
    column_name    name NOT NULL,
    patron_column  name NOT NULL,
    channel        text NOT NULL CHECK (channel IN ('email', 'phone', 'sms', 'mail')),
    bound_at       timestamptz NOT NULL DEFAULT now(),
    bound_by       name NOT NULL DEFAULT current_user,
    PRIMARY KEY (relation, column_name)
);

SELECT pg_catalog.pg_extension_config_dump('@extschema@.contact_binding', '');
