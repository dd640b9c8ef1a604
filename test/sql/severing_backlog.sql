-- sever_backlog(): severs the history that existed before binding, reading
-- each table, partition and child once in physical order, in batches of
-- rows, one transaction per batch; resumable after an
-- interruption, idempotent, with a NOTICE per batch and a progress view.
-- It is a procedure that COMMITs, so this file runs outside any
-- transaction block and cleans up after itself (unbind, DROP).
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pals_privacy;
\set VERBOSITY terse

SELECT plan(33);

CREATE SCHEMA svb;
CREATE TABLE svb.patrons (id bigint PRIMARY KEY, expires date NOT NULL DEFAULT 'infinity',
                          keep_history boolean NOT NULL DEFAULT false);
INSERT INTO svb.patrons (id, keep_history) SELECT i, i = 7 FROM generate_series(0, 8) i;

-- the same history in four tables: a plain one (sever_with 'null'), a
-- partitioned one ('patron:0'), an inheritance parent with a child
-- ('delete'), and a holds table (keep_last_borrower => false)
CREATE TABLE svb.loans (id int PRIMARY KEY, patron_id bigint, item_id int NOT NULL,
                        checked_out timestamptz NOT NULL, returned timestamptz, lost timestamptz, paid timestamptz);
CREATE TABLE svb.ploans (LIKE svb.loans, PRIMARY KEY (id, checked_out)) PARTITION BY RANGE (checked_out);
CREATE TABLE svb.ploans_2023 PARTITION OF svb.ploans FOR VALUES FROM ('2023-01-01') TO ('2024-01-01');
CREATE TABLE svb.ploans_2024 PARTITION OF svb.ploans FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE TABLE svb.iloans (LIKE svb.loans INCLUDING ALL);
CREATE TABLE svb.iloans_2023 (PRIMARY KEY (id)) INHERITS (svb.iloans);
CREATE TABLE svb.holds (LIKE svb.loans INCLUDING ALL);
CREATE TABLE svb.history (id int, patron_id bigint, item_id int, checked_out timestamptz,
                          returned timestamptz, lost timestamptz, paid timestamptz);
INSERT INTO svb.history VALUES
    (1, 1, 1, '2023-01-01', '2023-01-10', NULL, '2023-01-10'),  -- item 1: three returns
    (2, 2, 1, '2023-02-01', '2023-02-10', NULL, '2023-02-10'),
    (3, 3, 1, '2024-03-01', '2024-03-10', NULL, '2024-03-10'),
    (4, 4, 2, '2023-01-01', '2023-01-10', NULL, NULL),           -- item 2: unsettled, then a return
    (5, 5, 2, '2024-05-01', '2024-05-10', NULL, '2024-05-10'),
    (6, 1, 3, '2023-02-01', '2023-02-10', NULL, '2023-02-10'),  -- item 3: a return, then an open loan
    (7, 2, 3, '2024-03-01', NULL, NULL, NULL),
    (8, 3, 4, '2024-01-01', '2024-01-10', NULL, '2024-01-10'),  -- item 4: the later return has the lower id
    (9, 4, 4, '2023-06-01', '2023-06-10', NULL, '2023-06-10'),
    (10, 7, 5, '2023-01-01', '2023-01-10', NULL, '2023-01-10'), -- item 5: 7 keeps a copy of their history
    (11, 8, 5, '2024-02-01', '2024-02-10', NULL, '2024-02-10'),
    (12, 1, 6, '2023-03-01', NULL, '2023-03-20', '2023-03-20'), -- item 6: lost, then found and lent again
    (13, 2, 6, '2024-04-01', '2024-04-10', NULL, '2024-04-10');
INSERT INTO svb.loans SELECT * FROM svb.history;
INSERT INTO svb.ploans SELECT * FROM svb.history;
INSERT INTO svb.iloans SELECT * FROM svb.history WHERE checked_out >= '2024-01-01';
INSERT INTO svb.iloans_2023 SELECT * FROM svb.history WHERE checked_out < '2024-01-01';
INSERT INTO svb.holds SELECT * FROM svb.history;

