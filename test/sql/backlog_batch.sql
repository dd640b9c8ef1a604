-- sever_backlog() severs each batch set-based (one statement per relation,
-- opted in or not, with or without an item), and keeps every rule the
-- severing of one row keeps: a pseudonymous statistics record per severed
-- row, the copy of an opted-in patron's row in private_history as it was,
-- derived copies (bind_copy) severed in the batch's own transaction, the
-- placeholder's foreign-key check left out only while every row gets the
-- placeholder (a row an ILS trigger gives another patron goes one by one,
-- checked, and is left pending); collecting copies without severing them
-- cannot commit.  It commits: this file runs outside a transaction block
-- and drops what it made.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pals_privacy;
\set VERBOSITY terse
SET datestyle = ISO;
SET timezone = UTC;

SELECT plan(20);
CREATE TEMP TABLE bb_mark AS SELECT coalesce(max(id), 0) AS run, clock_timestamp() AS t0 FROM pals_privacy.maintenance_runs;

CREATE SCHEMA bb;
CREATE TABLE bb.patrons (id bigint PRIMARY KEY, expires date NOT NULL DEFAULT 'infinity',
                         keep boolean NOT NULL DEFAULT false, lib text NOT NULL DEFAULT 'ALD');
INSERT INTO bb.patrons (id, keep) SELECT i, i = 3 FROM generate_series(0, 6) i;
-- loans: partitioned, patron NOT NULL REFERENCES patrons, severed to the placeholder 0
CREATE TABLE bb.loans (id int NOT NULL, patron_id bigint NOT NULL REFERENCES bb.patrons, item_id int,
                       returned timestamptz, PRIMARY KEY (id, returned)) PARTITION BY RANGE (returned);
CREATE TABLE bb.loans_a PARTITION OF bb.loans FOR VALUES FROM ('2023-01-01') TO ('2024-01-01');
CREATE TABLE bb.loans_b PARTITION OF bb.loans FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
-- items 1..6, four returns each, by patrons 1..6 in turn (patron 3 keeps a copy of their
-- history); item NULL: four more returns (no item: no last borrower)
INSERT INTO bb.loans
SELECT i, 1 + i % 6, CASE WHEN i <= 24 THEN 1 + (i - 1) / 4 END,
       '2023-03-01'::timestamptz + i * interval '11 days'
  FROM generate_series(1, 28) i;
-- a copy of each loan's identity: unlinked when the loan is severed
-- (keyed by the loan's primary key; orig: the loan it was charged on, for this test to follow
-- it once unlinked)
CREATE TABLE bb.fines (id serial PRIMARY KEY, loan_id int, loan_returned timestamptz, patron_id bigint NOT NULL,
                       orig int NOT NULL);
INSERT INTO bb.fines (loan_id, loan_returned, patron_id, orig) SELECT id, returned, patron_id, id FROM bb.loans;

DO $$ BEGIN
    PERFORM pals_privacy.bind_patrons('bb.patrons', 'id', 'expires', keep_history_column => 'keep',
                                      library_column => 'lib');
    PERFORM pals_privacy.bind_loans('bb.loans', 'patron_id', 'item_id', '{returned}', sever_with => 'patron:0',
                                    build_tracker => false);
    PERFORM pals_privacy.bind_copy('bb.fines', 'bb.loans', patron_column => 'patron_id', sever_with => 'unlink',
                                   key_columns => '{loan_id,loan_returned}', source_keys => '{id,returned}');
    PERFORM pals_privacy.collect_statistics('bb.loans', 'month');
END $$;
CREATE TABLE bb.before AS SELECT * FROM bb.loans;

-- interrupted in its sixth batch of 2 rows (rows 11 and 12, where that batch's progress is
-- written: the batch is undone): the first five (rows 1 to 10, items 1 and 2 and two rows of
-- item 3) committed with their copies and records
CREATE FUNCTION bb.interrupt() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('bb.interrupt', true) = 'on' AND NEW.batches = 6 THEN
        RAISE EXCEPTION 'simulated interruption';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER bb_interrupt BEFORE UPDATE ON pals_privacy.backlog_progress FOR EACH ROW EXECUTE FUNCTION bb.interrupt();
SET bb.interrupt = on;
CALL pals_privacy.sever_backlog(batch_size => 2);
RESET bb.interrupt;
DROP TRIGGER bb_interrupt ON pals_privacy.backlog_progress;
SELECT is((SELECT string_agg(id || ':' || patron_id, ' ' ORDER BY id) FROM bb.loans WHERE item_id <= 2),
          '1:0 2:0 3:0 4:5 5:0 6:0 7:0 8:3', 'the first batches severed items 1 and 2 but their last borrowers');
