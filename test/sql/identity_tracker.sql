-- The last-borrower tracker is built at bind time, in one statement, so
-- staff see each item's last borrower from the first minute (no backlog
-- run yet), and rebuild_tracker() builds it again after a restore (the
-- tracker holds tuple identifiers, which a dump does not carry).
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pals_privacy;

BEGIN;
SELECT plan(12);

CREATE SCHEMA it;
CREATE TABLE it.patrons (id bigint PRIMARY KEY, expires date NOT NULL DEFAULT 'infinity');
INSERT INTO it.patrons (id) SELECT generate_series(0, 9);
CREATE TABLE it.loans (id int PRIMARY KEY, patron_id bigint, item_id int, returned date, paid date);
CREATE INDEX ON it.loans (patron_id);
CREATE INDEX ON it.loans (item_id);
INSERT INTO it.loans VALUES
    (1, 1, 10, '2024-01-10', '2024-01-10'),
    (2, 2, 10, '2024-02-10', '2024-02-10'),   -- item 10: last borrower 2
    (3, 3, 11, '2024-01-10', '2024-01-10'),
    (4, NULL, 11, '2024-03-10', '2024-03-10'), -- item 11: its latest row is already anonymous: nobody tracked
    (5, 5, 12, '2024-01-10', NULL),            -- item 12: returned, fine owed; then lent again
    (6, 6, 12, NULL, NULL),
    (7, 7, NULL, '2024-01-10', '2024-01-10'),  -- no item: nobody's last borrower
    (8, 8, 13, '2024-05-01', '2024-05-01');
CREATE TABLE it.holds (id int PRIMARY KEY, patron_id bigint, item_id int, filled date);
INSERT INTO it.holds VALUES (1, 1, 10, '2024-01-01');

SELECT lives_ok($$SELECT pals_privacy.bind_patrons('it.patrons', 'id', 'expires')$$, 'patrons bound');
SELECT lives_ok($$SELECT pals_privacy.bind_loans('it.loans', 'patron_id', 'item_id', '{returned}', 'paid')$$, 'loans bound');
SELECT lives_ok($$SELECT pals_privacy.bind_loans('it.holds', 'patron_id', 'item_id', '{filled}', keep_last_borrower => false)$$,
                'holds bound without last borrowers');
CREATE VIEW pg_temp.tracked AS
    SELECT string_agg(lb.item || '>' || l.id, ' ' ORDER BY lb.item) AS s
      FROM pals_privacy.last_borrower lb JOIN it.loans l ON l.ctid = lb.row_tid
     WHERE lb.binding = 'it.loans'::regclass;
SELECT is((SELECT s FROM pg_temp.tracked), '10>2 12>5 13>8',
          'binding tracks each item''s latest closed row that has a patron (none for an item whose latest is anonymous, none without an item)');
SELECT is((SELECT count(*) FROM pals_privacy.last_borrower WHERE binding = 'it.holds'::regclass), 0::bigint,
          'nothing is tracked for a binding that keeps no last borrower');

-- staff see the last borrowers at once
CREATE ROLE regress_it_staff;
SELECT pals_privacy.classify_role('regress_it_staff', 'staff');
GRANT USAGE ON SCHEMA it TO regress_it_staff;
GRANT SELECT ON it.loans TO regress_it_staff;
SET ROLE regress_it_staff;
SELECT is((SELECT string_agg(id || ':' || coalesce(patron_id::text, '-'), ' ' ORDER BY id) FROM it.loans),
          '1:- 2:2 3:- 4:- 5:5 6:6 7:- 8:8', 'staff see the last borrowers from the first minute, no other closed row');
RESET ROLE;

-- a restore brings the tables back, not the tracker's tuple identifiers
DELETE FROM pals_privacy.last_borrower;
SET ROLE regress_it_staff;
SELECT is((SELECT count(patron_id) FROM it.loans WHERE returned IS NOT NULL AND paid IS NOT NULL), 0::bigint,
          'without the tracker staff see no last borrower');
RESET ROLE;
SELECT is(pals_privacy.rebuild_tracker(), 3::bigint, 'rebuild_tracker() tracks three items');
SELECT is((SELECT s FROM pg_temp.tracked), '10>2 12>5 13>8', 'the same as at bind time');
-- a return after the rebuild moves the tracker as usual
INSERT INTO it.loans VALUES (9, 9, 10, '2024-06-01', '2024-06-01');
SELECT is((SELECT string_agg(id || ':' || coalesce(patron_id::text, '-'), ' ' ORDER BY id) FROM it.loans WHERE item_id = 10),
          '1:1 2:- 9:9', 'a return after the rebuild severs the previous last borrower');
SELECT throws_ok($$SELECT pals_privacy.rebuild_tracker('it.patrons')$$, '42704',
                 'rebuild_tracker: "it.patrons" is not bound as loans', 'rebuild_tracker of a relation that is not a loan binding');
SET ROLE regress_it_staff;
SELECT throws_ok($$SELECT pals_privacy.rebuild_tracker()$$, '42501', NULL, 'staff cannot rebuild the tracker');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
