-- A copy whose source row was deleted or severed stays severed for good (issue 14, the two
-- decoy and resurrection holes of derived copies, bind_copy):
--   1. several sources: a staff member with desk write rights inserts a decoy into one source
--      with the whole key of a hidden row of another.  While both hold the key the copy reads
--      as hidden; once the real row is deleted, severed (or severed by the backlog), the copy
--      must not follow the decoy: its sever is kept from it only by a row of another source
--      written in the same transaction (a move: Koha's return inserts into old_issues, then
--      deletes from issues), and a move across a savepoint still counts;
--   2. one source: copies the ILS kept from their sever (a BEFORE DELETE trigger that keeps
--      'lost' notices, a BEFORE UPDATE trigger that puts the patron back) must not reopen when
--      a new source row is given the old whole key, or the severed row its patron back; the
--      maintenance retry does not let them go either; the record of such a key (copy_tomb)
--      does not depend on the session's TimeZone or DateStyle, and is kept by pg_dump.
-- Each step commits (the move rule looks at transactions), so the suite has its own database.
\set ECHO none
\set cp_db regress_copy_tomb
\set cp_schema tb
\set cp_roles regress_tomb
\i test/copy/fixture.sql
INSERT INTO tb.patrons (id) SELECT generate_series(0, 30);
-- a billable transaction is a circulation or a grocery bill: one id sequence, two tables
CREATE TABLE tb.circs (id int PRIMARY KEY, patron_id bigint REFERENCES tb.patrons, item_id int NOT NULL,
                       out_at timestamptz NOT NULL DEFAULT '2024-03-05 10:00+00', done date);
CREATE TABLE tb.grocery (id int PRIMARY KEY, patron_id bigint REFERENCES tb.patrons, item_id int NOT NULL, done date);
-- history from before binding; each item's last return is its last borrower (read by staff)
INSERT INTO tb.circs (id, patron_id, item_id, done) VALUES
    (1, 1, 10, '2024-01-10'), (2, 2, 10, '2024-02-10'),     -- 1 hidden from staff
    (5, 5, 12, '2024-01-05'), (6, 6, 12, '2024-02-06'),     -- 5 hidden
    (7, 7, 13, '2024-01-07'), (8, 8, 13, '2024-02-08'),     -- 7 hidden
    (11, 11, 14, '2024-01-11'), (12, 12, 14, '2024-02-12'), -- 11 hidden
    (13, 13, 15, '2024-01-13'), (14, 14, 15, '2024-02-14'); -- 13 hidden
INSERT INTO tb.grocery VALUES (4, 4, 20, NULL), (9, 9, 21, NULL);
-- the per-transaction summary the ILS keeps, with its patron: a copy of either table
CREATE TABLE tb.sums (xact_id int PRIMARY KEY, patron_id bigint, last_billed date);
INSERT INTO tb.sums SELECT id, patron_id, done FROM tb.circs UNION ALL SELECT id, patron_id, done FROM tb.grocery;
-- fines keyed by the transaction, unlinked with its identity (they stay with the patron who owes them)
CREATE TABLE tb.fines (id serial PRIMARY KEY, xact_id int, patron_id bigint NOT NULL, owed numeric NOT NULL DEFAULT 0);
INSERT INTO tb.fines (xact_id, patron_id) VALUES (7, 7);
-- notices about a circulation, deleted with its identity; the ILS keeps 'lost' ones
CREATE TABLE tb.notices (id serial PRIMARY KEY, circ_id int, patron_id bigint, kind text NOT NULL);
INSERT INTO tb.notices (circ_id, patron_id, kind) VALUES (5, 5, 'lost'), (7, 7, 'due');
CREATE FUNCTION tb.keep_lost() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN IF OLD.kind = 'lost' THEN RETURN NULL; END IF; RETURN OLD; END $$;
CREATE TRIGGER keep_lost BEFORE DELETE ON tb.notices FOR EACH ROW EXECUTE FUNCTION tb.keep_lost();
-- receipts keyed by (circulation, checkout time); the ILS puts a held receipt's patron back
CREATE TABLE tb.receipts (circ_id int, circ_out_at timestamptz, patron_id bigint, held boolean NOT NULL DEFAULT false);
INSERT INTO tb.receipts VALUES (11, '2024-03-05 10:00+00', 11, true);
CREATE FUNCTION tb.keep_held() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN IF OLD.held THEN NEW.patron_id := OLD.patron_id; END IF; RETURN NEW; END $$;
CREATE TRIGGER keep_held BEFORE UPDATE ON tb.receipts FOR EACH ROW EXECUTE FUNCTION tb.keep_held();

