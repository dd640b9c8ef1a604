CREATE TABLE @extschema@.outbox_dropped (
    relation      regclass NOT NULL,
    purpose       text NOT NULL,
    channel       text NOT NULL,
    dropped       bigint NOT NULL,
    last_dropped  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (relation, purpose, channel)
);

SELECT pg_catalog.pg_extension_config_dump('@extschema@.outbox_dropped', '');
