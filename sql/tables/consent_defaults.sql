-- What a new patron starts with (library NULL: every library).
CREATE TABLE @extschema@.consent_defaults (
    library   text,
    purpose   text NOT NULL REFERENCES @extschema@.purposes (name),
    channel   text NOT NULL CHECK (channel IN ('email', 'phone', 'sms', 'mail')),
    builtin   boolean NOT NULL DEFAULT false,
    UNIQUE NULLS NOT DISTINCT (library, purpose, channel)
);

INSERT INTO @extschema@.consent_defaults (library, purpose, channel, builtin) VALUES (NULL, 'notices', 'email', true);

SELECT pg_catalog.pg_extension_config_dump('@extschema@.consent_defaults', 'WHERE NOT builtin');
