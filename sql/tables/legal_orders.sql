-- Legal orders: the only way to read identity the rules mask.
CREATE TABLE @extschema@.legal_orders (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    reference   text NOT NULL CHECK (reference <> ''),
    issued_by   text NOT NULL CHECK (issued_by <> ''),
    patron      text NOT NULL,
    expires     timestamptz NOT NULL,
    note        text,
    opened_at   timestamptz NOT NULL DEFAULT now(),
    opened_by   text NOT NULL,
    closed_at   timestamptz,
    closed_by   text
);

SELECT pg_catalog.pg_extension_config_dump('@extschema@.legal_orders', '');

SELECT pg_catalog.pg_extension_config_dump(pg_catalog.pg_get_serial_sequence('@extschema@.legal_orders', 'id'), '');
