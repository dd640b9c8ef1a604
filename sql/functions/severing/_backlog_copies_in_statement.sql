-- The next statement of this backend that updates or deletes rows of
-- relation is sever_backlog's statement of one batch (see
-- src/placeholder_guard.c): its rows are not their items' last borrowers,
-- so the tombstone trigger (pals_privacy_tombstone) is left out of it; it
-- severs the derived copies of the copy bindings listed (their relations'
-- oids) itself, so the copy triggers of those bindings (_sever_copies) are
-- left out too; every other trigger fires.  One statement only; a superuser
-- or the extension's owner only (checked in C as well).
CREATE OR REPLACE FUNCTION @extschema@._backlog_copies_in_statement(relation regclass, copies oid[]) RETURNS void
    LANGUAGE c STRICT AS 'MODULE_PATHNAME', 'pals_privacy_backlog_copies_in_statement';
REVOKE ALL ON FUNCTION @extschema@._backlog_copies_in_statement(regclass,oid[]) FROM PUBLIC;
