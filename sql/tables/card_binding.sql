CREATE TABLE @extschema@.card_binding (
    relation       regclass PRIMARY KEY,
    card_column    name NOT NULL,
    patron_column  name NOT NULL,
    bound_at       timestamptz NOT NULL DEFAULT now(),
    bound_by       name NOT NULL DEFAULT current_user
);

SELECT pg_catalog.pg_extension_config_dump('@extschema@.card_binding', '');
