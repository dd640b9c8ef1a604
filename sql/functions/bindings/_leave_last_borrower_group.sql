-- A loan binding leaves its last-borrower group (bind_loans'
-- last_borrower_group) as it is unbound or its relation dropped: the group's
-- tracker entries naming its rows (the relation, its partitions and
-- children) are dropped, so the next close of such an item among the other
-- members searches the item once (as for a stale entry); the rows it holds
-- are no longer the extension's.  When it was the group's first binding
-- (the key of the group's entries), the next member by OID becomes it: the
-- members and the group's entries are given its key.  Nothing happens for
-- a binding in no group.
CREATE OR REPLACE FUNCTION @extschema@._leave_last_borrower_group(rel oid) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    b @extschema@.loan_binding;
    g oid;
    heir oid;
BEGIN
    SELECT * INTO b FROM @extschema@.loan_binding l WHERE l.relation::oid = rel;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    g := coalesce(b.last_borrower_group, b.relation)::oid;
    IF NOT EXISTS (SELECT FROM @extschema@.loan_binding l
                    WHERE l.relation::oid <> rel AND coalesce(l.last_borrower_group, l.relation)::oid = g) THEN
        RETURN;
    END IF;
    WITH RECURSIVE tree (relid) AS (
        SELECT rel
        UNION SELECT i.inhrelid FROM pg_catalog.pg_inherits i JOIN tree ON i.inhparent = tree.relid)
    DELETE FROM @extschema@.last_borrower lb USING tree
     WHERE lb.binding = g AND lb.row_relid = tree.relid;
    DELETE FROM @extschema@.tracker_pin k WHERE k.binding::oid = g AND k.relation::oid = rel;
    UPDATE @extschema@.loan_binding l SET last_borrower_group = NULL WHERE l.relation::oid = rel;
    IF g = rel THEN
        SELECT min(l.relation::oid) INTO heir FROM @extschema@.loan_binding l WHERE l.last_borrower_group::oid = rel;
        UPDATE @extschema@.loan_binding l
           SET last_borrower_group = CASE WHEN l.relation::oid = heir THEN NULL ELSE heir::regclass END
         WHERE l.last_borrower_group::oid = rel;
        UPDATE @extschema@.last_borrower lb SET binding = heir WHERE lb.binding = rel;
        UPDATE @extschema@.tracker_pin k SET binding = heir::regclass WHERE k.binding::oid = rel;
    END IF;
END $$;

REVOKE ALL ON FUNCTION @extschema@._leave_last_borrower_group(oid) FROM PUBLIC;
