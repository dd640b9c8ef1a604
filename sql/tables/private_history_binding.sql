CREATE TABLE @extschema@.private_history_binding (
    relation       regclass PRIMARY KEY,
    patron_column  name NOT NULL,
    bound_at       timestamptz NOT NULL DEFAULT now(),
    bound_by       name NOT NULL DEFAULT current_user
);

SELECT pg_catalog.pg_extension_config_dump('@extschema@.private_history_binding', '');