DO $$ BEGIN
    PERFORM pals_privacy.bind_patrons('svb.patrons', 'id', 'expires', keep_history_column => 'keep_history');
    PERFORM pals_privacy.bind_loans('svb.loans', 'patron_id', 'item_id', '{returned,lost}', 'paid', build_tracker => false);
    PERFORM pals_privacy.bind_loans('svb.ploans', 'patron_id', 'item_id', '{returned,lost}', 'paid', sever_with => 'patron:0', build_tracker => false);
    PERFORM pals_privacy.bind_loans('svb.iloans', 'patron_id', 'item_id', '{returned,lost}', 'paid', sever_with => 'delete', build_tracker => false);
    PERFORM pals_privacy.bind_loans('svb.holds', 'patron_id', 'item_id', '{returned,lost}', 'paid', keep_last_borrower => false);
END $$;

CREATE FUNCTION svb.state(rel regclass) RETURNS text LANGUAGE plpgsql AS $$
DECLARE s text;
BEGIN
    EXECUTE format('SELECT string_agg(id || '':'' || coalesce(patron_id::text, ''-''), '' '' ORDER BY id) FROM %s', rel) INTO s;
    RETURN s;
END $$;
CREATE VIEW svb.all_states AS
    SELECT string_agg(t || ' ' || svb.state(t::regclass), E'\n' ORDER BY t) AS s
      FROM unnest(ARRAY['svb.loans', 'svb.ploans', 'svb.iloans', 'svb.holds']) t;

-- binding does not touch the existing history
SELECT is(svb.state(t::regclass), '1:1 2:2 3:3 4:4 5:5 6:1 7:2 8:3 9:4 10:7 11:8 12:1 13:2',
          format('%s: binding leaves the existing history alone', t))
  FROM unnest(ARRAY['svb.loans', 'svb.ploans', 'svb.iloans', 'svb.holds']) t;

-- bad calls
SELECT throws_ok('CALL pals_privacy.sever_backlog(batch_size => 0)', '22023', NULL, 'batch_size must be positive');
SELECT throws_ok('CALL pals_privacy.sever_backlog(batch_size => 2)', '2D000', NULL,
                 'sever_backlog commits, so it cannot run inside a transaction (here: a function)');
SELECT is((SELECT count(*) FROM pals_privacy.backlog_progress), 0::bigint, 'that failed call left no progress behind');
SELECT is(svb.state('svb.loans'), '1:1 2:2 3:3 4:4 5:5 6:1 7:2 8:3 9:4 10:7 11:8 12:1 13:2',
          'and severed nothing');

-- interrupted during its third batch of 2 rows (a failure where the
-- progress of that batch is written: the batch is undone)
CREATE FUNCTION svb.interrupt() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('svb.interrupt', true) = 'on' AND NEW.batches = 3 THEN
        RAISE EXCEPTION 'simulated interruption';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER svb_interrupt BEFORE UPDATE ON pals_privacy.backlog_progress FOR EACH ROW EXECUTE FUNCTION svb.interrupt();
SET svb.interrupt = on;
SET client_min_messages = notice;
CALL pals_privacy.sever_backlog(batch_size => 2);
SET client_min_messages = warning;
RESET svb.interrupt;
DROP TRIGGER svb_interrupt ON pals_privacy.backlog_progress;
SELECT relation, items_done, rows_severed, rows_kept, rows_pending, batches, state FROM pals_privacy.sever_backlog_progress;
SELECT is(svb.state('svb.loans'), '1:- 2:- 3:3 4:4 5:5 6:1 7:2 8:3 9:4 10:7 11:8 12:1 13:2',
          'the interrupted run kept what its first two batches committed');
SELECT is((SELECT state || ' ' || items_done || ' ' || batches || ' ' || rows_scanned FROM pals_privacy.sever_backlog_progress),
          'in progress 6 2 4',
          'the progress view shows the interrupted run in progress after two batches of 2 rows (the last borrowers of its 6 items recorded first)');

