-- sever_backlog() walks each relation in physical order, one range of TIDs
-- per transaction, and resumes from the position it committed.  A VACUUM
-- FULL, CLUSTER or rewriting ALTER TABLE between two ranges (or between a
-- call that stopped and the next) moves the rows: the rows the new file
-- holds before the position would never be read, and the tracker's TIDs
-- (set right at the start of the call) name other rows.  The walk compares
-- the relation's file with the one its position and the tracker refer to,
-- and on a change sets the tracker right again and walks the relation from
-- its start.  Here the rewrites run from a trigger on the backlog's progress
-- (the point between two ranges).  It commits: this file runs outside a
-- transaction block and drops what it made.
\set bl_schema rw
\set bl_patrons 200
\i test/backlog/fixture.sql
SELECT plan(8);

-- rw.loans: rows 20 down to 1 in this physical order; items 1..10 each
-- returned twice, row i (older) and row i + 10 (its last borrower).  CLUSTER
-- by id reverses the order
CREATE TABLE rw.loans :walk_loans;
INSERT INTO rw.loans
SELECT i, i, (i - 1) % 10 + 1, CASE WHEN i <= 10 THEN timestamptz '2024-01-10' ELSE '2024-02-10' END, '2024-02-10'
  FROM generate_series(20, 1, -1) i;
-- rw.loans2: four open loans (which will go), then rows 1..10 (the older
-- returns of items 1..10), then rows 11..20 (their last borrowers); once the
-- open loans are deleted, VACUUM FULL moves every row four line pointers down
CREATE TABLE rw.loans2 :walk_loans;
INSERT INTO rw.loans2 SELECT i, i, i, NULL, NULL FROM generate_series(101, 104) i;
INSERT INTO rw.loans2
SELECT i, i, (i - 1) % 10 + 1, CASE WHEN i <= 10 THEN timestamptz '2024-01-10' ELSE '2024-02-10' END, '2024-02-10'
  FROM generate_series(1, 20) i;
DO $$ BEGIN
    PERFORM pals_privacy.bind_patrons('rw.patrons', 'id', 'expires');
    PERFORM pals_privacy.bind_loans('rw.loans', 'patron_id', 'item_id', '{returned}', 'paid');
    PERFORM pals_privacy.bind_loans('rw.loans2', 'patron_id', 'item_id', '{returned}', 'paid');
END $$;
CREATE FUNCTION rw.state(rel regclass) RETURNS text LANGUAGE plpgsql AS $$
DECLARE s text;
BEGIN
    EXECUTE format('SELECT string_agg(id || '':'' || coalesce(patron_id::text, ''-''), '' '' ORDER BY id) FROM %s WHERE returned IS NOT NULL', rel)
        INTO s;
    RETURN s;
END $$;
-- what every item should end as: its older row severed, its last borrower kept
CREATE FUNCTION rw.expected() RETURNS text LANGUAGE sql AS $$
    SELECT string_agg(i || ':' || CASE WHEN i <= 10 THEN '-' ELSE i::text END, ' ' ORDER BY i) FROM generate_series(1, 20) i
$$;
-- between two ranges: after the first range of rw.loans (rows 20..17, each
-- its item's last borrower), CLUSTER puts row i at line pointer i; the walk
-- would go on at line pointer 5 (rows 1..4 never read) with a tracker whose
-- entries now name the older rows.  A stop in the second range of rw.loans2
-- (the call fails; its first range is committed)
CREATE FUNCTION rw.hook() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.relation = 'rw.loans' AND OLD.batches = 0 AND NEW.batches = 1 THEN
        CLUSTER rw.loans USING loans_pkey;
    ELSIF NEW.relation = 'rw.loans2' AND NEW.batches = 2 THEN
        RAISE EXCEPTION 'rw: the backlog stopped in its second range of rw.loans2';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER rw_hook AFTER UPDATE ON pals_privacy.backlog_progress FOR EACH ROW EXECUTE FUNCTION rw.hook();

SELECT is(rw.state('rw.loans'), '1:1 2:2 3:3 4:4 5:5 6:6 7:7 8:8 9:9 10:10 11:11 12:12 13:13 14:14 15:15 16:16 17:17 18:18 19:19 20:20',
          'nothing severed yet');
SELECT pg_relation_filenode('rw.loans') AS rw_node \gset
CALL pals_privacy.sever_backlog(batch_size => 4);
SELECT is(rw.state('rw.loans'), rw.expected(),
          'CLUSTER between two ranges: every older row severed, every last borrower kept');
-- (the rows kept are written again too, reorder: their line pointers tell
-- nothing of the CLUSTER; the file does)
SELECT isnt(pg_relation_filenode('rw.loans'), :'rw_node'::oid, 'CLUSTER ran: rw.loans is in a new file');
SELECT is(rw.state('rw.loans2'), '1:1 2:2 3:3 4:4 5:5 6:6 7:7 8:8 9:9 10:10 11:11 12:12 13:13 14:14 15:15 16:16 17:17 18:18 19:19 20:20',
          'the backlog of rw.loans2 stopped after its first range (the open loans)');
SELECT is((SELECT last_tid FROM pals_privacy.backlog_progress WHERE relation = 'rw.loans2'), '(0,5)'::tid,
          'its position is line pointer 5');

-- between two calls: the open loans go, VACUUM FULL moves rows 1..4 to line
-- pointers 1..4, before the position
DROP TRIGGER rw_hook ON pals_privacy.backlog_progress;
DELETE FROM rw.loans2 WHERE returned IS NULL;
VACUUM FULL rw.loans2;
CALL pals_privacy.sever_backlog(batch_size => 4);
SELECT is(rw.state('rw.loans2'), rw.expected(),
          'VACUUM FULL between two calls: the next call walks the table again, every older row severed');
SELECT is((SELECT count(*) FROM pals_privacy.last_borrower t JOIN rw.loans l ON l.ctid = t.row_tid AND l.item_id::text = t.item
            WHERE t.binding = 'rw.loans'::regclass AND l.id > 10), 10::bigint,
          'the tracker of rw.loans names each item''s last borrower');
SELECT is((SELECT string_agg(state, ' ' ORDER BY relation) FROM pals_privacy.sever_backlog_progress
            WHERE relation IN ('rw.loans', 'rw.loans2')), 'done done', 'both walks done');

\i test/backlog/done.sql
SELECT * FROM finish();
