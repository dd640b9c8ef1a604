-- The file node each loan relation's tracker entries were built against
-- (a relation holding loan rows: a bound table, its partitions and
-- inheritance children, the members of a last-borrower group).  The
-- tracker names rows by TID (last_borrower.row_tid); VACUUM FULL, CLUSTER,
-- a rewriting ALTER TABLE, TRUNCATE, pg_repack and a restore give the
-- relation a new file and new TIDs, after which an entry names whatever row
-- landed on its TID.  _last_borrower() answers false for every row of a
-- relation whose file is no longer the one recorded here (src/last_borrower.c:
-- a stale entry never vouches), until a rebuild records the new one
-- (_tracker_file_record: _build_tracker, _restore_tracker, sever_backlog;
-- the utility hook rebuilds after VACUUM FULL, CLUSTER, ALTER TABLE and
-- TRUNCATE, src/tracker_rewrite.c).  A relation with no row here (bound
-- before 0.2.0 and not rebuilt since) is not checked.  Dumped, by the
-- relations' names: a restored database holds the old nodes, so entries
-- written before _restore_tracker() do not vouch.
CREATE TABLE @extschema@.tracker_file (
    relation  regclass PRIMARY KEY,
    node      oid NOT NULL            -- pg_relation_filenode(relation) when its entries were built
);

SELECT pg_catalog.pg_extension_config_dump('@extschema@.tracker_file', '');