-- resumed: it carries on with rows 5 and 6 and then does the other tables
SET client_min_messages = notice;
CALL pals_privacy.sever_backlog(batch_size => 2);
SET client_min_messages = warning;
SELECT relation, items_done, rows_severed, rows_kept, rows_pending, batches, state
  FROM pals_privacy.sever_backlog_progress ORDER BY relation;
SELECT is(svb.state('svb.loans'),  '1:- 2:- 3:3 4:4 5:5 6:1 7:2 8:3 9:- 10:- 11:8 12:- 13:2',
          'loans (null): only each item''s last borrower, unsettled and open loans keep a patron');
SELECT is(svb.state('svb.ploans'), '1:0 2:0 3:3 4:4 5:5 6:1 7:2 8:3 9:0 10:0 11:8 12:0 13:2',
          'partitioned (patron:0): the same, re-pointed to the placeholder');
SELECT is(svb.state('svb.iloans'), '3:3 4:4 5:5 6:1 7:2 8:3 11:8 13:2',
          'inheritance (delete): the same, severed rows deleted from parent and child');
SELECT is(svb.state('svb.iloans_2023'), '4:4 6:1', 'inheritance (delete): the child keeps its two identified rows');
SELECT is(svb.state('svb.holds'), '1:- 2:- 3:- 4:4 5:- 6:- 7:2 8:- 9:- 10:- 11:- 12:- 13:-',
          'holds (keep_last_borrower false): every closed, settled row severed');
SELECT is((SELECT string_agg(relation::text || ':' || item || ':' || (row_data ->> 'id'), ' ' ORDER BY relation::text)
             FROM pals_privacy.private_history WHERE patron = '7'),
          'svb.holds:5:10 svb.iloans:5:10 svb.loans:5:10 svb.ploans:5:10',
          'the opted-in patron''s severed row was copied from each table');
SELECT is((SELECT count(*) FROM pals_privacy.private_history WHERE patron <> '7'), 0::bigint, 'and nothing else was copied');
SELECT is((SELECT string_agg(relation || ' ' || state || ' ' || items_done || ' ' || rows_severed || ' ' || batches, ', ' ORDER BY relation)
             FROM pals_privacy.sever_backlog_progress),
          'svb.holds done 0 11 7, svb.iloans done 6 5 7, svb.loans done 6 5 8, svb.ploans done 6 5 7',
          'the progress view: every table done, the last borrowers of 6 items recorded (holds keep none), batches of 2 rows, rows severed counted across the interruption');
SELECT is((SELECT count(*) FROM pals_privacy.sever_pending), 0::bigint, 'nothing pending');
SELECT is((SELECT count(*) FROM pals_privacy.last_borrower WHERE binding = t::regclass), 6::bigint,
          format('%s: the backlog recorded the last borrower of each of its 6 items', t))
  FROM unnest(ARRAY['svb.loans', 'svb.ploans', 'svb.iloans']) t;

-- a second CALL reports it is done and changes nothing
CREATE TABLE svb.before AS SELECT s FROM svb.all_states;
SET client_min_messages = notice;
CALL pals_privacy.sever_backlog(batch_size => 2);
SET client_min_messages = warning;
SELECT is((SELECT s FROM svb.all_states), (SELECT s FROM svb.before), 'a second CALL changes nothing');
-- restart => true scans everything again and still finds nothing to sever
-- (it writes again the rows it keeps that some class reads masked, as the
-- first walk did, so the tables it walks have grown by them: one batch more
-- for svb.holds and svb.ploans)
SET client_min_messages = notice;
CALL pals_privacy.sever_backlog(batch_size => 4, restart => true);
SET client_min_messages = warning;
SELECT is((SELECT s FROM svb.all_states), (SELECT s FROM svb.before), 'a restarted scan severs nothing more');
SELECT is((SELECT string_agg(relation || ' ' || state || ' ' || rows_severed || ' ' || batches, ', ' ORDER BY relation)
             FROM pals_privacy.sever_backlog_progress),
          'svb.holds done 0 7, svb.iloans done 0 3, svb.loans done 0 5, svb.ploans done 0 6',
          'the restarted scan: batches of up to 4 rows, 0 rows severed');

