-- Patrons purged through a purge function that left their row in place (a
-- soft delete): never eligible, purged or counted again while their patron
-- table is bound (again).  By the patron table (regclass: pg_dump keeps it
-- by name) and the patron's id as text: the record of one table never keeps
-- a patron of another from the purge.  unbind() of the patron table forgets
-- the records whose row is gone (the id is free, and a patron given it later
-- would never be purged), and keeps those whose scrubbed row is still there,
-- so that a re-bind of the same table does not purge them again; dropping the
-- table forgets them all.
CREATE TABLE @extschema@.purged_patrons (
    patron     text NOT NULL,
    purged_at  timestamptz NOT NULL DEFAULT now(),
    relation   regclass NOT NULL,   -- the patron table the patron was purged from
    PRIMARY KEY (relation, patron)
);

SELECT pg_catalog.pg_extension_config_dump('@extschema@.purged_patrons', '');
