-- The reading history of a patron who opted in (history_mode 'copy') holds
-- each loan once, also when the ILS moves the loan into an archive of its
-- last-borrower group (bind_loans' last_borrower_group) by inserting the
-- archive row BEFORE deleting the loan: the insert makes the archive row
-- the item's last borrower and severs the loan row (the same loan: same
-- patron, item and closed time), which copied it, and the archive row was
-- copied again when the item's next return severed it.  Deleting first,
-- then inserting, copied it once.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pals_privacy;

BEGIN;
SELECT plan(13);

CREATE SCHEMA gh;
CREATE TABLE gh.patrons (id bigint PRIMARY KEY, expires date NOT NULL DEFAULT 'infinity',
                         keep boolean NOT NULL DEFAULT false);
INSERT INTO gh.patrons (id, keep) SELECT i, i = 7 FROM generate_series(0, 9) i;
CREATE TABLE gh.loans (id int PRIMARY KEY, patron_id bigint, item_id int, returned timestamptz, paid timestamptz);
CREATE TABLE gh.archive (LIKE gh.loans);
SELECT pals_privacy.bind_patrons('gh.patrons', 'id', 'expires', keep_history_column => 'keep');
SELECT pals_privacy.bind_loans('gh.loans', 'patron_id', 'item_id', '{returned}', 'paid');
SELECT pals_privacy.bind_loans('gh.archive', 'patron_id', 'item_id', '{returned}', 'paid', last_borrower_group => 'gh.loans');
CREATE FUNCTION gh.history(p text) RETURNS text LANGUAGE sql AS $$
    SELECT coalesce(string_agg(relation || ':' || (row_data ->> 'id'), ' ' ORDER BY id), '')
      FROM pals_privacy.private_history WHERE patron = p $$;

-- item 10: patron 7 returns it; the ILS moves the loan, inserting into the archive first
INSERT INTO gh.loans VALUES (1, 7, 10, '2024-01-10', '2024-01-10');
INSERT INTO gh.archive SELECT * FROM gh.loans WHERE id = 1;
DELETE FROM gh.loans WHERE id = 1;
SELECT is((SELECT string_agg(id || ':' || coalesce(patron_id::text, '-'), ' ') FROM gh.archive), '1:7',
          'the archived row is the item''s last borrower');
SELECT is(gh.history('7'), '', 'the move copied nothing: the loan is still a last borrower, in the archive');
-- the next return severs the archived row, which copies the loan once
INSERT INTO gh.loans VALUES (2, 2, 10, '2024-02-10', '2024-02-10');
SELECT is((SELECT string_agg(id || ':' || coalesce(patron_id::text, '-'), ' ') FROM gh.archive), '1:-',
          'the next return severs the archived row');
SELECT is(gh.history('7'), 'gh.archive:1', 'patron 7''s history holds the loan once');

-- item 11, the other order (delete, then insert): once, as before
INSERT INTO gh.loans VALUES (3, 7, 11, '2024-01-10', '2024-01-10');
WITH moved AS (DELETE FROM gh.loans WHERE id = 3 RETURNING *) INSERT INTO gh.archive SELECT * FROM moved;
INSERT INTO gh.loans VALUES (4, 2, 11, '2024-02-10', '2024-02-10');
SELECT is(gh.history('7'), 'gh.archive:1 gh.archive:3', 'deleted first: the loan is copied once too');

-- a different loan of the same patron and item, closed at another time, is its own record
INSERT INTO gh.loans VALUES (5, 7, 12, '2024-01-10', '2024-01-10');
INSERT INTO gh.archive VALUES (6, 7, 12, '2024-01-20', '2024-01-20');
SELECT is(gh.history('7'), 'gh.archive:1 gh.archive:3 gh.loans:5',
          'a later loan of the item by the same patron severs and copies the earlier one');
INSERT INTO gh.loans VALUES (7, 2, 12, '2024-02-10', '2024-02-10');
SELECT is(gh.history('7'), 'gh.archive:1 gh.archive:3 gh.loans:5 gh.archive:6', 'and is copied itself when it is severed');

-- A pending sever retried later (issue 14): the archive insert's sever of
-- the loans row fails (an ILS trigger refuses the write), so the row is
-- pending; the ILS deletes moved loans later, and maintenance's retry of
-- sever_pending severs the loans row meanwhile.  The loan is copied once,
-- whichever of its two rows is severed first.
CREATE FUNCTION gh.busy() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('gh.busy', true) = 'on' THEN RAISE EXCEPTION 'gh: loans busy'; END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER busy BEFORE UPDATE ON gh.loans FOR EACH ROW EXECUTE FUNCTION gh.busy();
-- item 13: the retry first, the archived row's sever after
INSERT INTO gh.loans VALUES (8, 7, 13, '2024-01-10', '2024-01-10');
SET gh.busy = on;
INSERT INTO gh.archive SELECT * FROM gh.loans WHERE id = 8;
RESET gh.busy;
SELECT is((SELECT count(*) FROM pals_privacy.sever_pending WHERE binding = 'gh.loans'::regclass), 1::bigint,
          'the loans row of the moved loan could not be severed: pending');
SELECT pals_privacy._retry_pending() IS NOT NULL AS retried;
SELECT is((SELECT string_agg(id || ':' || coalesce(patron_id::text, '-'), ' ' ORDER BY id) FROM gh.loans WHERE item_id = 13)
          || ' ' || (SELECT count(*) FROM pals_privacy.sever_pending WHERE binding = 'gh.loans'::regclass),
          '8:- 0', 'the retry severs it');
INSERT INTO gh.loans VALUES (9, 2, 13, '2024-02-10', '2024-02-10');
SELECT is((SELECT string_agg(id || ':' || coalesce(patron_id::text, '-'), ' ' ORDER BY id) FROM gh.archive WHERE item_id = 13), '8:-',
          'the next return severs the archived row');
SELECT is((SELECT count(*) FROM pals_privacy.private_history WHERE patron = '7' AND item = '13'), 1::bigint,
          'retry, then the archived row: the loan is copied once');
-- item 14: the archived row severed first, the retry after
INSERT INTO gh.loans VALUES (10, 7, 14, '2024-01-10', '2024-01-10');
SET gh.busy = on;
INSERT INTO gh.archive SELECT * FROM gh.loans WHERE id = 10;
INSERT INTO gh.loans VALUES (11, 2, 14, '2024-02-10', '2024-02-10');
RESET gh.busy;
SELECT is((SELECT count(*) FROM pals_privacy.sever_pending WHERE binding = 'gh.loans'::regclass), 1::bigint,
          'pending again: the loans row of the moved loan');
SELECT pals_privacy._retry_pending() IS NOT NULL AS retried;
SELECT is((SELECT string_agg(id || ':' || coalesce(patron_id::text, '-'), ' ' ORDER BY id) FROM gh.loans WHERE item_id = 14)
          || ' ' || (SELECT count(*) FROM pals_privacy.private_history WHERE patron = '7' AND item = '14'),
          '10:- 11:2 1', 'the archived row, then the retry: the loan is copied once');

SELECT * FROM finish();
ROLLBACK;
