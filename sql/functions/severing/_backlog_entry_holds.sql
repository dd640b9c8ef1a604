-- sever_backlog(): does a tracker entry name a row that is there, of its
-- item, closed and identified (src/sever.c)?  Such a row is the item's last
-- borrower; an entry naming anything else is judged from the rows.
CREATE OR REPLACE FUNCTION @extschema@._backlog_entry_holds(binding oid, item text, row_relid oid, row_tid tid)
    RETURNS boolean LANGUAGE c STABLE STRICT AS 'MODULE_PATHNAME', 'pals_privacy_backlog_entry_holds';

REVOKE ALL ON FUNCTION @extschema@._backlog_entry_holds(oid,text,oid,tid) FROM PUBLIC;
