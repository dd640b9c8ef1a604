-- Procedures commit after every batch: called in a transaction block they
-- are refused up front, with a message that says to call them on their own
-- (src/operations.c refuses such a CALL of any procedure of the extension
-- in a session that has loaded the library; procedures call this first).
CREATE OR REPLACE FUNCTION @extschema@._require_top_level(procedure_name text) RETURNS void
    LANGUAGE c STRICT AS 'MODULE_PATHNAME', 'pals_privacy_require_top_level';

REVOKE ALL ON FUNCTION @extschema@._require_top_level(text) FROM PUBLIC;
