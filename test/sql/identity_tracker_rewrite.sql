-- The tracker after a rewrite (attack10 HOLE 3): the tracker names each item's last borrower by
-- its TID; VACUUM FULL, CLUSTER, a rewriting ALTER TABLE, TRUNCATE and pg_repack renumber the
-- TIDs, and an entry then names whatever row landed there: another closed row of the same item
-- (an opted-in patron's kept loan, a severed one) read whole by staff, the real last borrower
-- hidden.  Closed by: a stale entry never vouches (tracker_file records the file each relation's
-- entries were built against; _last_borrower() answers false for a relation with another file),
-- and the utility hook rebuilds the tracker after the command (src/tracker_rewrite.c).
-- A database of its own: VACUUM FULL cannot run in a transaction block, so the work commits.
\o /dev/null
\set own_db identity_tracker_rewrite
\set own_roles 'regress_trw_staff regress_trw_ils'
\i test/own_database.sql
CREATE EXTENSION pals_privacy;
CREATE EXTENSION pgtap;
SET datestyle = ISO;
SET timezone = UTC;
SELECT pals_privacy.classify_role('regress_trw_staff', 'staff');
SELECT pals_privacy.classify_role('regress_trw_ils', 'operational');
CREATE SCHEMA s;
GRANT USAGE ON SCHEMA s TO regress_trw_staff, regress_trw_ils;
ALTER DEFAULT PRIVILEGES IN SCHEMA s GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO regress_trw_staff, regress_trw_ils;
CREATE TABLE s.patrons (id bigint PRIMARY KEY, expires date NOT NULL DEFAULT 'infinity', keep boolean NOT NULL DEFAULT false);
INSERT INTO s.patrons (id, keep) VALUES (0, false), (1, true), (2, false), (3, false), (4, false), (5, false);
SELECT pals_privacy.bind_patrons('s.patrons', 'id', 'expires', keep_history_column => 'keep');
CREATE TABLE s.loans (id int PRIMARY KEY, patron_id bigint NOT NULL REFERENCES s.patrons, item_id int NOT NULL,
                      out_at timestamptz NOT NULL, returned_at timestamptz, settled_at timestamptz);
CREATE INDEX ON s.loans (item_id);
CREATE INDEX ON s.loans (returned_at);   -- (returns are no HOT updates: VACUUM frees their old lines)
SELECT pals_privacy.bind_loans('s.loans', 'patron_id', 'item_id', '{returned_at}', settled_column => 'settled_at',
                               sever_with => 'patron:0', history_mode => 'in_place');
-- ten open loans (the desk's checkouts); item 10: Ann (1, opted in: kept) then Cy (3, the last
-- borrower); item 11: Ben (2, severed) then Dee (4); item 12: Eve (5), open
INSERT INTO s.loans SELECT 100 + g, 3, 100 + g, '2025-01-01 09:00', NULL, NULL FROM generate_series(0, 9) g;
INSERT INTO s.loans VALUES (1, 1, 10, '2025-01-01 10:00', '2025-01-10 09:13:27', '2025-01-10 09:13:27'),
                           (2, 2, 11, '2025-01-01 10:00', '2025-01-10 16:42:07', '2025-01-10 16:42:07');
INSERT INTO s.loans VALUES (3, 3, 10, '2025-02-01 10:00', NULL, NULL), (4, 4, 11, '2025-02-01 10:00', NULL, NULL),
                           (5, 5, 12, '2025-02-01 11:00', NULL, NULL);
UPDATE s.loans SET returned_at = '2025-02-10 11:00', settled_at = '2025-02-10 11:00' WHERE id IN (3, 4);
-- what a role reads
CREATE FUNCTION s.v(who text, q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE r text;
BEGIN
    EXECUTE format('SET LOCAL ROLE %I', who);
    EXECUTE format('SELECT string_agg(x::text, '' '') FROM (%s) x', q) INTO r;
    RESET ROLE;
    RETURN coalesce(r, '-');
END $$;
-- staff's reading of the fixture's closed rows, as it must be
CREATE FUNCTION s.staff() RETURNS text LANGUAGE sql AS $$
    SELECT s.v('regress_trw_staff', 'SELECT id, patron_id, returned_at FROM s.loans WHERE id IN (1, 2, 3, 4) ORDER BY id') $$;
CREATE FUNCTION s.recorded() RETURNS boolean LANGUAGE sql AS $$
    SELECT EXISTS (SELECT FROM pals_privacy.tracker_file f
                    WHERE f.relation = 's.loans'::regclass AND f.node = pg_relation_filenode('s.loans')) $$;
\o
\set right '(1,0,"2025-01-10 00:00:00+00") (2,0,"2025-01-10 00:00:00+00") (3,3,"2025-02-10 11:00:00+00") (4,4,"2025-02-10 11:00:00+00")'
SELECT plan(27);

SELECT is(s.staff(), :'right', 'control: staff read Cy and Dee whole, Ann''s kept and Ben''s severed loans as the placeholder''s, to the day');
SELECT ok(s.recorded(), 'bind_loans recorded the file the tracker was built against');

-- VACUUM FULL, aimed as the attacker did (attack10 HOLE 3): after a routine VACUUM freed the lines
-- of the rows the returns replaced, the desk checks out (or returns) as many loans as put Ann's
-- row, once the table is compacted, on the line the tracker keeps for item 10 (Cy's)
VACUUM s.loans;
SELECT (SELECT (row_tid::text::point)[1]::int FROM pals_privacy.last_borrower
         WHERE binding = 's.loans'::regclass AND item = '10') AS cy_line,
       (SELECT count(*) FROM s.loans WHERE ctid <= (SELECT ctid FROM s.loans WHERE id = 1)) AS ann_rank \gset
SET ROLE regress_trw_staff;
\o /dev/null
INSERT INTO s.loans SELECT 200 + g, 3, 200 + g, '2025-03-01 09:00', NULL, NULL FROM generate_series(1, :cy_line - :ann_rank) g;
DELETE FROM s.loans WHERE id >= 100 AND id < 100 + :ann_rank - :cy_line;
\o
RESET ROLE;
SELECT node AS node_before FROM pals_privacy.tracker_file WHERE relation = 's.loans'::regclass \gset
-- (the tracker as it was, for the pg_repack below)
CREATE TABLE s.saved AS SELECT * FROM pals_privacy.last_borrower WHERE binding = 's.loans'::regclass;
VACUUM FULL s.loans;
SELECT is(s.v('regress_trw_ils', 'SELECT patron_id FROM s.loans WHERE id = 1'), '(1)',
          'control: Ann''s kept loan still names her (the ILS reads it)');
SELECT is(s.v('regress_trw_staff', 'SELECT id, patron_id FROM s.loans WHERE id = 1'), '(1,0)',
          'VACUUM FULL: staff read Ann''s kept loan as the placeholder''s, not hers');
SELECT is(s.v('regress_trw_staff', 'SELECT returned_at FROM s.loans WHERE id = 2'), '("2025-01-10 00:00:00+00")',
          'VACUUM FULL: staff read Ben''s severed return to the day');
SELECT is(s.staff(), :'right', 'VACUUM FULL: the tracker was rebuilt: staff read Cy and Dee whole again, no kept row');
SELECT ok(s.recorded() AND (SELECT node FROM pals_privacy.tracker_file WHERE relation = 's.loans'::regclass) <> :node_before,
          'VACUUM FULL: the new file is recorded');

-- a rewrite outside utility commands (pg_repack: a new file, the tracker and its recorded file
-- as they were before), simulated by putting back what the tracker held before the aimed VACUUM
-- FULL: item 10's entry names Ann's kept loan now.  Staff read no last borrower, never a wrong one
DELETE FROM pals_privacy.last_borrower WHERE binding = 's.loans'::regclass;
INSERT INTO pals_privacy.last_borrower SELECT * FROM s.saved;
UPDATE pals_privacy.tracker_file SET node = :node_before WHERE relation = 's.loans'::regclass;
SELECT is(s.staff(), '(1,0,"2025-01-10 00:00:00+00") (2,0,"2025-01-10 00:00:00+00") (3,0,"2025-02-10 00:00:00+00") (4,0,"2025-02-10 00:00:00+00")',
          'stale tracker (pg_repack): staff read no last borrower (Cy and Dee hidden), Ann and Ben still hidden');
SELECT is((SELECT ok FROM pals_privacy.health() WHERE check_name = 'last-borrower tracker current'), false,
          'stale tracker: health() fails the check');
SELECT matches((SELECT detail FROM pals_privacy.health() WHERE check_name = 'last-borrower tracker current'),
               's\.loans.*rebuild_tracker', 'stale tracker: health() names the relation and the rebuild');
-- a return meanwhile writes its entry: judged by the same rule (not vouching before the rebuild)
SET ROLE regress_trw_ils;
UPDATE s.loans SET returned_at = '2025-03-05 12:34:56', settled_at = '2025-03-05 12:34:56' WHERE id = 5;
RESET ROLE;
SELECT is(s.v('regress_trw_staff', 'SELECT patron_id, returned_at FROM s.loans WHERE id = 5'), '(0,"2025-03-05 00:00:00+00")',
          'stale tracker: a return meanwhile does not vouch for its row either');
SELECT ok(pals_privacy.rebuild_tracker('s.loans') >= 0, 'rebuild_tracker() runs');
SELECT is(s.staff(), :'right', 'after rebuild_tracker() staff read Cy and Dee whole again');
SELECT is(s.v('regress_trw_staff', 'SELECT patron_id, returned_at FROM s.loans WHERE id = 5'), '(5,"2025-03-05 12:34:56+00")',
          'after rebuild_tracker() staff read Eve''s return whole (the item''s last borrower)');
SELECT is((SELECT ok FROM pals_privacy.health() WHERE check_name = 'last-borrower tracker current'), true,
          'after rebuild_tracker() health() passes the check');

-- CLUSTER (by the item index: every row moves)
CLUSTER s.loans USING loans_item_id_idx;
SELECT is(s.staff(), :'right', 'CLUSTER: staff read Cy and Dee whole again, no kept row');
SELECT ok(s.recorded(), 'CLUSTER: the new file is recorded');

-- an ALTER TABLE that rewrites (a volatile default), inside a transaction block
BEGIN;
ALTER TABLE s.loans ADD COLUMN w float8 DEFAULT random();
SELECT is(s.staff(), :'right', 'ALTER TABLE rewrite: staff read Cy and Dee whole in the same transaction');
COMMIT;
SELECT is(s.staff(), :'right', 'ALTER TABLE rewrite: and after it commits');
SELECT ok(s.recorded(), 'ALTER TABLE rewrite: the new file is recorded');

-- TRUNCATE, then rows loaded without the severing trigger (a bulk load, session_replication_role
-- = replica): the tracker's old TIDs would name the new rows; fill every line up to item 10's
-- entry with closed rows of item 10 kept for Ann, so that one of them lands on it
SELECT (row_tid::text::point)[1]::int AS line10 FROM pals_privacy.last_borrower
 WHERE binding = 's.loans'::regclass AND item = '10' \gset
TRUNCATE s.loans;
SET session_replication_role = replica;
INSERT INTO s.loans (id, patron_id, item_id, out_at, returned_at, settled_at)
SELECT 300 + g, 1, 10, '2025-04-01', '2025-04-02'::timestamptz + g * interval '1 minute', '2025-04-02'::timestamptz + g * interval '1 minute'
  FROM generate_series(1, :line10 + 2) g;
RESET session_replication_role;
SELECT is(s.v('regress_trw_staff', 'SELECT count(*) FROM s.loans WHERE patron_id = 1'), '(0)',
          'TRUNCATE: no row loaded since reads as Ann''s to staff (no old entry vouches)');
SELECT is((SELECT count(*) FROM pals_privacy.last_borrower WHERE binding = 's.loans'::regclass AND item = '10'), 0::bigint,
          'TRUNCATE: the rebuild dropped the entries of the rows that went');
SELECT ok(s.recorded(), 'TRUNCATE: the new file is recorded');
SELECT ok(pals_privacy.rebuild_tracker('s.loans') >= 0 AND
          s.v('regress_trw_staff', 'SELECT count(*) FROM s.loans WHERE patron_id = 1') = '(1)',
          'control: after rebuild_tracker() staff read the latest of the loaded rows, one, as Ann''s');

-- a rebuild after the rewrite that fails (a member of a last-borrower group given another item
-- type than the group's by the rewriting ALTER TABLE): the command goes through with a WARNING,
-- the relation stays stale (no last borrower read), health() names it
CREATE TABLE s.gloans (id int PRIMARY KEY, patron_id bigint REFERENCES s.patrons, item_id int NOT NULL, returned_at timestamptz);
CREATE TABLE s.garchive (id int PRIMARY KEY, patron_id bigint REFERENCES s.patrons, item_id int NOT NULL, returned_at timestamptz);
\o /dev/null
SELECT pals_privacy.bind_loans('s.gloans', 'patron_id', 'item_id', '{returned_at}');
SELECT pals_privacy.bind_loans('s.garchive', 'patron_id', 'item_id', '{returned_at}', last_borrower_group => 's.gloans');
\o
INSERT INTO s.gloans VALUES (1, 2, 40, NULL), (2, 3, 40, NULL);
UPDATE s.gloans SET returned_at = '2025-01-01 10:00' WHERE id = 1;
UPDATE s.gloans SET returned_at = '2025-02-01 10:00' WHERE id = 2;
SELECT is(s.v('regress_trw_staff', 'SELECT id, patron_id FROM s.gloans ORDER BY id'), '(1,) (2,3)',
          'control: staff read the group''s last borrower of item 40');
ALTER TABLE s.gloans ALTER item_id TYPE bigint;
SELECT is(s.v('regress_trw_staff', 'SELECT id, patron_id FROM s.gloans ORDER BY id'), '(1,) (2,)',
          'a rebuild that failed after ALTER TABLE: the command went through, staff read no last borrower');
SELECT matches((SELECT detail FROM pals_privacy.health() WHERE check_name = 'last-borrower tracker current'),
               's\.gloans', 'a rebuild that failed: health() names the relation');

SELECT * FROM finish();
\o /dev/null
\c :own_home
DROP DATABASE identity_tracker_rewrite WITH (FORCE);
