CREATE TABLE @extschema@.consent_history (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    patron       text NOT NULL,
    purpose      text NOT NULL,
    channel      text NOT NULL,
    action       text NOT NULL CHECK (action IN ('grant', 'withdraw')),
    evidence     text,
    recorded_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    recorded_by  text NOT NULL
);

CREATE INDEX consent_history_patron ON @extschema@.consent_history (patron);

SELECT pg_catalog.pg_extension_config_dump('@extschema@.consent_history', '');

SELECT pg_catalog.pg_extension_config_dump(pg_catalog.pg_get_serial_sequence('@extschema@.consent_history', 'id'), '');