SELECT is((SELECT string_agg(f.orig || ':' || coalesce(f.loan_id::text, '-'), ' ' ORDER BY f.orig) FROM bb.fines f
            WHERE f.orig <= 8),
          '1:- 2:- 3:- 4:4 5:- 6:- 7:- 8:8', 'and unlinked the fines of the loans they severed, each in its own transaction');
SELECT is((SELECT string_agg(f.orig || ':' || coalesce(f.loan_id::text, '-'), ' ' ORDER BY f.orig) FROM bb.fines f
            WHERE f.orig BETWEEN 9 AND 12),
          '9:- 10:- 11:11 12:12', 'the fifth batch unlinked the fines of rows 9 and 10, not those of the interrupted sixth');
SELECT is((SELECT count(*) FROM bb.fines WHERE orig > 10 AND loan_id = orig), 18::bigint,
          'fines of later batches are still linked');
SELECT is((SELECT count(*) FROM pals_privacy.pseudonymous_loans WHERE relation = 'bb.loans'::regclass), 8::bigint,
          'one statistics record per row the first five batches severed');

CALL pals_privacy.sever_backlog(batch_size => 2);
SELECT is((SELECT string_agg(id || ':' || patron_id, ' ' ORDER BY id) FROM bb.loans),
          '1:0 2:0 3:0 4:5 5:0 6:0 7:0 8:3 9:0 10:0 11:0 12:1 13:0 14:0 15:0 16:5 17:0 18:0 19:0 20:3 21:0 22:0 23:0 24:1 25:0 26:0 27:0 28:0',
          'resumed: every item keeps its last borrower only; loans without an item are all severed');
SELECT is((SELECT count(*) FROM bb.fines f JOIN bb.loans l ON l.id = f.orig WHERE l.patron_id = 0 AND f.loan_id IS NOT NULL),
          0::bigint, 'no fine is linked to a severed loan');
SELECT is((SELECT string_agg(loan_id::text, ' ' ORDER BY id) FROM bb.fines WHERE loan_id IS NOT NULL),
          '4 8 12 16 20 24', 'the last borrowers'' fines stay linked');
-- statistics: the same records as the one-row sever writes (pseudonym per patron, month of return)
SELECT is((SELECT count(*) FROM pals_privacy.pseudonymous_loans WHERE relation = 'bb.loans'::regclass),
          (SELECT count(*) FROM bb.before b JOIN bb.loans l ON l.id = b.id AND l.returned = b.returned
            WHERE b.patron_id <> 0 AND l.patron_id = 0),
          'a statistics record for every row the backlog severed');
SELECT is((SELECT string_agg(DISTINCT item, ' ' ORDER BY item) FROM pals_privacy.pseudonymous_loans
            WHERE relation = 'bb.loans'::regclass), '1 2 3 4 5 6', 'with its item (none for the rows without one)');
SELECT is((SELECT count(*) FROM pals_privacy.pseudonymous_loans WHERE relation = 'bb.loans'::regclass AND item IS NULL),
          4::bigint, 'and the four rows without an item recorded without one');
SELECT is((SELECT count(DISTINCT pseudonym) FROM pals_privacy.pseudonymous_loans WHERE relation = 'bb.loans'::regclass),
          6::bigint, 'six patrons, six pseudonyms');
SELECT is((SELECT string_agg(coalesce(item, '-') || '@' || closed_on, ' ' ORDER BY coalesce(item, '-') || '@' || closed_on)
             FROM pals_privacy.pseudonymous_loans WHERE relation = 'bb.loans'::regclass),
          (SELECT string_agg(coalesce(b.item_id::text, '-') || '@' || date_trunc('month', b.returned, 'UTC')::date, ' '
                             ORDER BY coalesce(b.item_id::text, '-') || '@' || date_trunc('month', b.returned, 'UTC')::date)
             FROM bb.before b JOIN bb.loans l USING (id, returned) WHERE l.patron_id = 0),
          'each record with its loan''s item and month of return');
