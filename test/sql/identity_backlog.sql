-- Severing on any data: closed rows without an item (title-level holds)
-- are severed on close and by the backlog, and sever_backlog() terminates
-- on NULL, duplicate and text items; a 'delete' that a BEFORE DELETE
-- trigger of the ILS skipped is left pending (never counted as severed),
-- and a purge that it would leave half done fails for that patron; the
-- backlog's dry run changes nothing and shows what it would do.
-- sever_backlog() commits: this file runs outside a transaction block and
-- drops what it made.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pals_privacy;
\set VERBOSITY terse
SET statement_timeout = '120s';   -- the backlog used to loop forever on NULL items
SET datestyle = ISO;
SET timezone = UTC;

SELECT plan(24);
CREATE TEMP TABLE ib_mark AS SELECT coalesce(max(id), 0) AS run FROM pals_privacy.maintenance_runs;

CREATE SCHEMA ib;
CREATE TABLE ib.patrons (id bigint PRIMARY KEY, expires date NOT NULL DEFAULT 'infinity');
INSERT INTO ib.patrons (id) SELECT generate_series(0, 9);
-- title-level holds: the item is NULL until one is captured
CREATE TABLE ib.holds (id int PRIMARY KEY, patron_id bigint, item_id int, placed timestamptz NOT NULL,
                       filled timestamptz, cancelled timestamptz);
INSERT INTO ib.holds VALUES
    (1, 1, NULL, '2024-01-01', NULL, '2024-01-05'),
    (2, 2, NULL, '2024-01-02', '2024-01-06', NULL),
    (3, 3, NULL, '2024-01-03', NULL, NULL),            -- open
    (4, 4, 7, '2024-01-04', '2024-01-07', NULL),
    (5, 5, 7, '2024-01-05', '2024-01-08', NULL);
-- loans with text items, many rows per item
CREATE TABLE ib.loans (id int PRIMARY KEY, patron_id bigint, item_code varchar(12),
                       returned timestamptz);
INSERT INTO ib.loans
SELECT i, 1 + i % 9, (ARRAY['b-2', 'a 1', 'B-2', 'Ä3', NULL])[1 + i % 5], '2024-01-01'::timestamptz + i * interval '1 day'
  FROM generate_series(1, 40) i;
-- 'delete', with an ILS trigger that keeps renewed rows
CREATE TABLE ib.circ (id int PRIMARY KEY, patron_id bigint, item_id int, returned timestamptz,
                      renewed boolean NOT NULL DEFAULT false);
CREATE FUNCTION ib.keep_renewed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.renewed THEN
        RETURN NULL;   -- renewed rows are kept
    END IF;
    RETURN OLD;
END $$;
CREATE TRIGGER keep_renewed BEFORE DELETE ON ib.circ FOR EACH ROW EXECUTE FUNCTION ib.keep_renewed();
INSERT INTO ib.circ VALUES
    (1, 1, 1, '2024-01-01', true), (2, 2, 1, '2024-02-01', false), (3, 3, 1, '2024-03-01', false),
    (4, 4, 2, '2024-01-01', false), (5, 5, 2, '2024-02-01', false);

DO $$ BEGIN
    PERFORM pals_privacy.bind_patrons('ib.patrons', 'id', 'expires');
    PERFORM pals_privacy.bind_loans('ib.holds', 'patron_id', 'item_id', '{filled,cancelled}', keep_last_borrower => false);
    PERFORM pals_privacy.bind_loans('ib.loans', 'patron_id', 'item_code', '{returned}');
    PERFORM pals_privacy.bind_loans('ib.circ', 'patron_id', 'item_id', '{returned}', sever_with => 'delete');
END $$;

CREATE FUNCTION ib.state(rel regclass) RETURNS text LANGUAGE plpgsql AS $$
DECLARE s text;
BEGIN
    EXECUTE format('SELECT string_agg(id || '':'' || coalesce(patron_id::text, ''-''), '' '' ORDER BY id) FROM %s', rel) INTO s;
    RETURN s;
