-- A desk's dates never choose which hidden row becomes the last borrower it
-- reads, not even later, through a rebuild of the tracker by the dates
-- (attack11's HOLE 1 and 2).  HOLE 1: the desk back-dates the return of an
-- item's last borrower (a plain UPDATE of a row it reads whole) below an
-- opted-in patron's kept loan of the item; the entry must be pinned, else
-- the next rebuild by the dates (CLUSTER, VACUUM FULL, rebuild_tracker())
-- makes the kept loan the last borrower, read whole.  HOLE 2: the desk
-- deletes the last borrower (a tombstone), the ILS then writes the kept
-- loan: the tombstone's pin key must not come to name it, else a rebuild
-- finds the kept row "again" by its key.  Controls: the ILS's own
-- back-dating is the dates' (not pinned); a desk moving a return later
-- pins nothing; a new close after a tombstone is the last borrower and
-- keeps it through a rebuild (its key recorded).  A database of its own:
-- VACUUM FULL cannot run in a transaction.
\o /dev/null
\set own_db identity_tracker_backdate
\set own_roles 'regress_bd_staff regress_bd_ils'
\i test/own_database.sql
\set VERBOSITY terse
CREATE EXTENSION pals_privacy;
CREATE EXTENSION pgtap;
SET datestyle = ISO;
SET timezone = UTC;
SELECT pals_privacy.classify_role('regress_bd_staff', 'staff');
SELECT pals_privacy.classify_role('regress_bd_ils', 'operational');
\o
SELECT plan(17);
\o /dev/null
CREATE SCHEMA bd;
GRANT USAGE ON SCHEMA bd TO regress_bd_staff, regress_bd_ils;
-- patron 1 (Ann) opted in to keeping her history; 3 (Cy) did not; 0 is the placeholder
CREATE TABLE bd.patrons (id bigint PRIMARY KEY, expires date NOT NULL DEFAULT 'infinity',
                         keep boolean NOT NULL DEFAULT false);
INSERT INTO bd.patrons (id, keep) VALUES (0, false), (1, true), (3, false);
SELECT pals_privacy.bind_patrons('bd.patrons', 'id', 'expires', keep_history_column => 'keep');
CREATE TABLE bd.loans (id int PRIMARY KEY, patron_id bigint NOT NULL REFERENCES bd.patrons, item_id int NOT NULL,
                       out_at timestamptz NOT NULL, returned_at timestamptz, settled_at timestamptz, note text);
CREATE INDEX ON bd.loans (item_id);
SELECT pals_privacy.bind_loans('bd.loans', 'patron_id', 'item_id', '{returned_at}', settled_column => 'settled_at',
                               sever_with => 'patron:0', history_mode => 'in_place');
GRANT SELECT, INSERT, UPDATE, DELETE ON bd.loans TO regress_bd_staff, regress_bd_ils;
-- what a role reads of a query, as one line
CREATE FUNCTION bd.v(who text, q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE r text;
BEGIN
    EXECUTE format('SET LOCAL ROLE %I', who);
    EXECUTE format('SELECT string_agg(x::text, '' '') FROM (%s) x', q) INTO r;
    RESET ROLE;
    RETURN coalesce(r, '-');
END $$;
-- item's loans: Ann (kept in place) returned, then Cy returned (the last borrower)
CREATE FUNCTION bd.two_loans(item int, ann int, cy int) RETURNS void LANGUAGE sql AS $$
    INSERT INTO bd.loans VALUES (ann, 1, item, '2025-01-01 10:00', NULL, NULL, 'ann');
    UPDATE bd.loans SET returned_at = '2025-01-10 09:13:27', settled_at = '2025-01-10 09:13:27' WHERE id = ann;
    INSERT INTO bd.loans VALUES (cy, 3, item, '2025-02-01 10:00', NULL, NULL, 'cy');
    UPDATE bd.loans SET returned_at = '2025-02-10 11:00', settled_at = '2025-02-10 11:00' WHERE id = cy;
$$;
SELECT bd.two_loans(10, 1, 2), bd.two_loans(20, 3, 4), bd.two_loans(30, 5, 6), bd.two_loans(40, 7, 8),
       bd.two_loans(50, 9, 10), bd.two_loans(60, 12, 13);
-- is the item's entry pinned (chosen against the dates)?
CREATE FUNCTION bd.pinned(item int) RETURNS boolean LANGUAGE sql AS $$
    SELECT pinned IS NOT NULL FROM pals_privacy.last_borrower WHERE item = $1::text
$$;
\o

-- HOLE 1: item 10, the desk back-dates Cy's return below Ann's
SET ROLE regress_bd_staff;
UPDATE bd.loans SET returned_at = '2024-12-01 10:00' WHERE id = 2;
RESET ROLE;
SELECT is(bd.v('regress_bd_staff', 'SELECT id, patron_id, returned_at FROM bd.loans WHERE item_id = 10 ORDER BY id'),
          '(1,0,"2025-01-10 00:00:00+00") (2,3,"2024-12-01 10:00:00+00")',
          'control: after the desk back-dated the last borrower''s return, Ann''s kept loan still reads hidden');
SELECT ok(bd.pinned(10), 'HOLE 1: the back-dated last borrower''s entry is pinned (the dates no longer say it)');
\o /dev/null
BEGIN;
CLUSTER bd.loans USING loans_pkey;
SELECT bd.v('regress_bd_staff', 'SELECT patron_id, returned_at FROM bd.loans WHERE id = 1') AS after_cluster \gset
ROLLBACK;
BEGIN;
SELECT pals_privacy.rebuild_tracker('bd.loans');
SELECT bd.v('regress_bd_staff', 'SELECT patron_id, returned_at FROM bd.loans WHERE id = 1') AS after_rebuild \gset
ROLLBACK;
\o
SELECT is(:'after_cluster'::text, '(0,"2025-01-10 00:00:00+00")',
          'HOLE 1: CLUSTER (the tracker rebuilt by the dates): Ann''s kept loan stays hidden');
SELECT is(:'after_rebuild'::text, '(0,"2025-01-10 00:00:00+00")',
          'HOLE 1: rebuild_tracker(): Ann''s kept loan stays hidden');
VACUUM FULL bd.loans;
SELECT is(bd.v('regress_bd_staff', 'SELECT id, patron_id, returned_at FROM bd.loans WHERE item_id = 10 ORDER BY id'),
          '(1,0,"2025-01-10 00:00:00+00") (2,3,"2024-12-01 10:00:00+00")',
          'HOLE 1: VACUUM FULL: Ann''s kept loan stays hidden, Cy stays the last borrower');

-- the variant: the desk un-settles the row first, then back-dates it
SET ROLE regress_bd_staff;
UPDATE bd.loans SET settled_at = NULL WHERE id = 8;
UPDATE bd.loans SET returned_at = '2024-12-01 10:00', settled_at = '2024-12-01 10:00' WHERE id = 8;
RESET ROLE;
\o /dev/null
SELECT pals_privacy.rebuild_tracker('bd.loans');
\o
SELECT is(bd.v('regress_bd_staff', 'SELECT id, patron_id FROM bd.loans WHERE item_id = 40 ORDER BY id'), '(7,0) (8,3)',
          'HOLE 1: un-settled, then back-dated and settled again: after a rebuild Ann''s kept loan stays hidden');

-- 1b: after the back-dating, the ILS writes Ann's kept loan (no rebuild): Cy stays, whole
SET ROLE regress_bd_staff;
UPDATE bd.loans SET returned_at = '2024-12-01 10:00' WHERE id = 13;
SET ROLE regress_bd_ils;
UPDATE bd.loans SET note = 'aged' WHERE id = 12;
RESET ROLE;
SELECT is(bd.v('regress_bd_staff', 'SELECT id, patron_id FROM bd.loans WHERE item_id = 60 ORDER BY id'), '(12,0) (13,3)',
          'HOLE 1b: the ILS then writes Ann''s kept loan: it stays hidden, Cy stays the last borrower');
SELECT is(bd.v('regress_bd_ils', 'SELECT id, patron_id FROM bd.loans WHERE item_id = 60 ORDER BY id'), '(12,1) (13,3)',
          'HOLE 1b: ... and neither loan was severed in storage');
\o /dev/null
CALL pals_privacy.sever_backlog();
\o
SELECT is(bd.v('regress_bd_staff', 'SELECT id, patron_id FROM bd.loans WHERE item_id IN (10, 60) ORDER BY id'),
          '(1,0) (2,3) (12,0) (13,3)',
          'HOLE 1: sever_backlog() after the back-dating: Ann''s kept loans stay hidden, Cy stays the last borrower');

-- controls: a return moved later pins nothing; the ILS's own back-dating is the dates'
SET ROLE regress_bd_staff;
UPDATE bd.loans SET returned_at = '2025-02-11 11:00' WHERE id = 4;
RESET ROLE;
SELECT ok(NOT bd.pinned(20), 'control: a desk moving the last borrower''s return later pins nothing');
SET ROLE regress_bd_ils;
UPDATE bd.loans SET returned_at = '2024-12-01 10:00' WHERE id = 10;
RESET ROLE;
SELECT ok(NOT bd.pinned(50), 'control: the ILS (operational) back-dating a return is the dates'' choice: not pinned');

-- HOLE 2: item 30, the desk deletes the last borrower (a tombstone), the ILS writes Ann's kept loan
SET ROLE regress_bd_staff;
DELETE FROM bd.loans WHERE id = 6;
SET ROLE regress_bd_ils;
UPDATE bd.loans SET note = 'aged' WHERE id = 5;
RESET ROLE;
SELECT is(bd.v('regress_bd_staff', 'SELECT patron_id, returned_at FROM bd.loans WHERE id = 5'),
          '(0,"2025-01-10 00:00:00+00")',
          'control: the desk deleted the last borrower, the ILS wrote Ann''s kept loan: Ann reads hidden');
SELECT is((SELECT count(*) FROM pals_privacy.tracker_pin WHERE item = '30'), 0::bigint,
          'HOLE 2: a tombstone has no recorded key (none naming Ann''s kept loan)');
\o /dev/null
SELECT pals_privacy.rebuild_tracker('bd.loans');
\o
SELECT is(bd.v('regress_bd_staff', 'SELECT patron_id, returned_at FROM bd.loans WHERE id = 5'),
          '(0,"2025-01-10 00:00:00+00")',
          'HOLE 2: ... then a rebuild: Ann''s kept loan stays hidden (the item has no last borrower)');
SELECT is((SELECT row_relid FROM pals_privacy.last_borrower WHERE item = '30'), 0::oid,
          'HOLE 2: the entry is still a tombstone after the rebuild');

-- control: the item's next close, back-dated, is its last borrower, and a rewrite keeps it (its key)
INSERT INTO bd.loans VALUES (11, 3, 30, '2024-06-01 10:00', NULL, NULL, 'cy again');
UPDATE bd.loans SET returned_at = '2024-06-10 10:00', settled_at = '2024-06-10 10:00' WHERE id = 11;
SELECT is((SELECT key::text FROM pals_privacy.tracker_pin WHERE item = '30'), '{"id": 11}',
          'control: the close after a tombstone is pinned with its own key');
VACUUM FULL bd.loans;
SELECT is(bd.v('regress_bd_staff', 'SELECT id, patron_id FROM bd.loans WHERE item_id = 30 ORDER BY id'), '(5,0) (11,3)',
          'control: ... and stays the last borrower through VACUUM FULL; Ann''s kept loan stays hidden');

SELECT * FROM finish();
\o /dev/null
\c :own_home
DROP DATABASE identity_tracker_backdate WITH (FORCE);
DROP ROLE regress_bd_staff;
DROP ROLE regress_bd_ils;
