-- The next statement of this backend leaves the foreign-key check of the
-- patron column out of its update of relation, which re-points rows to the
-- guarded placeholder (sever_backlog's set-based sever; see
-- src/placeholder_guard.c).  One statement only.
CREATE OR REPLACE FUNCTION @extschema@._skip_placeholder_check(relation regclass) RETURNS void
    LANGUAGE c STRICT AS 'MODULE_PATHNAME', 'pals_privacy_skip_placeholder_check';
REVOKE ALL ON FUNCTION @extschema@._skip_placeholder_check(regclass) FROM PUBLIC;
