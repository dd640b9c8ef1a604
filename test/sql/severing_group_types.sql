-- The members of a last-borrower group (bind_loans' last_borrower_group)
-- are compared by item and ordered by their closed columns across the
-- relations, so bind_loans refuses a member whose item or closed column
-- type differs from the group's.  An ALTER TABLE after binding can make them
-- differ: binding_problems() and health() name it, and every path that
-- reads across the members (a return whose previous last borrower is in the
-- other member, the search of an item, the tracker's rebuild) fails with
-- 42804 instead of comparing values of different types (the search read
-- every member's closed values with the closing member's type).
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pals_privacy;

BEGIN;
SELECT plan(13);

CREATE SCHEMA gt;
CREATE TABLE gt.patrons (id bigint PRIMARY KEY, expires date NOT NULL DEFAULT 'infinity');
INSERT INTO gt.patrons (id) SELECT generate_series(0, 9);
CREATE TABLE gt.loans (id int PRIMARY KEY, patron_id bigint, item_id int, returned timestamptz, paid timestamptz);
CREATE TABLE gt.archive (LIKE gt.loans);
-- item 10's last borrower (patron 1) was moved into the archive; item 11's is in the loans
INSERT INTO gt.archive VALUES (1, 1, 10, '2024-01-10', '2024-01-10');
INSERT INTO gt.loans VALUES (2, 2, 11, '2024-01-10', '2024-01-10');
SELECT pals_privacy.bind_patrons('gt.patrons', 'id', 'expires');
SELECT pals_privacy.bind_loans('gt.loans', 'patron_id', 'item_id', '{returned}', 'paid');
SELECT pals_privacy.bind_loans('gt.archive', 'patron_id', 'item_id', '{returned}', 'paid', last_borrower_group => 'gt.loans');
SELECT is((SELECT count(*) FROM pals_privacy.binding_problems()), 0::bigint, 'a group whose columns match: no problem');

-- the archive's item column becomes text (ALTER TABLE is not refused)
ALTER TABLE gt.archive ALTER COLUMN item_id TYPE text;
SELECT is((SELECT string_agg(relation || ': ' || problem, '; ') FROM pals_privacy.binding_problems()),
          'gt.archive: item column "item_id" has type text, and its last-borrower group''s first binding "gt.loans" has integer (the group''s rows are compared across them)',
          'binding_problems() names the member whose item column no longer has the group''s type');
SELECT is((SELECT ok FROM pals_privacy.health() WHERE check_name = 'bindings valid'), false, 'health() reports it');
SELECT throws_ok($$INSERT INTO gt.loans VALUES (3, 3, 10, '2024-02-10', '2024-02-10')$$, '42804',
                 'loan bindings "gt.loans" and "gt.archive" of one last-borrower group no longer have the same item and closed column types',
                 'a return whose previous last borrower is in the other member fails (closed)');
SELECT throws_ok($$SELECT pals_privacy.rebuild_tracker()$$, '42804',
                 'loan bindings "gt.loans" and "gt.archive" of one last-borrower group no longer have the same item and closed column types',
                 'the tracker''s rebuild across the group fails');
-- a stale entry: the item is searched across the members
UPDATE pals_privacy.last_borrower SET row_tid = '(0,99)' WHERE item = '11';
SELECT throws_ok($$INSERT INTO gt.loans VALUES (4, 4, 11, '2024-02-10', '2024-02-10')$$, '42804',
                 'loan bindings "gt.loans" and "gt.archive" of one last-borrower group no longer have the same item and closed column types',
                 'a return whose item is searched across the members fails');
SELECT is((SELECT string_agg(id || ':' || coalesce(patron_id::text, '-'), ' ' ORDER BY id) FROM gt.archive), '1:1',
          'nothing was severed, nothing was written');
ALTER TABLE gt.archive ALTER COLUMN item_id TYPE int USING item_id::int;
SELECT is((SELECT count(*) FROM pals_privacy.binding_problems()), 0::bigint, 'the type put back: no problem');

-- the archive's closed column changes type (its severing trigger's WHEN
-- names it, so that trigger had to go first, and come back; the tombstone
-- trigger has no WHEN clause and stays)
SELECT throws_ok($$ALTER TABLE gt.archive ALTER COLUMN returned TYPE date$$, '0A000', NULL,
                 'PostgreSQL refuses to change the type of a closed column the severing trigger names');
DROP TRIGGER pals_privacy_sever ON gt.archive;
ALTER TABLE gt.archive ALTER COLUMN returned TYPE date;
SELECT is((SELECT count(*) FROM pg_trigger WHERE tgrelid = 'gt.archive'::regclass AND tgname = 'pals_privacy_tombstone'),
          1::bigint, 'the tombstone trigger names no column: it stays through the type change');
SELECT pals_privacy._install_loan_triggers('gt.archive');
SELECT is((SELECT string_agg(relation || ': ' || problem, '; ') FROM pals_privacy.binding_problems()),
          'gt.archive: closed column "returned" has type date, and its last-borrower group''s first binding "gt.loans" has timestamp with time zone (the group''s rows are compared across them)',
          'binding_problems() names a closed column of another type');
SELECT throws_ok($$INSERT INTO gt.loans VALUES (5, 5, 10, '2024-03-10', '2024-03-10')$$, '42804',
                 'loan bindings "gt.loans" and "gt.archive" of one last-borrower group no longer have the same item and closed column types',
                 'a return whose previous last borrower is in the other member fails');
SELECT is((SELECT string_agg(id || ':' || coalesce(patron_id::text, '-'), ' ' ORDER BY id) FROM gt.archive), '1:1',
          'the archived last borrower stays as it was');

SELECT * FROM finish();
ROLLBACK;
