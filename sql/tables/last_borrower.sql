-- Severing state (see src/sever.c and docs/severing.md).

-- Each item's last borrower: the one closed row that keeps its patron.
CREATE TABLE @extschema@.last_borrower (
    binding    oid NOT NULL,      -- loan_binding.relation
    item       text COLLATE "C" NOT NULL,   -- compared, never sorted for people: bytewise is fastest
    row_relid  oid NOT NULL,      -- the table, partition or child holding the row
    row_tid    tid NOT NULL,
    PRIMARY KEY (binding, item)
);
