-- Reading history of patrons who opted in (history_mode 'copy'): the row as
-- it was just before it was severed.  Only the patron may read it.
CREATE TABLE @extschema@.private_history (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    patron     text NOT NULL,
    relation   regclass NOT NULL,
    item       text,
    row_data   jsonb NOT NULL,
    copied_at  timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX private_history_patron ON @extschema@.private_history (patron);

SELECT pg_catalog.pg_extension_config_dump('@extschema@.private_history', '');

-- (one statement each: two calls in one statement update the same catalog row twice)
SELECT pg_catalog.pg_extension_config_dump(pg_catalog.pg_get_serial_sequence('@extschema@.private_history', 'id'), '');
