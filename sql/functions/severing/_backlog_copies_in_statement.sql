-- The next statement of this backend that updates or deletes rows of
-- relation severs the derived copies of the copy bindings listed (their
-- relations' oids) itself: the copy triggers of those bindings
-- (_sever_copies) are left out of it, every other trigger fires
-- (sever_backlog's statement of one batch; see src/placeholder_guard.c).
-- One statement only.
CREATE OR REPLACE FUNCTION @extschema@._backlog_copies_in_statement(relation regclass, copies oid[]) RETURNS void
    LANGUAGE c STRICT AS 'MODULE_PATHNAME', 'pals_privacy_backlog_copies_in_statement';
REVOKE ALL ON FUNCTION @extschema@._backlog_copies_in_statement(regclass,oid[]) FROM PUBLIC;
