-- Binding registry: extension configuration tables (kept by pg_dump).
-- Relations are stored as regclass, columns as name: nothing is spliced
-- into SQL unquoted, and renames of bound relations follow automatically.
CREATE TABLE @extschema@.patron_binding (
    relation            regclass PRIMARY KEY,
    id_column           name NOT NULL,
    expires_column      name NOT NULL,
    card_column         name,
    library_column      name,
    birth_date_column   name,
    purge_function      text,       -- regprocedure text; text so pg_upgrade accepts it
    keep_history_column name,
    name_columns        name[],     -- what the collections class sees besides card and contact
    bound_at            timestamptz NOT NULL DEFAULT now(),
    bound_by            name NOT NULL DEFAULT current_user,
    keep_history_when   text        -- the opt-in as a condition over the row (keep_history_column of another type)
);

-- There is one patron (cardholder) table.
CREATE UNIQUE INDEX patron_binding_single ON @extschema@.patron_binding ((true));

SELECT pg_catalog.pg_extension_config_dump('@extschema@.patron_binding', '');
