-- Rows that could not be severed when they should have been (a foreign key,
-- an ILS trigger ...): the return went through; the maintenance pass retries.
CREATE TABLE @extschema@.sever_pending (
    binding       oid NOT NULL,
    row_relid     oid NOT NULL,
    row_tid       tid NOT NULL,
    item          text,
    reason        text NOT NULL,
    first_seen    timestamptz NOT NULL DEFAULT now(),
    last_attempt  timestamptz NOT NULL DEFAULT now(),
    attempts      integer NOT NULL DEFAULT 1,
    PRIMARY KEY (binding, row_relid, row_tid)
);
