-- Only a close makes a last borrower (src/tombstone.c; attack10's HOLE 4 and
-- 4b): staff read an item's last borrower whole and a desk may delete it,
-- re-open it or change its item.  The item's tracker entry then becomes a
-- tombstone (no last borrower until the item's next close), which a rebuild
-- by the dates (sever_backlog, rebuild_tracker, _restore_tracker) and the
-- item's search (an ILS write of an older closed row) keep: they would
-- otherwise make the item's latest remaining row its last borrower, an
-- opted-in patron's loan kept in place (masked for everyone but her until
-- then) or a row the backlog has not severed yet.  Controls: a new close is
-- still the last borrower (a back-dated one too, and a rebuild keeps it);
-- a row that is not the last borrower leaves the entry alone; items never
-- touched are still rebuilt by the dates.  A database of its own: the
-- backlog commits.
\o /dev/null
\set own_db identity_tracker_tombstone
\set own_roles 'regress_tomb_staff regress_tomb_ils'
\i test/own_database.sql
\set VERBOSITY terse
CREATE EXTENSION pals_privacy;
CREATE EXTENSION pgtap;
SET datestyle = ISO;
SET timezone = UTC;
SELECT pals_privacy.classify_role('regress_tomb_staff', 'staff');
SELECT pals_privacy.classify_role('regress_tomb_ils', 'operational');
\o
SELECT plan(51);
\o /dev/null
CREATE SCHEMA tb;
GRANT USAGE ON SCHEMA tb TO regress_tomb_staff, regress_tomb_ils;
-- patrons 1 (Ann) and 5 (Eve) opted in to keeping their history
CREATE TABLE tb.patrons (id bigint PRIMARY KEY, expires date NOT NULL DEFAULT 'infinity',
                         keep boolean NOT NULL DEFAULT false);
