-- What keeps a bound view from being read as its owner (NULL: nothing, or
-- not a view): the check of _require_view_owner, in one line, for health().
CREATE OR REPLACE FUNCTION @extschema@._view_owner_problem(relation regclass) RETURNS text
    LANGUAGE c STABLE STRICT AS 'MODULE_PATHNAME', 'pals_privacy_view_owner_problem';

REVOKE ALL ON FUNCTION @extschema@._view_owner_problem(regclass) FROM PUBLIC;
