-- A copy's rule evaluated once per key and query (src/redact_copies.c, "The
-- rule evaluated once per key and query"): the masks of a copy's columns read
-- _copy_memo(n, key), which runs the rule's kept plan for a key it has no
-- answer for (PARALLEL RESTRICTED: a worker has no kept plans), or
-- COALESCE(_copy_memo(n, key), _copy_memo_keep(n, <rule>, key)).  Only the
-- calls the rewrite made read or keep an answer; a query that names them gets
-- NULL from _copy_memo and keeps nothing with _copy_memo_keep, so every role
-- may execute them (the rewritten queries run as the reading role).
CREATE OR REPLACE FUNCTION @extschema@._copy_memo(rule integer, VARIADIC key "any") RETURNS boolean
    LANGUAGE c STABLE PARALLEL RESTRICTED AS 'MODULE_PATHNAME', 'pals_privacy_copy_memo';

CREATE OR REPLACE FUNCTION @extschema@._copy_memo_keep(rule integer, visible boolean, VARIADIC key "any")
    RETURNS boolean LANGUAGE c STABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'pals_privacy_copy_memo_keep';

REVOKE ALL ON FUNCTION @extschema@._copy_memo(integer,"any") FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@._copy_memo(integer,"any") TO PUBLIC;
REVOKE ALL ON FUNCTION @extschema@._copy_memo_keep(integer,boolean,"any") FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@._copy_memo_keep(integer,boolean,"any") TO PUBLIC;
