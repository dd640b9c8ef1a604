-- Consent (src/consent.c, docs/consent.md): per patron, purpose and channel.
CREATE TABLE @extschema@.consents (
    patron       text NOT NULL,
    purpose      text NOT NULL REFERENCES @extschema@.purposes (name),
    channel      text NOT NULL CHECK (channel IN ('email', 'phone', 'sms', 'mail')),
    granted      boolean NOT NULL,
    evidence     text,
    recorded_at  timestamptz NOT NULL DEFAULT now(),
    recorded_by  text NOT NULL,
    PRIMARY KEY (patron, purpose, channel)
);

SELECT pg_catalog.pg_extension_config_dump('@extschema@.consents', '');
