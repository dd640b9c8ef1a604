-- Record the file node of every relation holding the rows of tracker key tk
-- (each member binding of the group, its partitions and inheritance
-- children) as the one the tracker's entries are built against now
-- (tracker_file).  Called by every rebuild, after it has set the entries
-- from the rows as they are, in the transaction that holds the relations'
-- locks (nothing rewrote them since).  only_new: record relations that have
-- no row yet, leave the others (bind_loans without building the tracker:
-- its relation's entries start now, a group's older ones keep their node).
CREATE OR REPLACE FUNCTION @extschema@._tracker_file_record(tk oid, only_new boolean DEFAULT false) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    WITH RECURSIVE tree (relid) AS (
        SELECT l.relation::oid FROM @extschema@.loan_binding l
         WHERE coalesce(l.last_borrower_group, l.relation)::oid = tk
           AND EXISTS (SELECT FROM pg_class c WHERE c.oid = l.relation::oid)
        UNION
        SELECT i.inhrelid FROM pg_inherits i JOIN tree ON i.inhparent = tree.relid)
    INSERT INTO @extschema@.tracker_file AS f (relation, node)
    SELECT t.relid::regclass, pg_relation_filenode(t.relid) FROM tree t
     WHERE pg_relation_filenode(t.relid) IS NOT NULL      -- (a partitioned table holds no rows)
    ON CONFLICT (relation) DO UPDATE SET node = EXCLUDED.node
     WHERE NOT only_new AND f.node IS DISTINCT FROM EXCLUDED.node;
END $$;

REVOKE ALL ON FUNCTION @extschema@._tracker_file_record(oid, boolean) FROM PUBLIC;