SELECT pals_privacy.bind_patrons('tb.patrons', 'id', 'expires');
SELECT pals_privacy.bind_loans('tb.circs', 'patron_id', 'item_id', '{done}');
SELECT pals_privacy.bind_loans('tb.grocery', 'patron_id', 'item_id', '{done}');
SELECT pals_privacy.bind_copy('tb.sums', 'tb.circs', 'xact_id', 'patron_id', more_sources => '{tb.grocery}');
SELECT pals_privacy.bind_copy('tb.fines', 'tb.circs', 'xact_id', 'patron_id', 'unlink', current_when => 'owed > 0',
                              more_sources => '{tb.grocery}');
SELECT pals_privacy.bind_copy('tb.notices', 'tb.circs', 'circ_id', 'patron_id', 'delete');
SELECT pals_privacy.bind_copy('tb.receipts', 'tb.circs', key_columns => '{circ_id,circ_out_at}',
                              source_keys => '{id,out_at}', patron_column => 'patron_id');
\i test/copy/grants.sql
GRANT TRUNCATE ON tb.circs TO regress_tomb_ils;
-- what a role reads: the summaries "id:patron"
CREATE FUNCTION tb.sums_read() RETURNS text LANGUAGE sql AS $$
    SELECT string_agg(xact_id || ':' || coalesce(patron_id::text, '-'), ' ' ORDER BY xact_id) FROM tb.sums
$$;
\set ECHO all
SELECT plan(32);

-- 1. several sources: a decoy, then the real row deleted
SELECT is(pg_temp.v('regress_tomb_staff', 'SELECT tb.sums_read()'), '1:- 2:2 4:4 5:- 6:6 7:- 8:8 9:9 11:- 12:12 13:- 14:14',
          'staff read each summary as its source row');
SET ROLE regress_tomb_staff;
INSERT INTO tb.grocery VALUES (1, 15, 22, NULL);     -- a decoy with hidden circulation 1's id
RESET ROLE;
SELECT is(pg_temp.v('regress_tomb_staff', 'SELECT patron_id FROM tb.sums WHERE xact_id = 1'), NULL,
          'decoy: both tables hold 1, the summary reads as hidden');
SET ROLE regress_tomb_ils;
DELETE FROM tb.circs WHERE id = 1;                   -- the ILS deletes old history
RESET ROLE;
SELECT is((SELECT patron_id FROM tb.sums WHERE xact_id = 1), NULL,
          'decoy, then the real row deleted: the summary is severed (the decoy is not the row moved)');
SELECT is(pg_temp.v('regress_tomb_staff', 'SELECT coalesce(patron_id::text, ''-'') FROM tb.sums WHERE xact_id = 1'), '-',
          '... and staff do not read it as the decoy''s copy');

-- 2. a decoy, then the real row severed by the ILS, then deleted
SET ROLE regress_tomb_staff;
INSERT INTO tb.grocery VALUES (7, 16, 23, NULL);
RESET ROLE;
SET ROLE regress_tomb_ils;
UPDATE tb.circs SET patron_id = NULL WHERE id = 7;   -- anonymized
RESET ROLE;
SELECT is((SELECT patron_id FROM tb.sums WHERE xact_id = 7), NULL,
          'decoy, then the real row severed: the summary is severed with it');
SELECT is((SELECT xact_id FROM tb.fines WHERE patron_id = 7), NULL,
          '... and its fine unlinked (sever_with ''unlink'', current_when)');