-- returns after the backlog use what it recorded: item 1 goes out and
-- comes back, and row 3 (its last borrower so far) is severed
INSERT INTO svb.loans VALUES (14, 6, 1, '2024-06-01', '2024-06-10', NULL, '2024-06-10');
INSERT INTO svb.ploans VALUES (14, 6, 1, '2024-06-01', '2024-06-10', NULL, '2024-06-10');
INSERT INTO svb.iloans VALUES (14, 6, 1, '2024-06-01', '2024-06-10', NULL, '2024-06-10');
SELECT is(svb.state('svb.loans'),  '1:- 2:- 3:- 4:4 5:5 6:1 7:2 8:3 9:- 10:- 11:8 12:- 13:2 14:6', 'loans: a return after the backlog severs the previous last borrower');
SELECT is(svb.state('svb.ploans'), '1:0 2:0 3:0 4:4 5:5 6:1 7:2 8:3 9:0 10:0 11:8 12:0 13:2 14:6', 'partitioned: the same');
SELECT is(svb.state('svb.iloans'), '4:4 5:5 6:1 7:2 8:3 11:8 13:2 14:6', 'inheritance: the same');

-- a restarted backlog keeps the last borrower the tracker chose against the
-- dates: item 40, patron 7 (who keeps their history, in place here)
-- returned it on 2024-02-01, patron 1 on 2024-03-01; the desk re-opens
-- patron 1's loan and closes it again back-dated before patron 7's return,
-- which keeps the row it closed.  By the dates alone the restart would make
-- patron 7's hidden row the last borrower again and sever the desk's.
CREATE TABLE svb.desk (LIKE svb.loans INCLUDING ALL);
INSERT INTO svb.desk VALUES (1, 7, 40, '2024-01-25', '2024-02-01', NULL, '2024-02-01'),
                            (2, 1, 40, '2024-02-25', '2024-03-01', NULL, '2024-03-01');
CREATE ROLE regress_svb_desk;
DO $$ BEGIN
    PERFORM pals_privacy.bind_loans('svb.desk', 'patron_id', 'item_id', '{returned,lost}', 'paid', history_mode => 'in_place');
    PERFORM pals_privacy.classify_role('regress_svb_desk', 'staff');
END $$;
GRANT USAGE ON SCHEMA svb TO regress_svb_desk;
GRANT SELECT, UPDATE ON svb.desk TO regress_svb_desk;
SET ROLE regress_svb_desk;
UPDATE svb.desk SET returned = NULL WHERE id = 2;
UPDATE svb.desk SET returned = '2024-01-28' WHERE id = 2;
SELECT is(svb.state('svb.desk'), '1:- 2:1', 'desk: a back-dated close of the last borrower''s loan; patron 7''s row stays hidden');
RESET ROLE;
CALL pals_privacy.sever_backlog(restart => true);
SELECT is(svb.state('svb.desk'), '1:7 2:1', 'a restarted backlog severs neither row (patron 7''s is kept in place)');
SET ROLE regress_svb_desk;
SELECT is(svb.state('svb.desk'), '1:- 2:1', 'and the desk still reads the row it closed as the last borrower, not patron 7''s');
RESET ROLE;

-- clean up: nothing stays bound
DELETE FROM pals_privacy.private_history WHERE relation::text LIKE 'svb.%';
DO $$ BEGIN
    PERFORM pals_privacy.unbind(t::regclass) FROM unnest(ARRAY['svb.loans', 'svb.ploans', 'svb.iloans', 'svb.holds', 'svb.desk', 'svb.patrons']) t;
    PERFORM pals_privacy.unclassify_role('regress_svb_desk');
END $$;
SELECT is((SELECT count(*) FROM pals_privacy.bindings), 0::bigint, 'nothing is bound any more');
SELECT is((SELECT count(*) FROM pals_privacy.last_borrower) + (SELECT count(*) FROM pals_privacy.backlog_progress)
          + (SELECT count(*) FROM pals_privacy.private_history), 0::bigint, 'and no severing state is left');
SELECT * FROM finish();
DROP SCHEMA svb CASCADE;
DROP ROLE regress_svb_desk;
