-- Patrons purged through a purge function that left their row in place (a
-- soft delete): never eligible, purged or counted again.
CREATE TABLE @extschema@.purged_patrons (
    patron     text PRIMARY KEY,
    purged_at  timestamptz NOT NULL DEFAULT now()
);

SELECT pg_catalog.pg_extension_config_dump('@extschema@.purged_patrons', '');
