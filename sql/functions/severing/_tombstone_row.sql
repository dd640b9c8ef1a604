-- Row trigger pals_privacy_tombstone (src/tombstone.c): an item's
-- last-borrower row deleted, re-opened or moved to another item leaves the
-- item's tracker entry a tombstone: no last borrower until its next close.
CREATE OR REPLACE FUNCTION @extschema@._tombstone_row() RETURNS trigger
    LANGUAGE c AS 'MODULE_PATHNAME', 'pals_privacy_tombstone_row';

REVOKE ALL ON FUNCTION @extschema@._tombstone_row() FROM PUBLIC;
