CREATE TABLE @extschema@.loan_binding (
    relation            regclass PRIMARY KEY,
    patron_column       name NOT NULL,
    item_column         name NOT NULL,
    closed_columns      name[] NOT NULL CHECK (cardinality(closed_columns) BETWEEN 1 AND 8),
    settled_column      name,
    sever_with          text NOT NULL DEFAULT 'null'
                        CHECK (sever_with IN ('null', 'delete') OR sever_with LIKE 'patron:_%'),
    keep_last_borrower  boolean NOT NULL DEFAULT true,
    history_mode        text NOT NULL DEFAULT 'copy' CHECK (history_mode IN ('copy', 'in_place')),
    bound_at            timestamptz NOT NULL DEFAULT now(),
    bound_by            name NOT NULL DEFAULT current_user,
    closed_when         text,       -- a condition over the row (_condition_sql)
    settled_when        text,
    more_patron_columns name[] CHECK (cardinality(more_patron_columns) BETWEEN 1 AND 8),
                                    -- further columns naming a patron, cut with patron_column
    hide_columns        name[],     -- columns that pair a row with another of its patron's, read where its patron is
    last_borrower_group regclass,   -- the first loan binding of a group over the same items: one last borrower per item across it (NULL: its own)
    closed_precision    text NOT NULL DEFAULT 'day'
                        CHECK (closed_precision IN ('hour', 'day', 'week', 'month', 'year')),
                                    -- a closed time where the row's patron is not read: truncated to this
    closed_zone         text NOT NULL DEFAULT 'UTC'
                                    -- ... in this time zone (the binding session's TimeZone)
);

SELECT pg_catalog.pg_extension_config_dump('@extschema@.loan_binding', '');

COMMENT ON COLUMN @extschema@.loan_binding.closed_when IS
    'Condition over the row: closed when it holds and a closed column is set (NULL: when a closed column is set)';

COMMENT ON COLUMN @extschema@.loan_binding.settled_when IS
    'Condition over the row: settled when it holds (NULL: settled_column is set, or always)';

COMMENT ON COLUMN @extschema@.loan_binding.more_patron_columns IS
    'Further columns naming a patron (a hold''s requestor): severed, masked and purged with patron_column (NULL: none)';

COMMENT ON COLUMN @extschema@.loan_binding.hide_columns IS
    'Columns a row shares with other rows of its patron (a visit''s checkout time, the workstation): read only where the row''s patron is (NULL: none)';

COMMENT ON COLUMN @extschema@.loan_binding.last_borrower_group IS
    'The loan binding whose last borrowers this one shares (the first bound of a group over the same items, an archive and its loans): one last borrower per item across the group (NULL: its own)';

COMMENT ON COLUMN @extschema@.loan_binding.closed_precision IS
    'A closed time on a row whose patron a class below operational does not read (severed, hidden) reads truncated to this: hour, day (default), week, month or year';

COMMENT ON COLUMN @extschema@.loan_binding.closed_zone IS
    'The time zone closed_precision truncates in (the TimeZone of the session that bound it), whatever the reader''s TimeZone';