END $$;

-- the dry run changes nothing and says what would happen
SELECT results_eq(
    $$SELECT relation::text, closed_rows, to_sever, last_borrowers, unsettled, without_item
        FROM pals_privacy.sever_backlog_preview() ORDER BY 1$$,
    $$VALUES ('ib.circ', 5::bigint, 3::bigint, 2::bigint, 0::bigint, 0::bigint),
             ('ib.holds', 4, 4, 0, 0, 2),
             ('ib.loans', 40, 36, 4, 0, 8)$$,
    'the preview counts, per binding, the rows the backlog would sever and keep');
SELECT is((SELECT sample_rows FROM pals_privacy.sever_backlog_preview(2) WHERE relation = 'ib.circ'::regclass),
          '[{"item": "1", "closed": "2024-01-01 00:00:00+00", "patron": "1", "patron becomes": "(row deleted)"},
            {"item": "1", "closed": "2024-02-01 00:00:00+00", "patron": "2", "patron becomes": "(row deleted)"}]'::jsonb,
          'with a sample of the rows it would sever: item, patron, and what becomes of them');
SET client_min_messages = notice;
CALL pals_privacy.sever_backlog(dry_run => true);
SET client_min_messages = warning;
SELECT is(ib.state('ib.holds') || ' / ' || ib.state('ib.circ'), '1:1 2:2 3:3 4:4 5:5 / 1:1 2:2 3:3 4:4 5:5',
          'the dry run severed nothing');
SELECT is((SELECT count(*) FROM pals_privacy.backlog_progress), 0::bigint, 'and recorded no progress');

CALL pals_privacy.sever_backlog(batch_size => 2);
SELECT is(ib.state('ib.holds'), '1:- 2:- 3:3 4:- 5:-',
          'holds: every closed row is severed, with an item or without; the open one is not');
SELECT is((SELECT count(*) FROM ib.loans WHERE patron_id IS NOT NULL AND item_code IS NOT NULL), 4::bigint,
          'loans with text items: one identified row per item (''a 1'', ''b-2'', ''B-2'', ''Ä3'')');
SELECT results_eq($$SELECT item_code, max(id) FROM ib.loans WHERE patron_id IS NOT NULL GROUP BY 1 ORDER BY item_code COLLATE "C"$$,
                  $$VALUES ('B-2'::varchar, 37), ('a 1', 36), ('b-2', 40), ('Ä3', 38)$$,
                  'each the item''s latest return');
SELECT is((SELECT count(*) FROM ib.loans WHERE item_code IS NULL AND patron_id IS NOT NULL), 0::bigint,
          'loans without an item are severed too: they are nobody''s last borrower');
SELECT is((SELECT string_agg(relation || ' ' || state, ', ' ORDER BY relation) FROM pals_privacy.sever_backlog_progress),
          'ib.circ done, ib.holds done, ib.loans done', 'the backlog finished every binding');
SELECT is(ib.state('ib.circ'), '1:1 3:3 5:5',
          'circ: the renewed row 1 was not deleted (the ILS trigger kept it); 2 and 4 were');
SELECT is((SELECT string_agg(row_relation || ' ' || reason, '; ') FROM pals_privacy.sever_pending_rows),
          'ib.circ a trigger of "circ" skipped the delete of the row being severed',
          'the row the trigger kept is pending, with the reason');
SELECT is((SELECT rows_severed || ' severed, ' || rows_pending || ' pending' FROM pals_privacy.backlog_progress
            WHERE relation = 'ib.circ'), '2 severed, 1 pending', 'and is not counted as severed');

-- the backlog again finds nothing more, and terminates
CALL pals_privacy.sever_backlog(restart => true);
SELECT is(ib.state('ib.holds') || ' / ' || ib.state('ib.circ'), '1:- 2:- 3:3 4:- 5:- / 1:1 3:3 5:5',
          'a second run changes nothing');

