-- Severing state (see src/sever.c and docs/severing.md).

-- Each item's last borrower: the one closed row that keeps its patron.
CREATE TABLE @extschema@.last_borrower (
    binding    oid NOT NULL,      -- loan_binding.relation
    item       text COLLATE "C" NOT NULL,   -- compared, never sorted for people: bytewise is fastest
    row_relid  oid NOT NULL,      -- the table, partition or child holding the row
    row_tid    tid NOT NULL,
    -- the file node of row_relid when the entry was chosen against the
    -- dates (a close by a class that reads history redacted kept the row it
    -- closed, sever.c), carried to each later last borrower of the item:
    -- a rebuild keeps the entry while that file holds it, live, closed and
    -- identified (docs/severing.md, "Rebuilding the tracker"), or, where a
    -- rewrite or a restore moved it, while its key (tracker_pin) finds it;
    -- NULL: the entry is the dates' choice, which a rebuild may take again
    pinned     oid,
    PRIMARY KEY (binding, item)
);