SET ROLE regress_tomb_ils;
DELETE FROM tb.circs WHERE id = 7;
RESET ROLE;
SELECT is(pg_temp.v('regress_tomb_staff', 'SELECT coalesce(patron_id::text, ''-'') FROM tb.sums WHERE xact_id = 7'), '-',
          '... and after its delete staff do not read it as the decoy''s copy');

-- 3. a move is a row of the other table written in the same transaction: kept
BEGIN;
INSERT INTO tb.circs (id, patron_id, item_id) SELECT id, patron_id, item_id FROM tb.grocery WHERE id = 4;
DELETE FROM tb.grocery WHERE id = 4;
COMMIT;
SELECT is((SELECT patron_id FROM tb.sums WHERE xact_id = 4), 4::bigint, 'a move (insert, then delete, one transaction) keeps the summary');
SELECT is(pg_temp.v('regress_tomb_staff', 'SELECT patron_id FROM tb.sums WHERE xact_id = 4'), '4',
          '... and staff read it as the moved row''s copy');
BEGIN;
SAVEPOINT m;
INSERT INTO tb.circs (id, patron_id, item_id) SELECT id, patron_id, item_id FROM tb.grocery WHERE id = 9;
RELEASE SAVEPOINT m;
DELETE FROM tb.grocery WHERE id = 9;
COMMIT;
SELECT is((SELECT patron_id FROM tb.sums WHERE xact_id = 9), 9::bigint, 'a move whose insert ran in a savepoint keeps the summary too');
-- a move in two transactions is no move: the delete finds no row written with it
INSERT INTO tb.grocery (id, patron_id, item_id) SELECT id, patron_id, item_id FROM tb.circs WHERE id = 9;
DELETE FROM tb.circs WHERE id = 9;
SELECT is((SELECT patron_id FROM tb.sums WHERE xact_id = 9), NULL, 'a move across two transactions severs the summary (fail closed)');

-- 4. the backlog's batched sever does not follow a decoy either
SET ROLE regress_tomb_staff;
INSERT INTO tb.grocery VALUES (13, 17, 24, NULL);
RESET ROLE;
-- (the backlog runs under one session's TimeZone and DateStyle; section 6 reads under another's)
SET TimeZone = 'Asia/Tokyo';
SET DateStyle = 'SQL, DMY';
CALL pals_privacy.sever_backlog();
RESET TimeZone;
RESET DateStyle;
SELECT is((SELECT patron_id FROM tb.sums WHERE xact_id = 13), NULL, 'backlog: a decoy does not keep the summary of the row it severs');

-- 5. one source: a notice the ILS keeps, then a new row with the old key
SET ROLE regress_tomb_ils;
DELETE FROM tb.circs WHERE id = 5;                   -- (severed by the backlog; its 'lost' notice kept)
RESET ROLE;
SELECT is((SELECT count(*) FROM pals_privacy.sever_pending_rows WHERE relation = 'tb.notices'::regclass), 1::bigint,
          'the notice the ILS keeps is pending');
SET ROLE regress_tomb_staff;
INSERT INTO tb.circs (id, patron_id, item_id) VALUES (5, 18, 30);   -- an open loan with the old key
RESET ROLE;
SELECT is(pg_temp.v('regress_tomb_staff', 'SELECT count(*) FROM tb.notices WHERE circ_id = 5'), '0',
          'a new row with the key of a deleted one does not reopen the notice the ILS kept');
SELECT is(pg_temp.v('regress_tomb_staff', 'SELECT count(*) FROM tb.notices WHERE patron_id = 5'), '0',
          '... by its patron either');
SELECT is(pg_temp.v('regress_tomb_ils', 'SELECT patron_id FROM tb.notices WHERE circ_id = 5'), '5',
          'the ILS reads its kept notice as stored');
SELECT ok((pals_privacy._retry_pending() ->> 'retried')::int > 0, 'the maintenance retry runs');
SELECT is((SELECT count(*) FROM pals_privacy.sever_pending_rows WHERE relation = 'tb.notices'::regclass), 1::bigint,
          '... and it stays pending although a row holds its key now');
