CREATE TABLE @extschema@.copy_binding (
    relation       regclass PRIMARY KEY,
    source         regclass NOT NULL,     -- a loan binding
    key_columns    name[] NOT NULL,       -- in relation: the source row's key
    source_keys    name[] NOT NULL,       -- in source: a unique key, column for column (bind_copy checks it)
    patron_column  name,                  -- in relation: the copied patron, if any
    sever_with     text NOT NULL DEFAULT 'null'
                   CHECK (sever_with IN ('null', 'unlink', 'delete', 'keep') OR sever_with LIKE 'patron:_%'),
    hide_columns   name[],                -- in relation: other columns that find the source again (a time equal to its return)
                                          -- ('keep': the only columns of the copy hidden, and it is never written)
    current_when   text,                  -- a condition over a copy row: it is the patron's current account (a fine still owed)
    bound_at       timestamptz NOT NULL DEFAULT now(),
    bound_by       name NOT NULL DEFAULT current_user,
    -- more sources (bind_copy called again with another source): a row of the
    -- copy follows the one row of any source that holds its key; NULL: none
    more_sources     regclass[],
    more_source_keys name[],              -- in each of more_sources, its key columns in turn (flat)
    -- a condition over a row of the relation: only rows for which it is not
    -- false are copies (a summary of circulations and groceries:
    -- xact_type = 'circulation'); NULL: every row
    copy_when      text,
    CHECK (cardinality(key_columns) >= 1 AND cardinality(key_columns) = cardinality(source_keys)),
    CHECK (coalesce(cardinality(more_source_keys), 0) = coalesce(cardinality(more_sources), 0) * cardinality(key_columns))
);

SELECT pg_catalog.pg_extension_config_dump('@extschema@.copy_binding', '');

GRANT SELECT ON @extschema@.copy_binding TO PUBLIC;