-- on close: a hold without an item loses its patron at once
UPDATE ib.holds SET cancelled = '2024-02-01' WHERE id = 3;
INSERT INTO ib.holds VALUES (6, 6, NULL, '2024-02-02', '2024-02-03', NULL);
SELECT is(ib.state('ib.holds'), '1:- 2:- 3:- 4:- 5:- 6:-', 'closing a hold without an item severs it at once');
-- a loan without an item in a table that keeps last borrowers
INSERT INTO ib.loans VALUES (41, 7, NULL, NULL);
UPDATE ib.loans SET returned = '2025-01-01' WHERE id = 41;
SELECT is((SELECT patron_id FROM ib.loans WHERE id = 41), NULL, 'a returned loan without an item is severed: no last borrower to keep');
-- a loan with an item keeps its last borrower as before
INSERT INTO ib.loans VALUES (42, 7, 'a 1', NULL);
UPDATE ib.loans SET returned = '2025-01-02' WHERE id = 42;
SELECT is((SELECT string_agg(id || ':' || coalesce(patron_id::text, '-'), ' ' ORDER BY id) FROM ib.loans WHERE id IN (36, 42)),
          '36:- 42:7', 'an item still keeps its last borrower, and only that');

-- on return: the previous last borrower is renewed, the ILS trigger keeps it
INSERT INTO ib.circ VALUES (6, 6, 2, NULL, false);
UPDATE ib.circ SET renewed = true WHERE id = 5;
UPDATE ib.circ SET returned = '2024-04-01' WHERE id = 6;
SELECT is(ib.state('ib.circ'), '1:1 3:3 5:5 6:6', 'a return whose previous row the ILS trigger keeps goes through');
SELECT is((SELECT count(*) FROM pals_privacy.sever_pending_rows WHERE row_relation = 'ib.circ'::regclass), 2::bigint,
          'and the kept row is pending, not silently identified');
SELECT is((SELECT reason FROM pals_privacy.sever_pending WHERE row_relid = 'ib.circ'::regclass ORDER BY first_seen DESC LIMIT 1),
          'a trigger of "circ" skipped the delete of the row being severed', 'with the reason');
SELECT is((pals_privacy._retry_pending()) ->> 'still_pending', '2', 'the maintenance retry keeps them pending while the trigger keeps them');
UPDATE ib.circ SET renewed = false WHERE id IN (1, 5);
SELECT is((pals_privacy._retry_pending()) ->> 'resolved', '2', 'once the trigger lets them go, the retry deletes them');
SELECT is(ib.state('ib.circ'), '3:3 6:6', 'and they are gone');

-- purge: a patron whose rows the trigger keeps is not purged, and says why
UPDATE ib.patrons SET expires = '2000-01-01' WHERE id = 3;
UPDATE ib.circ SET renewed = true WHERE id = 3;
UPDATE ib.circ SET returned = NULL WHERE false;
CALL pals_privacy.purge_expired();
SELECT is((SELECT count(*) FROM ib.patrons WHERE id = 3), 1::bigint, 'a patron whose row the ILS trigger keeps is not purged');
SELECT is((SELECT counts -> 'errors' ->> 0 FROM pals_privacy.maintenance_runs WHERE kind = 'purge' ORDER BY id DESC LIMIT 1),
          '09000: purge: # row of "ib.circ" kept their patron after sever_with ''delete''', 'the run says why');

SELECT * FROM finish();

DO $$ BEGIN
    PERFORM pals_privacy.unbind(r) FROM unnest(ARRAY['ib.holds', 'ib.loans', 'ib.circ', 'ib.patrons']::regclass[]) r;
END $$;
DELETE FROM pals_privacy.backlog_progress;
DELETE FROM pals_privacy.maintenance_runs WHERE id > (SELECT run FROM ib_mark);
DROP SCHEMA ib CASCADE;
