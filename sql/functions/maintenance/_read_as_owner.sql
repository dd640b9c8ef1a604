-- Runs one read of a bound relation ($1: arg) and returns its first column
-- (jsonb): a view is checked (_require_view_owner's rules; refused if it
-- fails them) and, where the caller is a superuser, read as its owner, so
-- that the functions it calls never run as the extension owner; a table is
-- read as the caller.  For _my_data_of and _patrons_owing: src/view_owner.c.
CREATE OR REPLACE FUNCTION @extschema@._read_as_owner(relation regclass, sql text, arg anyelement) RETURNS jsonb
    LANGUAGE c AS 'MODULE_PATHNAME', 'pals_privacy_read_as_owner';

REVOKE ALL ON FUNCTION @extschema@._read_as_owner(regclass, text, anyelement) FROM PUBLIC;
