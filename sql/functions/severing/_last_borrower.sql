-- Redaction (src/redact_runtime.c, docs/redaction.md): the functions the rewritten
-- queries of redacted roles call, so every role may execute them.

-- Is this row (the relation holding it, its tid) the item's last borrower?  binding: the
-- loan binding's tracker key (its relation, or its last-borrower group's first binding).
CREATE OR REPLACE FUNCTION @extschema@._last_borrower(binding oid, item text, row_relid oid, row_tid tid)
    RETURNS boolean LANGUAGE c STABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'pals_privacy_last_borrower';

REVOKE ALL ON FUNCTION @extschema@._last_borrower(oid,text,oid,tid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@._last_borrower(oid,text,oid,tid) TO PUBLIC;
