-- The keys of derived copies (bind_copy) severed for good: a source row with
-- this key was deleted or severed while rows of the copy kept their identity
-- (a trigger of the ILS kept them from the sever; they are pending in
-- sever_pending, _copy_tomb_record writes the key).  Such a copy row reads
-- as the copy of a hidden row to every redacted class, whatever row of a
-- source holds the key later (a new row given the old key, the severed row
-- given a patron again, a decoy in another source): src/redact_copies.c.
-- By the copy's name and the key's values as text in a canonical form (ISO
-- dates, UTC), so that pg_dump keeps it across a restore (new OIDs, new
-- TIDs); unbind_copy() and dropping the copy forget it.
CREATE TABLE @extschema@.copy_tomb (
    relation  regclass NOT NULL,      -- the copy
    key       text[] NOT NULL,        -- the copy rows' key_columns, in order
    since     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (relation, key)
);

SELECT pg_catalog.pg_extension_config_dump('@extschema@.copy_tomb', '');
