-- Storage order after sever_backlog() (docs/redaction.md, "Storage order";
-- docs/severing.md, "The backlog"): the backlog writes the rows it keeps
-- identified (opted-in history kept in place, last borrowers, rows not
-- settled yet) again, in the statement that severs the others of their
-- range, in TID order (reorder => true, the default).  So a scan without
-- ORDER BY returns the rows a class reads as the placeholder (kept hidden
-- or severed) in the order they had before the backlog: where they are
-- tells no more of which were kept than the order before it did.  Before,
-- the backlog wrote the severed rows only, and a scan returned the kept
-- ones first.
--
-- The measure (pg_temp.order_tells): among the rows a door returns, the
-- share of (kept, severed) pairs in which the kept row comes first, in the
-- order the door returns them and in the order the rows had before the
-- backlog (their TIDs then).  'same' when the two differ by 0.1 at most,
-- else 'apart' with both (a leak).  The control (a table walked with
-- reorder => false) shows the measure fails where the kept rows stayed.
-- Runs on the attack fixture (the demo with opted-in history in place).
\set atk_db backlog_order
\set ECHO none
\i test/attack/fixture.sql
\set ECHO all
SELECT plan(25);

SET client_min_messages = warning;
-- crafted loan relations, rows of 9001 (opted in) and of patrons who did
-- not opt in alternating, 20 items returned three times each (the third
-- return the item's last borrower), wide rows (about 12 a page):
--   s3.loans_null  sever_with 'null' (kept rows read as NULL by staff)
--   s3.loans_hot   room on every page (fillfactor 40) and the patron column
--                  not indexed: every write stays on its page (HOT)
--   s3.loans_del   sever_with 'delete'
--   s3.loans_ctl   the control: bound after the backlog, walked with
--                  reorder => false
CREATE SCHEMA s3;
CREATE FUNCTION s3.fill(rel regclass) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format($f$
        INSERT INTO %s (id, patron_id, item_id, returned, paid, pad)
        SELECT g, CASE WHEN g %% 3 = 0 THEN 9001 ELSE p.ids[1 + g %% 7] END,
               1 + (g - 1) %% 20, timestamptz '2025-01-01' + make_interval(days => g), timestamptz '2025-01-01' + make_interval(days => g),
               repeat('x', 500)
          FROM generate_series(1, 60) g,
               (SELECT array_agg(id ORDER BY id) AS ids
                  FROM (SELECT id FROM demo.patrons WHERE NOT keep_history AND NOT deleted AND id > 0 ORDER BY id LIMIT 7) x) p$f$, rel);
END $$;
CREATE TABLE s3.loans_null (id int PRIMARY KEY, patron_id bigint, item_id int, returned timestamptz, paid timestamptz, pad text);
CREATE TABLE s3.loans_hot (id int PRIMARY KEY, patron_id bigint, item_id int, returned timestamptz, paid timestamptz, pad text)
    WITH (fillfactor = 40, autovacuum_enabled = false);
CREATE TABLE s3.loans_del (id int PRIMARY KEY, patron_id bigint, item_id int, returned timestamptz, paid timestamptz, pad text);
CREATE TABLE s3.loans_ctl (id int PRIMARY KEY, patron_id bigint, item_id int, returned timestamptz, paid timestamptz, pad text);
SELECT s3.fill(r) FROM unnest('{s3.loans_null,s3.loans_hot,s3.loans_del,s3.loans_ctl}'::regclass[]) r;
\o /dev/null
SELECT pals_privacy.bind_loans('s3.loans_null', 'patron_id', 'item_id', '{returned}', settled_column => 'paid',
                               sever_with => 'null', history_mode => 'in_place');
SELECT pals_privacy.bind_loans('s3.loans_hot', 'patron_id', 'item_id', '{returned}', settled_column => 'paid',
                               sever_with => 'patron:0', history_mode => 'in_place');
SELECT pals_privacy.bind_loans('s3.loans_del', 'patron_id', 'item_id', '{returned}', settled_column => 'paid',
                               sever_with => 'delete', history_mode => 'in_place');
\o
GRANT USAGE ON SCHEMA s3 TO branch_staff, report_user;
-- an audit of patron changes on s3.loans_null (the ILS's UPDATE OF trigger)
CREATE TABLE s3.audit (id int, old_patron bigint, new_patron bigint);
CREATE FUNCTION s3.audit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN INSERT INTO s3.audit VALUES (OLD.id, OLD.patron_id, NEW.patron_id); RETURN NULL; END $$;
CREATE TRIGGER audit AFTER UPDATE OF patron_id ON s3.loans_null FOR EACH ROW EXECUTE FUNCTION s3.audit();
GRANT SELECT ON ALL TABLES IN SCHEMA s3 TO branch_staff, report_user;

-- the order before the backlog: each row's TID, by relation and row key (a
-- loan's: id and checkout day, the id repeating across years; staff read a
-- hidden row's checkout time truncated to the day, in this session's zone)
CREATE TABLE pg_temp.bo_before (rel text, id text, pos tid);
INSERT INTO pg_temp.bo_before SELECT 'holds', id::text, ctid FROM demo.holds;
INSERT INTO pg_temp.bo_before SELECT 'loans_2025', id || '/' || extract(epoch FROM date_trunc('day', checked_out_at))::bigint, ctid FROM ONLY demo.loans_2025;
INSERT INTO pg_temp.bo_before SELECT 'loans_null', id::text, ctid FROM s3.loans_null;
INSERT INTO pg_temp.bo_before SELECT 'loans_hot', id::text, ctid FROM s3.loans_hot;
INSERT INTO pg_temp.bo_before SELECT 'loans_del', id::text, ctid FROM s3.loans_del;

CALL pals_privacy.sever_backlog(batch_size => 1000);

-- ground truth after it: the closed, settled rows that are not their item's
-- last borrower, kept (still naming a patron) or severed
CREATE TABLE pg_temp.bo_truth (rel text, id text, kept boolean);
INSERT INTO pg_temp.bo_truth
SELECT 'holds', id::text, patron_id <> 0 FROM demo.holds WHERE fulfilled_at IS NOT NULL OR cancelled_at IS NOT NULL;
INSERT INTO pg_temp.bo_truth
SELECT 'loans_2025', l.id || '/' || extract(epoch FROM date_trunc('day', l.checked_out_at))::bigint, l.patron_id <> 0 FROM ONLY demo.loans_2025 l
 WHERE l.returned_at IS NOT NULL AND l.fines_settled_at IS NOT NULL
   AND NOT EXISTS (SELECT FROM pals_privacy.last_borrower lb
                    WHERE lb.binding = 'demo.loans'::regclass AND lb.row_relid = l.tableoid AND lb.row_tid = l.ctid);
INSERT INTO pg_temp.bo_truth
SELECT 'loans_null', l.id::text, l.patron_id IS NOT NULL FROM s3.loans_null l
 WHERE NOT EXISTS (SELECT FROM pals_privacy.last_borrower lb WHERE lb.binding = 's3.loans_null'::regclass AND lb.row_tid = l.ctid);
INSERT INTO pg_temp.bo_truth
SELECT 'loans_hot', l.id::text, l.patron_id <> 0 FROM s3.loans_hot l
 WHERE NOT EXISTS (SELECT FROM pals_privacy.last_borrower lb WHERE lb.binding = 's3.loans_hot'::regclass AND lb.row_tid = l.ctid);
SELECT is((SELECT string_agg(format('%s: %s kept, %s severed', rel, k, s), '; ' ORDER BY rel)
             FROM (SELECT rel, count(*) FILTER (WHERE kept) k, count(*) FILTER (WHERE NOT kept) s FROM pg_temp.bo_truth GROUP BY rel) x),
          'holds: 46 kept, 157 severed; loans_2025: 209 kept, 936 severed; loans_hot: 13 kept, 27 severed; loans_null: 13 kept, 27 severed',
          'ground truth: kept and severed rows in each relation');

-- what a door's order tells: pairs (kept, severed) with the kept row first,
-- as the door returns them against as they were stored before the backlog
-- (within_page: only the pairs of rows that were on one page before)
CREATE FUNCTION pg_temp.order_tells(who text, rel text, stmt text, within_page boolean DEFAULT false) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    r jsonb := pg_temp.probe(who, ARRAY[stmt]);
    n_rows int;
    after_share numeric;
    before_share numeric;
BEGIN
    IF r ->> 'err' IS NOT NULL THEN
        RETURN 'error ' || (r ->> 'err');
    END IF;
    CREATE TEMP TABLE IF NOT EXISTS bo_seen (id text, pos int, before tid, kept boolean);
    TRUNCATE bo_seen;
    INSERT INTO bo_seen
    SELECT e ->> 'id', (e ->> 'pos')::int, b.pos, t.kept
      FROM jsonb_array_elements(r -> 'rows') e
      JOIN pg_temp.bo_truth t ON t.rel = order_tells.rel AND t.id = e ->> 'id'
      JOIN pg_temp.bo_before b ON b.rel = order_tells.rel AND b.id = e ->> 'id';
    SELECT count(*) INTO n_rows FROM bo_seen;
    IF NOT EXISTS (SELECT FROM bo_seen WHERE kept) OR NOT EXISTS (SELECT FROM bo_seen WHERE NOT kept) THEN
        RETURN format('no pairs (%s rows)', n_rows);
    END IF;
    SELECT round(avg((k.pos < s.pos)::int), 2), round(avg((k.before < s.before)::int), 2) INTO after_share, before_share
      FROM bo_seen k, bo_seen s
     WHERE k.kept AND NOT s.kept AND (NOT within_page OR (k.before::text::point)[0] = (s.before::text::point)[0]);
    RETURN CASE WHEN abs(after_share - before_share) <= 0.1 THEN 'same'
                ELSE format('apart: kept first in %s of the pairs, %s before the backlog', after_share, before_share) END;
END $$;

------------------------------------------------------------------------------
-- Scans without ORDER BY, as staff
------------------------------------------------------------------------------
SELECT is(pg_temp.order_tells('branch_staff', 'holds', 'SELECT id, row_number() OVER () AS pos FROM demo.holds WHERE patron_id = 0'), 'same',
          'holds: a plain scan returns kept and severed holds in their order before the backlog');
SELECT is(pg_temp.order_tells('branch_staff', 'holds', 'SELECT id, row_number() OVER () AS pos FROM demo.holds TABLESAMPLE SYSTEM (100) REPEATABLE (7) WHERE patron_id = 0'), 'same',
          'holds: ... through TABLESAMPLE');
SELECT is(pg_temp.order_tells('report_user', 'loans_2025', 'SELECT id || ''/'' || extract(epoch FROM date_trunc(''day'', checked_out_at))::bigint AS id, row_number() OVER () AS pos FROM ONLY demo.loans_2025 WHERE patron_id = 0'), 'same',
          'loans_2025 (a partition): ... as report_user');
SELECT is(pg_temp.order_tells('branch_staff', 'loans_2025', 'SELECT id || ''/'' || extract(epoch FROM date_trunc(''day'', checked_out_at))::bigint AS id, row_number() OVER () AS pos FROM demo.loans WHERE patron_id = 0'), 'same',
          'loans through the partitioned table: ... (the rows of loans_2025 among them)');
SELECT is(pg_temp.order_tells('branch_staff', 'loans_null', 'SELECT id, row_number() OVER () AS pos FROM s3.loans_null WHERE patron_id IS NULL'), 'same',
          'sever_with ''null'': kept rows (read as NULL) and severed ones in their order before');
SELECT is(pg_temp.order_tells('branch_staff', 'loans_hot', 'SELECT id, row_number() OVER () AS pos FROM s3.loans_hot WHERE patron_id = 0', true), 'same',
          'room on every page (HOT writes): ... within each page too (the pairs of one page)');
SELECT is((SELECT count(*) FROM s3.loans_hot h JOIN pg_temp.bo_before b ON b.rel = 'loans_hot' AND b.id = h.id::text
            WHERE (h.ctid::text::point)[0] <> (b.pos::text::point)[0]), 0::bigint,
          'room on every page: every row was written again on its own page (at a later line pointer)');
SELECT is((SELECT count(*) FROM s3.loans_hot h JOIN pg_temp.bo_before b ON b.rel = 'loans_hot' AND b.id = h.id::text
            WHERE h.ctid = b.pos AND h.id <= 40), 0::bigint,
          '... every closed row but the last borrowers, kept or severed');
SELECT is((SELECT count(*) FROM s3.loans_hot h JOIN pg_temp.bo_before b ON b.rel = 'loans_hot' AND b.id = h.id::text
            WHERE h.ctid = b.pos AND h.id > 40), 20::bigint,
          'the last borrowers stay where they are (staff read them whole; their tracker entries stand)');

SELECT is((SELECT format('%s severed, %s kept unchanged, %s other', count(*) FILTER (WHERE new_patron IS NULL),
                          count(*) FILTER (WHERE new_patron = old_patron AND id <= 40),
                          count(*) FILTER (WHERE NOT (new_patron IS NULL OR (new_patron = old_patron AND id <= 40))))
             FROM s3.audit),
          '27 severed, 13 kept unchanged, 0 other',
          'the ILS''s UPDATE OF patron_id trigger fires once per row written: severed, or kept (OLD = NEW); not for the last borrowers');

------------------------------------------------------------------------------
-- The tracker
------------------------------------------------------------------------------
SELECT is((SELECT count(*) FROM pals_privacy.last_borrower lb
            WHERE lb.binding IN ('demo.loans'::regclass, 's3.loans_null'::regclass, 's3.loans_hot'::regclass)
              AND NOT EXISTS (SELECT FROM demo.loans l WHERE l.tableoid = lb.row_relid AND l.ctid = lb.row_tid AND l.item_id::text = lb.item)
              AND NOT EXISTS (SELECT FROM s3.loans_null l WHERE l.tableoid = lb.row_relid AND l.ctid = lb.row_tid AND l.item_id::text = lb.item)
              AND NOT EXISTS (SELECT FROM s3.loans_hot l WHERE l.tableoid = lb.row_relid AND l.ctid = lb.row_tid AND l.item_id::text = lb.item)),
          0::bigint, 'every tracker entry names a row of its item where it is now');
SELECT is((SELECT count(*) FROM s3.loans_null WHERE patron_id IS NOT NULL AND id > 40), 20::bigint,
          's3.loans_null: the last borrowers (the third returns) kept their patron');
SELECT is(pg_temp.probe('branch_staff', ARRAY['SELECT count(*) AS n FROM s3.loans_null WHERE id > 40 AND patron_id IS NOT NULL']) -> 'rows',
          '[{"n": 20}]'::jsonb, 'staff read the patron of each last borrower written again (the tracker names it)');
SELECT is(pg_temp.probe('branch_staff', ARRAY['SELECT count(*) AS n FROM demo.loans l WHERE l.patron_id <> 0 AND l.returned_at IS NOT NULL
                                                 AND NOT EXISTS (SELECT FROM demo.loans m WHERE m.item_id = l.item_id AND m.returned_at > l.returned_at)
                                                 AND l.fines_settled_at IS NOT NULL']) -> 'rows',
          (SELECT jsonb_build_array(jsonb_build_object('n', count(*))) FROM demo.loans l WHERE l.patron_id <> 0 AND l.returned_at IS NOT NULL
              AND NOT EXISTS (SELECT FROM demo.loans m WHERE m.item_id = l.item_id AND m.returned_at > l.returned_at)
              AND l.fines_settled_at IS NOT NULL),
          'demo.loans: staff read every item''s last borrower, as the ILS does');

------------------------------------------------------------------------------
-- sever_with 'delete': the kept rows are not read by staff at all
------------------------------------------------------------------------------
SELECT is(pg_temp.probe('branch_staff', ARRAY['SELECT count(*) AS n FROM s3.loans_del WHERE patron_id = 9001 AND id <= 40']) -> 'rows',
          '[{"n": 0}]'::jsonb, '''delete'': staff read none of the kept rows (no order of them to read)');
SELECT is((SELECT count(*) FROM s3.loans_del d JOIN pg_temp.bo_before b ON b.rel = 'loans_del' AND b.id = d.id::text WHERE d.ctid = b.pos),
          (SELECT count(*) FROM s3.loans_del), '''delete'': the rows kept are not written again');

------------------------------------------------------------------------------
-- Circulation after the backlog, and the control
------------------------------------------------------------------------------
-- ten returns of items whose last borrower did not opt in: those rows are
-- severed as they go (written again at the end); the order of the rows the
-- backlog left is what it was
SET ROLE ils_app;
DO $$
DECLARE it record; n int := 0;
BEGIN
    FOR it IN SELECT item_id FROM demo.loans_2025 l
               WHERE returned_at IS NOT NULL AND fines_settled_at IS NOT NULL AND patron_id <> 0 AND item_id IS NOT NULL
                 AND l.returned_at < '2025-11-01'
                 AND NOT EXISTS (SELECT FROM demo.patrons p WHERE p.id = l.patron_id AND p.keep_history)
                 AND NOT EXISTS (SELECT FROM demo.loans m WHERE m.item_id = l.item_id AND (m.returned_at IS NULL OR m.returned_at > l.returned_at))
               ORDER BY item_id LIMIT 10 LOOP
        INSERT INTO demo.loans (id, patron_id, item_id, library_id, checked_out_at, due_at)
        VALUES (200000 + n, 9011, it.item_id, 1, '2025-12-01', '2025-12-21');
        UPDATE demo.loans SET returned_at = '2025-12-05', fines_settled_at = '2025-12-05' WHERE id = 200000 + n;
        n := n + 1;
    END LOOP;
END $$;
RESET ROLE;
-- (the rows those returns severed: severed rows now, where they were before the backlog)
SELECT count(*) AS bo_severed FROM pg_temp.bo_truth WHERE rel = 'loans_2025' AND NOT kept \gset
INSERT INTO pg_temp.bo_truth
SELECT 'loans_2025', l.id || '/' || extract(epoch FROM date_trunc('day', l.checked_out_at))::bigint, false FROM ONLY demo.loans_2025 l
 WHERE l.patron_id = 0 AND NOT EXISTS (SELECT FROM pg_temp.bo_truth t WHERE t.rel = 'loans_2025' AND t.id = l.id || '/' || extract(epoch FROM date_trunc('day', l.checked_out_at))::bigint);
SELECT is((SELECT count(*) FROM pg_temp.bo_truth WHERE rel = 'loans_2025' AND NOT kept), (:bo_severed + 10)::bigint,
          'ten returns severed the items'' previous last borrowers');
SELECT is(pg_temp.order_tells('branch_staff', 'loans_2025', 'SELECT id || ''/'' || extract(epoch FROM date_trunc(''day'', checked_out_at))::bigint AS id, row_number() OVER () AS pos FROM ONLY demo.loans_2025 WHERE patron_id = 0'), 'same',
          'after ten returns: the rows the backlog left read in their order before it');

-- A return whose item's previous last borrower opted in (history kept in
-- place) keeps that row identified and writes it again, as it is, where it
-- would have written it severed (src/sever.c, rewrite_kept): among the rows
-- written at that return, as the severed ones of the ten returns above
-- (written after the return's own row, by a later transaction id: the
-- sever's subtransaction).  Before, it stayed where its own return wrote it.
CREATE TABLE pg_temp.bo_optin AS
SELECT l.id, l.item_id, l.ctid AS before FROM ONLY demo.loans_2025 l
 WHERE l.returned_at < '2025-11-01' AND l.fines_settled_at IS NOT NULL AND l.item_id IS NOT NULL
   AND EXISTS (SELECT FROM demo.patrons p WHERE p.id = l.patron_id AND p.keep_history AND p.id < 9000)
   AND NOT EXISTS (SELECT FROM demo.loans m WHERE m.item_id = l.item_id AND (m.returned_at IS NULL OR m.returned_at > l.returned_at))
 ORDER BY l.item_id LIMIT 1;
SELECT item_id AS bo_item FROM pg_temp.bo_optin \gset
SET ROLE ils_app;
INSERT INTO demo.loans (id, patron_id, item_id, library_id, checked_out_at, due_at)
VALUES (200100, 9011, :bo_item, 1, '2025-12-01', '2025-12-21');
UPDATE demo.loans SET returned_at = '2025-12-05', fines_settled_at = '2025-12-05' WHERE id = 200100;
RESET ROLE;
SELECT is((SELECT format('kept %s, moved %s, after the return''s row %s', l.patron_id <> 0, l.ctid <> o.before, l.xmin::text::bigint > n.xmin::text::bigint)
             FROM ONLY demo.loans_2025 l JOIN pg_temp.bo_optin o ON o.id = l.id
             JOIN demo.loans n ON n.id = 200100 AND n.item_id = o.item_id AND n.returned_at IS NOT NULL),
          'kept t, moved t, after the return''s row t',
          'a return writes an opted-in previous last borrower (in place) again, kept, as it writes a severed one');
-- the same on the crafted tables: item 2's last borrower (row 42) is 9001's;
-- a return of item 2 writes it again (the ILS's UPDATE OF patron_id trigger
-- fires with OLD = NEW), but with sever_with 'delete' (not read, no order)
TRUNCATE s3.audit;
SELECT min(id) AS bo_other FROM demo.patrons WHERE NOT keep_history AND NOT deleted AND id > 0 \gset
CREATE TABLE pg_temp.bo_42 AS
SELECT 'null' AS rel, ctid AS before FROM s3.loans_null WHERE id = 42
UNION ALL SELECT 'del', ctid FROM s3.loans_del WHERE id = 42;
INSERT INTO s3.loans_null VALUES (61, :bo_other, 2, '2025-06-01', '2025-06-01', repeat('x', 500));
INSERT INTO s3.loans_del VALUES (61, :bo_other, 2, '2025-06-01', '2025-06-01', repeat('x', 500));
SELECT is((SELECT format('patron %s, moved %s, after the return''s row %s; audit %s', l.patron_id, l.ctid <> b.before, l.xmin::text::bigint > n.xmin::text::bigint,
                         (SELECT string_agg(format('%s: %s -> %s', a.id, a.old_patron, a.new_patron), ', ') FROM s3.audit a))
             FROM s3.loans_null l JOIN pg_temp.bo_42 b ON b.rel = 'null' JOIN s3.loans_null n ON n.id = 61 WHERE l.id = 42),
          'patron 9001, moved t, after the return''s row t; audit 42: 9001 -> 9001',
          'sever_with ''null'': the return writes the kept row again as it is, its UPDATE OF trigger fired with OLD = NEW');
SELECT is((SELECT format('patron %s, moved %s', l.patron_id, l.ctid <> b.before)
             FROM s3.loans_del l JOIN pg_temp.bo_42 b ON b.rel = 'del' WHERE l.id = 42),
          'patron 9001, moved f',
          'sever_with ''delete'': the kept row is not written again (staff do not read it)');

-- batches smaller than a page (a range of line pointers in one block): a
-- kept row written again on its page lies ahead of the walk, which must not
-- take it again (pals_privacy_backlog_ahead): once written, as each severed row
CREATE TABLE s3.loans_small (id int PRIMARY KEY, patron_id bigint, item_id int, returned timestamptz, paid timestamptz, pad text)
    WITH (fillfactor = 40, autovacuum_enabled = false);
SELECT s3.fill('s3.loans_small');
CREATE TRIGGER audit AFTER UPDATE OF patron_id ON s3.loans_small FOR EACH ROW EXECUTE FUNCTION s3.audit();
TRUNCATE s3.audit;
\o /dev/null
SELECT pals_privacy.bind_loans('s3.loans_small', 'patron_id', 'item_id', '{returned}', settled_column => 'paid',
                               sever_with => 'null', history_mode => 'in_place');
\o
CALL pals_privacy.sever_backlog(batch_size => 2);
SELECT is((SELECT format('%s severed, %s kept unchanged, %s other', count(*) FILTER (WHERE new_patron IS NULL),
                          count(*) FILTER (WHERE new_patron = old_patron AND id <= 40),
                          count(*) FILTER (WHERE NOT (new_patron IS NULL OR (new_patron = old_patron AND id <= 40))))
             FROM s3.audit),
          '27 severed, 13 kept unchanged, 0 other',
          'batches of 2 rows: each kept row written again once, though it went ahead of the walk on its page');

-- the control: bound after the backlog and walked with reorder => false,
-- which writes the severed rows only: the kept rows are read first
\o /dev/null
SELECT pals_privacy.bind_loans('s3.loans_ctl', 'patron_id', 'item_id', '{returned}', settled_column => 'paid',
                               sever_with => 'null', history_mode => 'in_place');
\o
INSERT INTO pg_temp.bo_before SELECT 'loans_ctl', id::text, ctid FROM s3.loans_ctl;
CALL pals_privacy.sever_backlog(batch_size => 1000, reorder => false);
INSERT INTO pg_temp.bo_truth
SELECT 'loans_ctl', l.id::text, l.patron_id IS NOT NULL FROM s3.loans_ctl l
 WHERE NOT EXISTS (SELECT FROM pals_privacy.last_borrower lb WHERE lb.binding = 's3.loans_ctl'::regclass AND lb.row_tid = l.ctid);
SELECT matches(pg_temp.order_tells('branch_staff', 'loans_ctl', 'SELECT id, row_number() OVER () AS pos FROM s3.loans_ctl WHERE patron_id IS NULL'), '^apart',
               'control: with reorder => false the kept rows stay where they were and read apart from the severed ones');
SELECT is((SELECT count(*) FROM s3.loans_ctl WHERE patron_id IS NULL), 27::bigint,
          'control: the backlog severed the same rows (27 of 60: the rows of patrons who did not opt in, but the last borrowers)');

SELECT * FROM finish();
\set ECHO none
\i test/attack/done.sql
