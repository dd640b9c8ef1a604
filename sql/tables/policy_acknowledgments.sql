-- Yearly acknowledgment of the policy by staff.
CREATE TABLE @extschema@.policy_acknowledgments (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    role             text NOT NULL,
    version          text NOT NULL CHECK (version <> ''),
    acknowledged_at  timestamptz NOT NULL DEFAULT clock_timestamp()
);

SELECT pg_catalog.pg_extension_config_dump('@extschema@.policy_acknowledgments', '');

SELECT pg_catalog.pg_extension_config_dump(pg_catalog.pg_get_serial_sequence('@extschema@.policy_acknowledgments', 'id'), '');
