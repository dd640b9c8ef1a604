-- The key of the row each pinned tracker entry names (last_borrower.pinned:
-- a close by a class that reads history redacted kept the row it closed,
-- against the dates, sever.c), so that a rebuild finds the row again where
-- its TID no longer does: after VACUUM FULL, CLUSTER or a rewriting ALTER
-- TABLE (new file, new TIDs), a partition replaced by a copy of its rows,
-- and a pg_dump and restore (new OIDs, new TIDs, and last_borrower is not
-- dumped: this table is, by the relations' names).  The key is the member
-- relation's primary key, else its replica identity index (_row_key_columns),
-- as jsonb (column -> value; ISO dates and times, whatever the session's
-- DateStyle).  A relation with neither has no row here: its pins keep only
-- the file node of last_borrower.pinned (docs/severing.md).  Written with
-- the entry (tracker.c, _tracker_pin_write), read by the rebuilds
-- (_tracker_repin), dropped with the entry's pin (_tracker_unpin_stale).
CREATE TABLE @extschema@.tracker_pin (
    binding   regclass NOT NULL,          -- the tracker key (last_borrower.binding)
    item      text COLLATE "C" NOT NULL,
    relation  regclass NOT NULL,          -- the loan binding holding the row (a member of its group)
    key       jsonb NOT NULL,             -- the row's key columns and values
    PRIMARY KEY (binding, item)
);

SELECT pg_catalog.pg_extension_config_dump('@extschema@.tracker_pin', '');
