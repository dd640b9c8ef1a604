-- Writes by redacted classes (docs/redaction.md, "Writes"): an assignment
-- that would decide whether a hidden patron is shown, or that stores a value
-- computed from a masked column, must leave the column as it was.
CREATE FUNCTION @extschema@._write_check(new_value anyelement, old_value anyelement, allowed boolean, column_name text)
    RETURNS anyelement LANGUAGE c VOLATILE PARALLEL UNSAFE
    AS 'MODULE_PATHNAME', 'pals_privacy_write_check';
REVOKE ALL ON FUNCTION @extschema@._write_check(anyelement, anyelement, boolean, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@._write_check(anyelement, anyelement, boolean, text) TO PUBLIC;
