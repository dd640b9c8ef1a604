-- After a rebuild of the tracker of tracker key tk: forget the keys
-- (tracker_pin) of entries no longer pinned (rebuilt by the dates, or gone)
-- or tombstones (row_relid 0: the row left the item, tombstone.c), so that a later restore does not pin a row the tracker no longer names.
CREATE OR REPLACE FUNCTION @extschema@._tracker_unpin_stale(tk oid) RETURNS void
LANGUAGE sql SET search_path = pg_catalog, pg_temp AS $$
    DELETE FROM @extschema@.tracker_pin k
     WHERE k.binding = tk::regclass
       AND NOT EXISTS (SELECT FROM @extschema@.last_borrower lb
                        WHERE lb.binding = tk AND lb.item = k.item AND lb.pinned IS NOT NULL
                          AND lb.row_relid <> 0)
$$;

REVOKE ALL ON FUNCTION @extschema@._tracker_unpin_stale(oid) FROM PUBLIC;