SELECT is(pg_temp.v('regress_tomb_staff', 'SELECT count(*) FROM tb.notices WHERE circ_id = 5'), '0',
          '... and hidden');
-- a restore keeps copy_tomb, not sever_pending (TIDs): sever_copies() records the kept notice
-- again, although a row holds its key now
DELETE FROM pals_privacy.sever_pending WHERE binding = 'tb.notices'::regclass;
SELECT is(pals_privacy.sever_copies('tb.notices'), 0::bigint, 'sever_copies: the ILS still keeps the notice');
SELECT is((SELECT count(*) FROM pals_privacy.sever_pending_rows WHERE relation = 'tb.notices'::regclass), 1::bigint,
          '... and it is pending again, by its recorded key');

-- 6. a receipt the ILS kept identified when the backlog severed its row (under another
-- TimeZone and DateStyle), then the severed row given a patron again
SELECT is((SELECT patron_id FROM tb.circs WHERE id = 11), NULL, 'the backlog severed circulation 11');
SELECT is((SELECT patron_id FROM tb.receipts WHERE circ_id = 11), 11::bigint, '... and the ILS kept its receipt''s patron');
SELECT is((SELECT count(*) FROM pals_privacy.copy_tomb WHERE relation = 'tb.receipts'::regclass), 1::bigint,
          'the key is recorded as severed for good');
SET TimeZone = 'America/New_York';
SET DateStyle = 'ISO, MDY';
SET ROLE regress_tomb_ils;
UPDATE tb.circs SET patron_id = 19, done = NULL WHERE id = 11;   -- the severed row re-identified
RESET ROLE;
SELECT is(pg_temp.v('regress_tomb_staff', 'SELECT coalesce(patron_id::text, ''-'') FROM tb.receipts WHERE circ_id = 11'), '-',
          'a severed row given a patron again does not reopen its receipt (another TimeZone and DateStyle)');
SELECT is(pg_temp.v('regress_tomb_ils', 'SELECT patron_id FROM tb.receipts WHERE circ_id = 11'), '11',
          'the ILS reads its receipt as stored');
RESET TimeZone;
RESET DateStyle;

-- 7. a TRUNCATE of a source fires no row trigger: its copies are swept at its end
SET ROLE regress_tomb_ils;
TRUNCATE tb.circs;
RESET ROLE;
SELECT is((SELECT patron_id FROM tb.sums WHERE xact_id = 2), NULL, 'a truncated source severs its copies');
SET ROLE regress_tomb_staff;
INSERT INTO tb.circs (id, patron_id, item_id) VALUES (2, 20, 31);   -- an open loan with the old key
RESET ROLE;
SELECT is(pg_temp.v('regress_tomb_staff', 'SELECT coalesce(patron_id::text, ''-'') FROM tb.sums WHERE xact_id = 2'), '-',
          '... so a new row with an old key does not reopen one');
SELECT is(pg_temp.v('regress_tomb_staff', 'SELECT count(*) FROM tb.notices WHERE circ_id = 5'), '0',
          '... nor the notice the ILS still keeps');

-- 8. the record survives a dump: a configuration table of the extension, by relation name
SELECT ok((SELECT 'pals_privacy.copy_tomb'::regclass = ANY (extconfig) FROM pg_extension WHERE extname = 'pals_privacy'),
          'copy_tomb is dumped by pg_dump');
SELECT is((SELECT string_agg(relation::text || ' ' || key::text, ', ' ORDER BY relation::text, key::text) FROM pals_privacy.copy_tomb),
          'tb.notices {5}, tb.receipts {11,"2024-03-05 10:00:00+00"}', 'each kept key, by the copy''s name, in a canonical form');
-- unbind_copy forgets the copy's keys
SELECT pals_privacy.unbind_copy('tb.receipts');
SELECT is((SELECT count(*) FROM pals_privacy.copy_tomb WHERE relation::text = 'tb.receipts'), 0::bigint, 'unbind_copy forgets its keys');

SELECT * FROM finish();
\set ECHO none
\i test/copy/done.sql