INSERT INTO tb.patrons (id, keep) VALUES (0, false), (1, true), (2, false), (3, false), (4, false), (5, true);
SELECT pals_privacy.bind_patrons('tb.patrons', 'id', 'expires', keep_history_column => 'keep');
ALTER DEFAULT PRIVILEGES IN SCHEMA tb GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO regress_tomb_staff, regress_tomb_ils;
-- what who reads (or does) of q, in one line
CREATE FUNCTION tb.v(who text, q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE r text;
BEGIN
    EXECUTE format('SET LOCAL ROLE %I', who);
    EXECUTE format('SELECT string_agg(x::text, '' '') FROM (%s) x', q) INTO r;
    RESET ROLE;
    RETURN coalesce(r, '-');
END $$;
CREATE FUNCTION tb.as_role(who text, q text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('SET LOCAL ROLE %I', who);
    EXECUTE q;
    RESET ROLE;
END $$;
CREATE TABLE tb.loans (id int PRIMARY KEY, patron_id bigint NOT NULL REFERENCES tb.patrons, item_id int NOT NULL,
                       returned_at timestamptz, settled_at timestamptz, note text);
CREATE INDEX ON tb.loans (patron_id);
CREATE INDEX ON tb.loans (item_id);
SELECT pals_privacy.bind_loans('tb.loans', 'patron_id', 'item_id', '{returned_at}', settled_column => 'settled_at',
                               sever_with => 'patron:0', history_mode => 'in_place');
-- the item's entry: 'tombstone', 'row <id>' or '-' (none)
CREATE FUNCTION tb.entry(i int) RETURNS text LANGUAGE sql AS $$
    SELECT coalesce((SELECT CASE WHEN lb.row_relid = 0 AND lb.pinned IS NOT NULL THEN 'tombstone'
                                 ELSE 'row ' || coalesce((SELECT l.id::text FROM tb.loans l
                                                           WHERE l.tableoid = lb.row_relid AND l.ctid = lb.row_tid), '?') END
                       FROM pals_privacy.last_borrower lb
                      WHERE lb.binding = 'tb.loans'::regclass AND lb.item = i::text), '-')
$$;
-- item i: Ann (1, opted in: kept in place) returned 2025-01-10 09:13:27, then patron p returned
-- 2025-02-10 11:00 (the last borrower); loans 10*i + 1 and 10*i + 2
CREATE FUNCTION tb.item(i int, ann int, p int) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO tb.loans VALUES (10 * i + 1, ann, i, '2025-01-10 09:13:27', '2025-01-10 09:13:27');
    INSERT INTO tb.loans VALUES (10 * i + 2, p, i, NULL, NULL);
    UPDATE tb.loans SET returned_at = '2025-02-10 11:00', settled_at = '2025-02-10 11:00' WHERE id = 10 * i + 2;
END $$;
SELECT tb.item(1, 1, 3);     -- HOLE 4: the desk deletes Cy's loan
SELECT tb.item(2, 5, 3);     -- re-open
SELECT tb.item(3, 1, 3);     -- item changed
SELECT tb.item(4, 1, 4);     -- the ILS deletes (aging)
SELECT tb.item(5, 1, 3);     -- deleted, then inserted again
SELECT tb.item(6, 5, 4);     -- Eve's (5) older loan, kept; the ILS deletes it (not the last borrower)
SELECT tb.item(7, 5, 4);     -- untouched
\o

------------------------------------------------------------------------------
-- HOLE 4: the desk deletes the last borrower's loan; rebuilds and the search
------------------------------------------------------------------------------
SELECT is(tb.v('regress_tomb_staff', 'SELECT id, patron_id, returned_at FROM tb.loans WHERE item_id = 1 ORDER BY id'),
          '(11,0,"2025-01-10 00:00:00+00") (12,3,"2025-02-10 11:00:00+00")',
          'control: staff read Ann''s kept loan as the placeholder''s, Cy''s (the last borrower) whole');
\o /dev/null
SELECT tb.as_role('regress_tomb_staff', 'DELETE FROM tb.loans WHERE id = 12');
\o
SELECT is(tb.entry(1), 'tombstone', 'the desk deleted the last borrower''s loan: the item''s entry is a tombstone');
CALL pals_privacy.sever_backlog();
SELECT is(tb.v('regress_tomb_ils', 'SELECT patron_id FROM tb.loans WHERE id = 11'), '(1)',
          'control: Ann''s loan is still kept (the ILS reads her)');
SELECT is(tb.v('regress_tomb_staff', 'SELECT id, patron_id, returned_at FROM tb.loans WHERE item_id = 1'),
          '(11,0,"2025-01-10 00:00:00+00")',
          'HOLE 4: after sever_backlog() staff still read Ann''s kept loan as the placeholder''s');
SELECT is(tb.entry(1), 'tombstone', 'sever_backlog() keeps the tombstone');
\o /dev/null
SELECT pals_privacy.rebuild_tracker('tb.loans');
\o
SELECT is(tb.v('regress_tomb_staff', 'SELECT patron_id FROM tb.loans WHERE id = 11'), '(0)',
          'HOLE 4: after rebuild_tracker() staff still read Ann''s kept loan as the placeholder''s');
CALL pals_privacy.sever_backlog(restart => true);
SELECT is(tb.v('regress_tomb_staff', 'SELECT patron_id FROM tb.loans WHERE id = 11'), '(0)',
          'HOLE 4: after sever_backlog(restart => true) staff still read Ann''s kept loan as the placeholder''s');
\o /dev/null
SELECT pals_privacy._restore_tracker('tb.loans');
\o
SELECT is(tb.v('regress_tomb_staff', 'SELECT patron_id FROM tb.loans WHERE id = 11'), '(0)',
          'HOLE 4: after _restore_tracker() (a restore) staff still read Ann''s kept loan as the placeholder''s');
\o /dev/null
SELECT tb.as_role('regress_tomb_ils', 'UPDATE tb.loans SET note = ''barcode fixed'' WHERE id = 11');
\o
SELECT is(tb.v('regress_tomb_staff', 'SELECT patron_id, returned_at FROM tb.loans WHERE id = 11'),
          '(0,"2025-01-10 00:00:00+00")',
          'HOLE 4: an ILS write of Ann''s kept loan (the item''s search by dates) does not make it the last borrower');
SELECT is(tb.entry(1), 'tombstone', 'the ILS''s write of an older row leaves the tombstone');
SELECT is(tb.v('regress_tomb_ils', 'SELECT patron_id FROM tb.loans WHERE id = 11'), '(1)',
          'control: the ILS''s write kept Ann''s loan hers');
-- the normal flow: the item's next close is its last borrower
\o /dev/null
SELECT tb.as_role('regress_tomb_ils', $$INSERT INTO tb.loans VALUES (13, 4, 1, NULL, NULL)$$);
SELECT tb.as_role('regress_tomb_ils', $$UPDATE tb.loans SET returned_at = '2025-03-01 10:00', settled_at = '2025-03-01 10:00' WHERE id = 13$$);
\o
SELECT is(tb.v('regress_tomb_staff', 'SELECT id, patron_id FROM tb.loans WHERE item_id = 1 ORDER BY id'), '(11,0) (13,4)',
          'control: the item''s next return (Dee) is its last borrower, staff read her; Ann''s loan stays hidden');
\o /dev/null
SELECT pals_privacy.rebuild_tracker('tb.loans');
\o
SELECT is(tb.entry(1), 'row 13', 'control: a rebuild keeps the new last borrower');

------------------------------------------------------------------------------
-- re-open: the desk undoes Cy's return (item 2: Eve, opted in, then Cy)
------------------------------------------------------------------------------
\o /dev/null
SELECT tb.as_role('regress_tomb_staff', 'UPDATE tb.loans SET returned_at = NULL, settled_at = NULL WHERE id = 22');
SELECT pals_privacy.rebuild_tracker('tb.loans');
\o
SELECT is(tb.entry(2), 'tombstone', 're-opened: the item''s entry is a tombstone, a rebuild keeps it');
SELECT is(tb.v('regress_tomb_staff', 'SELECT id, patron_id, returned_at FROM tb.loans WHERE item_id = 2 ORDER BY id'),
          '(21,0,"2025-01-10 00:00:00+00") (22,3,)',
          're-opened: after a rebuild staff still read Eve''s kept loan as the placeholder''s');
\o /dev/null
SELECT tb.as_role('regress_tomb_staff', $$UPDATE tb.loans SET returned_at = '2025-02-10 11:00', settled_at = '2025-02-10 11:00' WHERE id = 22$$);
\o
SELECT is(tb.v('regress_tomb_staff', 'SELECT id, patron_id FROM tb.loans WHERE item_id = 2 ORDER BY id'), '(21,0) (22,3)',
          'control: closed again, Cy''s loan is the last borrower by the normal close; Eve''s stays hidden');
SELECT is(tb.entry(2), 'row 22', 'closed again: the entry names Cy''s loan');
-- back-dated: re-open again and close before Eve's return
\o /dev/null
SELECT tb.as_role('regress_tomb_staff', 'UPDATE tb.loans SET returned_at = NULL, settled_at = NULL WHERE id = 22');
SELECT tb.as_role('regress_tomb_staff', $$UPDATE tb.loans SET returned_at = '2025-01-05 10:00', settled_at = '2025-01-05 10:00' WHERE id = 22$$);
SELECT pals_privacy.rebuild_tracker('tb.loans');
\o
SELECT is(tb.v('regress_tomb_staff', 'SELECT id, patron_id FROM tb.loans WHERE item_id = 2 ORDER BY id'), '(21,0) (22,3)',
          're-opened and closed back-dated, then a rebuild by the dates: Cy''s loan stays the last borrower, Eve''s hidden');

------------------------------------------------------------------------------
-- the item changed (item 3: Ann then Cy), back and forth
------------------------------------------------------------------------------
\o /dev/null
SELECT tb.as_role('regress_tomb_staff', 'UPDATE tb.loans SET item_id = 99 WHERE id = 32');
SELECT pals_privacy.rebuild_tracker('tb.loans');
\o
SELECT is(tb.entry(3), 'tombstone', 'moved to another item: the item''s entry is a tombstone, a rebuild keeps it');
SELECT is(tb.v('regress_tomb_staff', 'SELECT id, patron_id FROM tb.loans WHERE item_id = 3'), '(31,0)',
          'moved: after a rebuild staff still read Ann''s kept loan as the placeholder''s');
\o /dev/null
SELECT tb.as_role('regress_tomb_staff', 'UPDATE tb.loans SET item_id = 3 WHERE id = 32');
SELECT pals_privacy.rebuild_tracker('tb.loans');
\o
SELECT is(tb.entry(3), 'tombstone', 'moved back: not a close, the item keeps its tombstone');
SELECT is(tb.entry(99), 'tombstone', 'moved back: the other item''s entry, which named the row, is a tombstone too');
SELECT is(tb.v('regress_tomb_staff', 'SELECT id, patron_id FROM tb.loans WHERE item_id = 3 ORDER BY id'), '(31,0) (32,0)',
          'moved back: staff read neither Ann''s kept loan nor Cy''s (severed: no longer a last borrower) with a patron');
SELECT is(tb.v('regress_tomb_ils', 'SELECT id, patron_id FROM tb.loans WHERE item_id = 3 ORDER BY id'), '(31,1) (32,0)',
          'control: Ann''s loan is still kept, Cy''s was severed');

------------------------------------------------------------------------------
-- the ILS (operational) deletes the last borrower (aging); item 4: Ann then Dee
------------------------------------------------------------------------------
\o /dev/null
SELECT tb.as_role('regress_tomb_ils', 'DELETE FROM tb.loans WHERE id = 42');
\o
CALL pals_privacy.sever_backlog(restart => true);
SELECT is(tb.entry(4), 'tombstone', 'the ILS deleted the last borrower''s loan: a tombstone, kept by the backlog');
SELECT is(tb.v('regress_tomb_staff', 'SELECT id, patron_id FROM tb.loans WHERE item_id = 4'), '(41,0)',
          'the ILS''s delete: after sever_backlog() staff still read Ann''s kept loan as the placeholder''s');
-- the ILS's next close of the item, back-dated before Ann's return: the last borrower all the same
\o /dev/null
SELECT tb.as_role('regress_tomb_ils', $$INSERT INTO tb.loans VALUES (43, 4, 4, '2025-01-02 10:00', '2025-01-02 10:00')$$);
SELECT pals_privacy.rebuild_tracker('tb.loans');
\o
SELECT is(tb.v('regress_tomb_staff', 'SELECT id, patron_id FROM tb.loans WHERE item_id = 4 ORDER BY id'), '(41,0) (43,4)',
          'the ILS closes a loan of the item, back-dated before Ann''s return: it is the last borrower (not searched by the dates), Ann''s stays hidden through a rebuild');

------------------------------------------------------------------------------
-- deleted, then inserted again (item 5: Ann then Cy); back-dated before Ann's
------------------------------------------------------------------------------
\o /dev/null
SELECT tb.as_role('regress_tomb_staff', 'DELETE FROM tb.loans WHERE id = 52');
SELECT tb.as_role('regress_tomb_staff', $$INSERT INTO tb.loans VALUES (52, 3, 5, '2025-01-01 08:00', '2025-01-01 08:00')$$);
\o
SELECT is(tb.entry(5), 'row 52', 'inserted again, closed (a close): the row is the item''s last borrower, whatever its date');
\o /dev/null
SELECT pals_privacy.rebuild_tracker('tb.loans');
\o
CALL pals_privacy.sever_backlog(restart => true);
SELECT is(tb.v('regress_tomb_staff', 'SELECT id, patron_id FROM tb.loans WHERE item_id = 5 ORDER BY id'), '(51,0) (52,3)',
          'inserted again back-dated, then a rebuild and the backlog: Ann''s kept loan stays hidden (the pin carried over)');
SELECT is(tb.v('regress_tomb_ils', 'SELECT patron_id FROM tb.loans WHERE id = 51'), '(1)',
          'control: Ann''s loan is still kept');

------------------------------------------------------------------------------
-- a row that is not the last borrower (item 6: Eve's kept loan) leaves the entry alone
------------------------------------------------------------------------------
\o /dev/null
SELECT tb.as_role('regress_tomb_ils', 'DELETE FROM tb.loans WHERE id = 61');
\o
SELECT is(tb.entry(6), 'row 62', 'control: deleting an older row leaves the item''s last borrower as it was');
SELECT is(tb.v('regress_tomb_staff', 'SELECT id, patron_id FROM tb.loans WHERE item_id = 6'), '(62,4)',
          'control: staff still read the last borrower whole');

------------------------------------------------------------------------------
-- items never touched are still rebuilt by the dates
------------------------------------------------------------------------------
DELETE FROM pals_privacy.last_borrower WHERE binding = 'tb.loans'::regclass AND item = '7';
\o /dev/null
SELECT pals_privacy.rebuild_tracker('tb.loans');
\o
SELECT is(tb.entry(7), 'row 72', 'control: an item without an entry is rebuilt by the dates');
SELECT is(tb.v('regress_tomb_staff', 'SELECT id, patron_id FROM tb.loans WHERE item_id = 7 ORDER BY id'), '(71,0) (72,4)',
          'control: staff read the rebuilt last borrower whole');

------------------------------------------------------------------------------
-- the trigger is part of the protections health() checks
------------------------------------------------------------------------------
SELECT is((SELECT ok FROM pals_privacy.health() WHERE check_name = 'protections in place'), true,
          'health(): protections in place');
\o /dev/null
DROP TRIGGER pals_privacy_tombstone ON tb.loans;
\o
SELECT is((SELECT detail FROM pals_privacy.health() WHERE check_name = 'protections in place') LIKE '%pals_privacy_tombstone on tb.loans is missing%', true,
          'health(): a dropped tombstone trigger is named');
\o /dev/null
SELECT pals_privacy._install_loan_triggers('tb.loans');
\o

------------------------------------------------------------------------------
-- HOLE 4b: history from before the binding; the desk deletes the last borrower before the backlog
------------------------------------------------------------------------------
\o /dev/null
CREATE TABLE tb.loans4b (id int PRIMARY KEY, patron_id bigint REFERENCES tb.patrons, item_id int NOT NULL,
                         returned_at timestamptz);
CREATE INDEX ON tb.loans4b (patron_id);
CREATE INDEX ON tb.loans4b (item_id);
INSERT INTO tb.loans4b VALUES (1, 2, 20, '2025-01-10 16:42:07'), (2, 3, 20, '2025-02-10 11:00'),
                              (3, 2, 21, '2025-01-10 16:42:07'), (4, 4, 21, '2025-02-10 11:00');
SELECT pals_privacy.bind_loans('tb.loans4b', 'patron_id', 'item_id', '{returned_at}');
\o
SELECT is(tb.v('regress_tomb_staff', 'SELECT id, patron_id FROM tb.loans4b ORDER BY id'), '(1,) (2,3) (3,) (4,4)',
          'control (4b): after binding, Ben''s earlier loans are hidden, the last borrowers read');
\o /dev/null
SELECT tb.as_role('regress_tomb_staff', 'DELETE FROM tb.loans4b WHERE id = 2');
\o
SELECT is(tb.v('regress_tomb_ils', 'SELECT patron_id FROM tb.loans4b WHERE id = 1'), '(2)',
          'control (4b): the desk deleted Cy''s loan; Ben''s still names him (the backlog has not run)');
CALL pals_privacy.sever_backlog(restart => true);
SELECT is(tb.v('regress_tomb_staff', 'SELECT id, patron_id FROM tb.loans4b WHERE item_id = 20'), '(1,)',
          'HOLE 4b: after the backlog staff do not read Ben as item 20''s borrower');
SELECT is(tb.v('regress_tomb_ils', 'SELECT id, patron_id FROM tb.loans4b ORDER BY id'), '(1,) (3,) (4,4)',
          'HOLE 4b: the backlog severed Ben''s loan of item 20 (no last borrower until its next close) as of item 21');
SELECT is(tb.v('regress_tomb_staff', 'SELECT id, patron_id FROM tb.loans4b WHERE item_id = 21 ORDER BY id'), '(3,) (4,4)',
          'control (4b): an item untouched keeps its last borrower through the backlog');

------------------------------------------------------------------------------
-- the extension's own severs leave the trigger out (src/tombstone.c, "Cost"):
-- its direct writes and the backlog's statement of one batch; no session can
-- have a write of its own left out: not by arming the backlog's statement
-- (administrators only, by the grant and in C), not by a trigger of the ILS
-- that writes while the extension severs (a statement of its own)
------------------------------------------------------------------------------
\o /dev/null
-- history from before the binding: items 30 to 33, Ben (2) then the last borrower
CREATE TABLE tb.loans_s (id int PRIMARY KEY, patron_id bigint REFERENCES tb.patrons, item_id int NOT NULL,
                         returned_at timestamptz);
CREATE INDEX ON tb.loans_s (patron_id);
CREATE INDEX ON tb.loans_s (item_id);
INSERT INTO tb.loans_s VALUES (1, 2, 30, '2025-01-10 16:42:07'), (2, 3, 30, '2025-02-10 11:00'),
                              (3, 2, 31, '2025-01-10 16:42:07'), (4, 4, 31, '2025-02-10 11:00'),
                              (5, 2, 32, '2025-01-10 16:42:07'), (6, 4, 32, '2025-02-10 11:00'),
                              (7, 2, 33, '2025-01-10 16:42:07'), (8, 4, 33, '2025-02-10 11:00');
SELECT pals_privacy.bind_loans('tb.loans_s', 'patron_id', 'item_id', '{returned_at}');
CREATE FUNCTION tb.entry_s(i int) RETURNS text LANGUAGE sql AS $$
    SELECT coalesce((SELECT CASE WHEN lb.row_relid = 0 AND lb.pinned IS NOT NULL THEN 'tombstone'
                                 ELSE 'row ' || coalesce((SELECT l.id::text FROM tb.loans_s l
                                                           WHERE l.tableoid = lb.row_relid AND l.ctid = lb.row_tid), '?') END
                       FROM pals_privacy.last_borrower lb
                      WHERE lb.binding = 'tb.loans_s'::regclass AND lb.item = i::text), '-')
$$;
-- a session that arms the backlog's statement, then deletes a last borrower
CREATE FUNCTION tb.spoof(victim int) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pals_privacy._backlog_copies_in_statement('tb.loans_s', '{}');
    DELETE FROM tb.loans_s WHERE id = victim;
END $$;
-- a trigger of the ILS that deletes the row tb.victim names when a row of item 30 loses its patron
CREATE TABLE tb.victim (id int);
GRANT SELECT, DELETE ON tb.victim TO regress_tomb_ils, regress_tomb_staff;
CREATE FUNCTION tb.ils_cleanup() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM tb.loans_s WHERE id IN (SELECT id FROM tb.victim);
    DELETE FROM tb.victim;
    RETURN NULL;
END $$;
CREATE TRIGGER ils_cleanup AFTER UPDATE ON tb.loans_s FOR EACH ROW
    WHEN (NEW.item_id = 30 AND OLD.patron_id IS NOT NULL AND NEW.patron_id IS NULL)
    EXECUTE FUNCTION tb.ils_cleanup();
\o
SELECT throws_ok($$SELECT tb.as_role('regress_tomb_ils', 'SELECT tb.spoof(8)')$$, '42501', NULL,
                 'the ILS cannot arm the backlog''s statement (which leaves the tombstone trigger out) to delete a last borrower');
\o /dev/null
GRANT EXECUTE ON FUNCTION pals_privacy._backlog_copies_in_statement(regclass, oid[]) TO regress_tomb_staff;
\o
SELECT throws_ok($$SELECT tb.as_role('regress_tomb_staff', 'SELECT tb.spoof(8)')$$, '42501',
                 'permission denied for _backlog_copies_in_statement',
                 'granted EXECUTE by mistake, the desk still cannot arm it (checked in C)');
\o /dev/null
REVOKE EXECUTE ON FUNCTION pals_privacy._backlog_copies_in_statement(regclass, oid[]) FROM regress_tomb_staff;
\o
SELECT is(tb.v('regress_tomb_ils', 'SELECT id, patron_id FROM tb.loans_s WHERE item_id = 33 ORDER BY id') || ' ' || tb.entry_s(33),
          '(7,2) (8,4) row 8', 'the spoofs changed nothing: item 33''s last borrower is there, its entry names it');
-- the backlog severs item 30's and 31's earlier loans by one statement; the
-- ILS's trigger, fired by it, deletes item 31's last borrower
\o /dev/null
INSERT INTO tb.victim VALUES (4);
\o
CALL pals_privacy.sever_backlog(restart => true);
SELECT is(tb.v('regress_tomb_ils', 'SELECT id, patron_id FROM tb.loans_s WHERE item_id IN (30, 31) ORDER BY id'),
          '(1,) (2,3) (3,)', 'control: the backlog severed the earlier loans; the ILS''s trigger deleted item 31''s last borrower');
SELECT is(tb.entry_s(31), 'tombstone',
          'a delete by the ILS''s trigger inside the backlog''s statement still leaves a tombstone (only that statement''s own rows are left out)');
-- a return of item 30 severs Cy's loan (a direct write); the ILS's trigger,
-- fired by that write, deletes item 32's last borrower
\o /dev/null
INSERT INTO tb.victim VALUES (6);
SELECT tb.as_role('regress_tomb_ils', $$INSERT INTO tb.loans_s VALUES (9, 4, 30, NULL)$$);
SELECT tb.as_role('regress_tomb_ils', $$UPDATE tb.loans_s SET returned_at = '2025-03-01 10:00' WHERE id = 9$$);
\o
SELECT is(tb.v('regress_tomb_ils', 'SELECT id, patron_id FROM tb.loans_s WHERE item_id IN (30, 32) ORDER BY id') || ' ' || tb.entry_s(30),
          '(1,) (2,) (5,) (9,4) row 9', 'control: the return severed Cy''s loan, Dee''s is the last borrower; item 32''s was deleted');
SELECT is(tb.entry_s(32), 'tombstone',
          'a delete by the ILS''s trigger inside a sever''s write still leaves a tombstone');

------------------------------------------------------------------------------
-- the old row is tested in C (the trigger has no WHEN clause): an open row
-- never buries an entry, not even a stale one that names its TID after a
-- rewrite (the rebuild after it off, as for pg_repack): a renewal there
-- leaves the entry to the rebuild, which finds the item's last borrower
------------------------------------------------------------------------------
\o /dev/null
CREATE TABLE tb.loans_r (id int PRIMARY KEY, patron_id bigint REFERENCES tb.patrons, item_id int NOT NULL,
                         returned_at timestamptz, note text);
CREATE INDEX ON tb.loans_r (item_id);
-- Ben's open loan of item 50, Cy's return of item 40, then Dee's open loan of item 40
INSERT INTO tb.loans_r VALUES (1, 2, 50, NULL), (2, 3, 40, '2025-02-10 11:00'), (3, 4, 40, NULL);
SELECT pals_privacy.bind_loans('tb.loans_r', 'patron_id', 'item_id', '{returned_at}');
CREATE FUNCTION tb.entry_r(i int) RETURNS text LANGUAGE sql AS $$
    SELECT coalesce((SELECT CASE WHEN lb.row_relid = 0 AND lb.pinned IS NOT NULL THEN 'tombstone'
                                 ELSE 'row ' || coalesce((SELECT l.id::text FROM tb.loans_r l
                                                           WHERE l.tableoid = lb.row_relid AND l.ctid = lb.row_tid), '?') END
                       FROM pals_privacy.last_borrower lb
                      WHERE lb.binding = 'tb.loans_r'::regclass AND lb.item = i::text), '-')
$$;
SELECT tb.as_role('regress_tomb_ils', 'DELETE FROM tb.loans_r WHERE id = 1');
SET pals_privacy.rebuild_tracker_after_rewrite = off;
VACUUM FULL tb.loans_r;
RESET pals_privacy.rebuild_tracker_after_rewrite;
\o
SELECT is(tb.entry_r(40), 'row 3', 'control: after the rewrite item 40''s stale entry names the TID Dee''s open loan now has');
\o /dev/null
SELECT tb.as_role('regress_tomb_ils', $$UPDATE tb.loans_r SET note = 'renewed' WHERE id = 3$$);
\o
SELECT isnt(tb.entry_r(40), 'tombstone', 'a renewal of that open loan does not bury the entry (the old row was open)');
\o /dev/null
SELECT pals_privacy.rebuild_tracker('tb.loans_r');
\o
SELECT is(tb.v('regress_tomb_staff', 'SELECT id, patron_id FROM tb.loans_r ORDER BY id') || ' ' || tb.entry_r(40),
          '(2,3) (3,4) row 2', 'the rebuild finds Cy''s loan, the item''s last borrower, and staff read it');

SELECT * FROM finish();
\o /dev/null
\c :own_home
DROP DATABASE identity_tracker_tombstone WITH (FORCE);
DROP ROLE regress_tomb_staff;
DROP ROLE regress_tomb_ils;
