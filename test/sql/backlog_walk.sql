-- sever_backlog() reads each relation in physical order and trusts the
-- tracker there, so it first sets each item's entry to its latest closed
-- row: rows closed without the severing trigger (loaded with
-- session_replication_role = replica) and entries VACUUM FULL left naming
-- other rows (another item's, or an older row of the same item) must not
-- make it keep the wrong row and sever the last borrower.  It commits: this
-- file runs outside a transaction block and drops what it made.
-- (the backlog's own correction of stale entries, as after pg_repack: the
-- rebuild a rewrite triggers at once, tracker_rewrite.c, is turned off)
SET pals_privacy.rebuild_tracker_after_rewrite = off;
\set bl_schema bw
\set bl_patrons 9
\i test/backlog/fixture.sql
SELECT plan(12);

CREATE TABLE bw.loans :walk_loans;
-- in this physical order: a row that will go (VACUUM FULL then moves every
-- row one line pointer down), item 3's last return (row 6) before its older
-- one (row 5), item 1's two returns, a return without an item (row 8)
INSERT INTO bw.loans VALUES (100, 9, 900, NULL, NULL);
INSERT INTO bw.loans VALUES (6, 6, 3, '2024-02-10', '2024-02-10');
INSERT INTO bw.loans VALUES (5, 5, 3, '2024-01-10', '2024-01-10');
INSERT INTO bw.loans VALUES (1, 1, 1, '2024-01-10', '2024-01-10');
INSERT INTO bw.loans VALUES (2, 2, 1, '2024-02-10', '2024-02-10');
INSERT INTO bw.loans VALUES (8, 8, NULL, '2024-01-10', '2024-01-10');
DO $$ BEGIN
    PERFORM pals_privacy.bind_patrons('bw.patrons', 'id', 'expires');
    PERFORM pals_privacy.bind_loans('bw.loans', 'patron_id', 'item_id', '{returned}', 'paid');
END $$;
CREATE FUNCTION bw.state() RETURNS text LANGUAGE sql AS $$
    SELECT string_agg(id || ':' || coalesce(patron_id::text, '-'), ' ' ORDER BY id) FROM bw.loans
$$;
CREATE FUNCTION bw.entry(item text) RETURNS int LANGUAGE sql AS $$
    SELECT l.id FROM pals_privacy.last_borrower t JOIN bw.loans l ON l.ctid = t.row_tid
     WHERE t.binding = 'bw.loans'::regclass AND t.item = $1
$$;
SELECT is(bw.entry('3') || ' ' || bw.entry('1'), '6 2', 'binding tracked rows 6 and 2');

-- item 1 returned again by a load that fires no trigger: row 7 is its
-- latest, the tracker still names row 2
SET session_replication_role = replica;
INSERT INTO bw.loans VALUES (7, 7, 1, '2024-03-10', '2024-03-10');
RESET session_replication_role;
-- VACUUM FULL moves the rows: item 3's entry now names row 5 (older, same
-- item), item 1's names row 8 (no item)
DELETE FROM bw.loans WHERE id = 100;
VACUUM FULL bw.loans;
SELECT is(bw.entry('3'), 5, 'after VACUUM FULL, item 3''s entry names its older row 5');
SELECT is(bw.entry('1'), 8, 'and item 1''s names row 8, which has no item');
SELECT is(bw.state(), '1:1 2:2 5:5 6:6 7:7 8:8', 'nothing severed yet');

CALL pals_privacy.sever_backlog(batch_size => 2);
SELECT is(bw.state(), '1:- 2:- 5:- 6:6 7:7 8:-',
          'the backlog kept each item''s latest closed row (6, 7) and severed the others, and the row without an item');
SELECT is(bw.entry('3') || ' ' || bw.entry('1'), '6 7', 'the tracker names rows 6 and 7');
SELECT is((SELECT items_done FROM pals_privacy.sever_backlog_progress), 2::bigint,
          'the progress counts the two entries it set right');

-- returns after it sever the right row
INSERT INTO bw.loans VALUES (9, 9, 3, '2024-04-10', '2024-04-10');
INSERT INTO bw.loans VALUES (10, 4, 1, '2024-04-10', '2024-04-10');
SELECT is(bw.state(), '1:- 2:- 5:- 6:- 7:- 8:- 9:9 10:4', 'returns after the backlog sever rows 6 and 7');
SELECT is((SELECT count(*) FROM pals_privacy.sever_pending), 0::bigint, 'nothing pending');

-- where a binding has more entries than three ranges have rows, the walk
-- reads the tracker by one probe of the item's entry per row (instead of
-- hashing every entry at every range): the same case after CLUSTER (which
-- rewrites in index order whatever else runs, where VACUUM FULL keeps a
-- deleted row that a snapshot may still see), four items, each entry
-- naming the older row of its item, walked one row per range (4 entries
-- against batch_size 1)
CREATE TABLE bw.loans2 :walk_loans;
-- in this physical order: each item's latest row (10i+2) before its older
-- one (10i+1); CLUSTER by id then puts the older one first
INSERT INTO bw.loans2 VALUES (12, 1, 1, '2024-02-10', '2024-02-10');
INSERT INTO bw.loans2 VALUES (11, 5, 1, '2024-01-10', '2024-01-10');
INSERT INTO bw.loans2 VALUES (22, 2, 2, '2024-02-10', '2024-02-10');
INSERT INTO bw.loans2 VALUES (21, 6, 2, '2024-01-10', '2024-01-10');
INSERT INTO bw.loans2 VALUES (32, 3, 3, '2024-02-10', '2024-02-10');
INSERT INTO bw.loans2 VALUES (31, 7, 3, '2024-01-10', '2024-01-10');
INSERT INTO bw.loans2 VALUES (42, 4, 4, '2024-02-10', '2024-02-10');
INSERT INTO bw.loans2 VALUES (41, 8, 4, '2024-01-10', '2024-01-10');
DO $$ BEGIN
    PERFORM pals_privacy.bind_loans('bw.loans2', 'patron_id', 'item_id', '{returned}', 'paid');
END $$;
CLUSTER bw.loans2 USING loans2_pkey;
CREATE FUNCTION bw.entries2() RETURNS text LANGUAGE sql AS $$
    SELECT string_agg(l.id::text, ' ' ORDER BY l.id) FROM pals_privacy.last_borrower t JOIN bw.loans2 l ON l.ctid = t.row_tid
     WHERE t.binding = 'bw.loans2'::regclass
$$;
SELECT is(bw.entries2(), '11 21 31 41', 'after CLUSTER, each entry names the older row of its item');
CALL pals_privacy.sever_backlog(batch_size => 1);
SELECT is((SELECT string_agg(id || ':' || coalesce(patron_id::text, '-'), ' ' ORDER BY id) FROM bw.loans2),
          '11:- 12:1 21:- 22:2 31:- 32:3 41:- 42:4',
          'walked by probes of the tracker, the backlog kept each item''s latest row and severed the older ones');
SELECT is(bw.entries2(), '12 22 32 42', 'the tracker names each item''s latest row');

\i test/backlog/done.sql
SELECT * FROM finish();