-- opted-in patron 3: a copy of each severed row, as it was (with the patron)
SELECT is((SELECT string_agg((row_data ->> 'id') || ':' || (row_data ->> 'patron_id') || ':' || coalesce(item, '-'), ' '
                             ORDER BY (row_data ->> 'id')::int)
             FROM pals_privacy.private_history WHERE relation = 'bb.loans'::regclass),
          (SELECT string_agg(b.id || ':3:' || coalesce(b.item_id::text, '-'), ' ' ORDER BY b.id)
             FROM bb.before b JOIN bb.loans l USING (id, returned) WHERE b.patron_id = 3 AND l.patron_id = 0),
          'patron 3 (opted in) has a copy of each of their severed rows, as it was');
SELECT is((SELECT count(*) FROM pals_privacy.private_history WHERE patron <> '3'), 0::bigint, 'and nobody else');

-- an ILS trigger that gives some rows another patron (one that does not exist): the
-- statement that skipped the placeholder's foreign-key check is undone, its rows go one by
-- one with the check, and those are left pending
CREATE TABLE bb.loans_c PARTITION OF bb.loans FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
INSERT INTO bb.loans VALUES (31, 1, 7, '2025-01-10'), (32, 2, 7, '2025-01-20'), (33, 5, 7, '2025-01-30'),
                            (34, 6, 7, '2025-02-10');
CREATE FUNCTION bb.reassign() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.patron_id IN (5, 99) THEN NEW.patron_id := 99; END IF;   -- patron 99 does not exist
    RETURN NEW;
END $$;
CREATE TRIGGER reassign BEFORE UPDATE ON bb.loans_c FOR EACH ROW EXECUTE FUNCTION bb.reassign();
SET session_replication_role = replica;   -- the rows as they were before returns severed them
UPDATE bb.loans SET patron_id = 1 + (id - 31) * (id - 31) WHERE item_id = 7 AND id < 34;
SET session_replication_role = DEFAULT;
SELECT is((SELECT string_agg(id || ':' || patron_id, ' ' ORDER BY id) FROM bb.loans WHERE item_id = 7),
          '31:1 32:2 33:5 34:6', 'item 7: four identified returns');
CALL pals_privacy.sever_backlog(batch_size => 10, restart => true);
SELECT is((SELECT string_agg(id || ':' || patron_id, ' ' ORDER BY id) FROM bb.loans WHERE item_id = 7),
          '31:0 32:0 33:5 34:6', 'the rows the trigger lets go are severed; the one it reassigns keeps its patron');
SELECT is((SELECT count(*) FROM bb.loans l WHERE NOT EXISTS (SELECT FROM bb.patrons p WHERE p.id = l.patron_id)),
          0::bigint, 'no row points to a patron that does not exist (the foreign key was checked)');
SELECT is((SELECT string_agg(reason, '; ') FROM pals_privacy.sever_pending_rows WHERE row_relation = 'bb.loans_c'::regclass),
          'a trigger of "loans_c" kept the patron of the row being severed',
          'and that row is pending, with the reason');
DROP TRIGGER reassign ON bb.loans_c;

-- copies collected and not severed cannot commit
INSERT INTO bb.fines (loan_id, loan_returned, patron_id, orig) VALUES (34, '2025-02-10', 6, 34);
BEGIN;
SELECT pals_privacy._copy_sever_collect();
UPDATE bb.loans SET patron_id = 0 WHERE id = 34;
COMMIT;
SELECT is((SELECT l.patron_id || ' ' || f.loan_id FROM bb.loans l JOIN bb.fines f ON f.orig = l.id WHERE l.id = 34), '6 34',
          'a transaction that collected copies and did not sever them cannot commit: nothing changed');

SELECT * FROM finish();

DELETE FROM pals_privacy.sever_pending WHERE binding = 'bb.loans'::regclass;
DO $$ BEGIN
    PERFORM pals_privacy.unbind_copy('bb.fines');
    PERFORM pals_privacy.unbind(r) FROM unnest(ARRAY['bb.loans', 'bb.patrons']::regclass[]) r;
END $$;
DELETE FROM pals_privacy.private_history WHERE relation::text LIKE 'bb.%';
DELETE FROM pals_privacy.pseudonymous_loans WHERE relation::text LIKE 'bb.%';
-- (the key this file made: the statistics test expects to make the period's key itself)
DELETE FROM pals_privacy.pseudonym_keys WHERE created_at >= (SELECT t0 FROM bb_mark);
DELETE FROM pals_privacy.backlog_progress;
DELETE FROM pals_privacy.maintenance_runs WHERE id > (SELECT run FROM bb_mark);
DROP SCHEMA bb CASCADE;
