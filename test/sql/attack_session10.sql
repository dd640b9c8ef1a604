-- Attacks on what the 2026-12-05 sessions landed (helper attack10), from a
-- desk (class staff, with the writes a desk needs), the online catalogue
-- (class patron, not logged in), a collection agency, each against the ILS
-- (operational) as the control that shows the attack reads what it is after.
--   A. hidden_excluded() (src/redact_rewrite.c): mask(patron) = $1 becomes
--      <may see> AND patron_id = $1 (an index condition) where the query's
--      other conditions imply the mask shows.  On a placeholder binding
--      (sever_with => 'patron:0') with history kept in place, Ann's closed
--      hold (kept, patron 1 stored) and Ben's (severed, patron 0 stored) must
--      read alike: patron_id = 0 finds both, patron_id = 1 neither, whatever
--      the other conditions (a premise that reads a masked column, an
--      attacker's IMMUTABLE function, a cast, OR, JOIN ... ON, an outer join,
--      a CTE), whatever the plan (custom, generic, prepared by another class,
--      a cursor, UPDATE/DELETE ... RETURNING).
--   B. closed_precision (chargetime, src/redact_policy.c mask_coarse): the
--      exact return time of a loan whose patron staff do not read (Ann's kept
--      09:13:27, Ben's severed 16:42:07) through a generated column, a range,
--      to_jsonb, a whole row's text, to_char/extract/date_trunc, a generic
--      plan's parameter, a window's ranks, a generate_series join, EXPLAIN.
--   C. the tracker through _last_borrower() (PUBLIC), called directly.
--   D. a desk deletes an item's last borrower once its history is severed: a rebuild of the
--      tracker by dates (rebuild_tracker(), as the backlog's) opens no severed row (the HOLE 4 family, in
--      test/attack/session10_holes.sql, needs a row still identified: kept for an opted-in
--      patron, or not reached by the backlog yet).
-- All held on PostgreSQL 15 and 18 (no HOLE found in these doors).
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pals_privacy;
SET datestyle = ISO;
SET timezone = UTC;

BEGIN;
SELECT plan(56);

CREATE SCHEMA as10;
CREATE TABLE as10.patrons (id bigint PRIMARY KEY, expires date NOT NULL DEFAULT 'infinity',
                           keep boolean NOT NULL DEFAULT false);
INSERT INTO as10.patrons (id, keep) VALUES (0, false), (1, true), (2, false), (3, false), (4, false), (5, true);
SELECT pals_privacy.bind_patrons('as10.patrons', 'id', 'expires', keep_history_column => 'keep');
-- loans: the return time coarsened to the day where staff do not read the patron, the settled
-- time and the due date hidden there, history of opted-in patrons kept in place
CREATE TABLE as10.loans (id int PRIMARY KEY, patron_id bigint NOT NULL REFERENCES as10.patrons, item_id int NOT NULL,
                         out_at timestamptz NOT NULL, due date, returned_at timestamptz, settled_at timestamptz,
                         note text, ret_local timestamp GENERATED ALWAYS AS (returned_at AT TIME ZONE 'UTC') STORED);
CREATE INDEX ON as10.loans (patron_id);
CREATE INDEX ON as10.loans (item_id);
CREATE INDEX ON as10.loans (returned_at);
SELECT pals_privacy.bind_loans('as10.loans', 'patron_id', 'item_id', '{returned_at}', settled_column => 'settled_at',
                               sever_with => 'patron:0', history_mode => 'in_place', hide_columns => '{due}');
-- holds: closed is a date (read as stored at 'day'), so "closed IS NULL" reads the column itself
CREATE TABLE as10.holds (id int PRIMARY KEY, patron_id bigint NOT NULL REFERENCES as10.patrons, title_id int NOT NULL,
                         closed date, placed timestamptz);
CREATE INDEX ON as10.holds (patron_id);
SELECT pals_privacy.bind_loans('as10.holds', 'patron_id', 'title_id', '{closed}', sever_with => 'patron:0',
                               keep_last_borrower => false, history_mode => 'in_place');
-- item 10: Ann (1, opted in: kept) returns at 09:13:27, then Cy (3, the last borrower);
-- item 11: Ben (2) returns at 16:42:07 the same day (severed), then Dee (4, the last borrower);
-- item 12: Eve's (5) open loan
INSERT INTO as10.loans (id, patron_id, item_id, out_at, due, returned_at, settled_at, note)
VALUES (1, 1, 10, '2025-01-01 10:00', '2025-01-15', '2025-01-10 09:13:27', '2025-01-10 09:13:27', 'ann'),
       (2, 2, 11, '2025-01-01 10:00', '2025-01-15', '2025-01-10 16:42:07', '2025-01-10 16:42:07', 'ben');
INSERT INTO as10.loans (id, patron_id, item_id, out_at, due, note)
VALUES (3, 3, 10, '2025-02-01 10:00', '2025-02-15', 'cy'), (4, 4, 11, '2025-02-01 10:00', '2025-02-15', 'dee'),
       (5, 5, 12, '2025-02-01 11:00', '2025-02-15', 'eve');
UPDATE as10.loans SET returned_at = '2025-02-10 11:00', settled_at = '2025-02-10 11:00' WHERE id IN (3, 4);
-- holds: Ann's closed hold 1 (kept), Ben's closed hold 2 (severed), Cy's open hold 3, Ann's open hold 4
INSERT INTO as10.holds VALUES (1, 1, 20, '2025-01-05', '2025-01-01 08:00'), (2, 2, 21, '2025-01-05', '2025-01-01 08:00'),
                              (3, 3, 22, NULL, '2025-01-01 08:00'), (4, 1, 23, NULL, '2025-01-02 08:00');
ANALYZE as10.loans, as10.holds;

CREATE ROLE regress_as10_ils;
CREATE ROLE regress_as10_staff;
CREATE ROLE regress_as10_coll;
CREATE ROLE regress_as10_opac;
GRANT USAGE ON SCHEMA as10 TO regress_as10_ils, regress_as10_staff, regress_as10_coll, regress_as10_opac;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA as10
   TO regress_as10_ils, regress_as10_staff, regress_as10_coll, regress_as10_opac;
GRANT CREATE ON SCHEMA as10 TO regress_as10_staff;
SELECT pals_privacy.classify_role('regress_as10_ils', 'operational');
SELECT pals_privacy.classify_role('regress_as10_staff', 'staff');
SELECT pals_privacy.classify_role('regress_as10_coll', 'collections');
SELECT pals_privacy.classify_role('regress_as10_opac', 'patron');

-- the rows of a query as a role, as 'r1 r2 ...' ('-': none)
CREATE FUNCTION pg_temp.v(who text, q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE r text;
BEGIN
    EXECUTE format('SET LOCAL ROLE %I', who);
    EXECUTE format('SELECT string_agg(x::text, '' '') FROM (%s) x', q) INTO r;
    RESET ROLE;
    RETURN coalesce(r, '-');
END $$;
-- the same query as the ILS (the control) / as staff
CREATE FUNCTION pg_temp.door(q text) RETURNS text LANGUAGE sql AS $$
    SELECT pg_temp.v('regress_as10_ils', q) || ' / ' || pg_temp.v('regress_as10_staff', q)
$$;
-- the plan of a query as a role, as text
CREATE FUNCTION pg_temp.plan_of(who text, q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE r text; l text;
BEGIN
    EXECUTE format('SET LOCAL ROLE %I', who);
    SET LOCAL enable_seqscan = off;
    r := '';
    FOR l IN EXECUTE 'EXPLAIN (COSTS OFF) ' || q LOOP r := r || l || E'\n'; END LOOP;
    RESET ROLE;
    RESET enable_seqscan;
    RETURN r;
END $$;
CREATE FUNCTION pg_temp.estimate(who text, q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE j json;
BEGIN
    EXECUTE format('SET LOCAL ROLE %I', who);
    EXECUTE 'EXPLAIN (FORMAT JSON) ' || q INTO j;
    RESET ROLE;
    RETURN j -> 0 -> 'Plan' ->> 'Plan Rows';
END $$;
GRANT EXECUTE ON FUNCTION pg_temp.v(text, text), pg_temp.door(text), pg_temp.plan_of(text, text),
                          pg_temp.estimate(text, text) TO PUBLIC;

------------------------------------------------------------------------------
-- A. hidden_excluded: the other conditions of the query as premises
------------------------------------------------------------------------------
SELECT is(pg_temp.door($$SELECT id, patron_id FROM as10.holds ORDER BY id$$),
          '(1,1) (2,0) (3,3) (4,1) / (1,0) (2,0) (3,3) (4,1)',
          'control: Ann''s closed hold (kept) reads as Ben''s (severed): the placeholder');
SELECT is(pg_temp.door($$SELECT id FROM as10.holds WHERE patron_id = 1 AND closed IS NOT NULL$$), '(1) / -',
          'patron_id = 1 AND closed IS NOT NULL (a premise that does not imply the mask shows): Ann''s kept hold for the ILS only');
SELECT is(pg_temp.v('regress_as10_staff', $$SELECT id FROM as10.holds WHERE patron_id = 0 AND closed IS NOT NULL ORDER BY id$$), '(1) (2)',
          'patron_id = 0 AND closed IS NOT NULL: the kept and the severed hold alike');
SELECT is(pg_temp.v('regress_as10_staff', $$SELECT id FROM as10.holds WHERE patron_id = 1 AND closed IS NULL$$), '(4)',
          'patron_id = 1 AND closed IS NULL (the premise implies the mask shows): Ann''s open hold');
SELECT matches(pg_temp.plan_of('regress_as10_staff', $$SELECT id FROM as10.holds WHERE patron_id = 1 AND closed IS NULL$$),
               'Index Cond: \(patron_id = ', 'control: there the patron index serves (the rewrite took place)');
SELECT is(pg_temp.v('regress_as10_staff', $$SELECT id FROM as10.holds WHERE patron_id = 0 AND (closed IS NULL OR title_id IN (20, 21)) ORDER BY id$$),
          '(1) (2)', 'an OR-ed premise (implies nothing): the kept and the severed hold alike');
SELECT is(pg_temp.v('regress_as10_staff', $$SELECT id FROM as10.holds WHERE patron_id = 1 AND closed::text IS NULL$$)
          || ' ' || pg_temp.v('regress_as10_staff', $$SELECT id FROM as10.holds WHERE patron_id = 0 AND closed::text IS NOT NULL ORDER BY id$$),
          '(4) (1) (2)', 'a premise through a cast: Ann''s open hold; the placeholder''s closed holds alike');
SELECT is(pg_temp.v('regress_as10_staff', $$SELECT h.id FROM as10.holds h JOIN (VALUES (1::bigint)) v (p) ON h.patron_id = v.p AND h.closed IS NOT NULL$$),
          '-', 'JOIN ... ON patron and closed: nothing of Ann''s kept hold');
SELECT is(pg_temp.v('regress_as10_staff', $$SELECT v.p, h.id FROM (VALUES (1::bigint), (0)) v (p) LEFT JOIN as10.holds h ON h.patron_id = v.p AND h.closed IS NOT NULL ORDER BY 1, 2$$),
          '(0,1) (0,2) (1,)', 'outer join, the holds on the nullable side: patron 1 has none, the placeholder both');
SELECT is(pg_temp.v('regress_as10_staff', $$WITH c AS (SELECT * FROM as10.holds WHERE closed IS NOT NULL) SELECT id FROM c WHERE patron_id = 1$$)
          || ' ' || pg_temp.v('regress_as10_staff', $$SELECT id FROM (SELECT * FROM as10.holds WHERE closed IS NOT NULL OFFSET 0) s WHERE patron_id = 1$$),
          '- -', 'a CTE and a subquery with the premise inside: nothing');
SELECT is(pg_temp.v('regress_as10_staff', $$SELECT count(*) FROM as10.holds WHERE patron_id = 1$$)
          || ' ' || pg_temp.v('regress_as10_staff', $$SELECT count(*) FROM as10.holds WHERE patron_id = 0$$),
          '(1) (2)', 'counts by patron: Ann has one hold (her open one), the placeholder two');

-- an attacker's own functions as premises: one declared IMMUTABLE that lies (true on every row),
-- one that tests the column honestly; neither makes the kept hold Ann's
SET LOCAL ROLE regress_as10_staff;
CREATE FUNCTION as10.lie(d date) RETURNS boolean LANGUAGE plpgsql IMMUTABLE AS $$ BEGIN RETURN true; END $$;
CREATE FUNCTION as10.open(d date) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$ SELECT d IS NULL $$;
CREATE DOMAIN as10.day AS date CHECK (VALUE IS NOT NULL OR true);
RESET ROLE;
SELECT is(pg_temp.v('regress_as10_staff', $$SELECT id FROM as10.holds WHERE patron_id = 1 AND as10.lie(closed) ORDER BY id$$)
          || ' ' || pg_temp.v('regress_as10_staff', $$SELECT id FROM as10.holds WHERE patron_id = 0 AND as10.lie(closed) ORDER BY id$$),
          '(4) (1) (2)', 'an IMMUTABLE function that lies as a premise: Ann''s open hold only; the placeholder''s both');
SELECT is(pg_temp.v('regress_as10_staff', $$SELECT id FROM as10.holds WHERE patron_id = 1 AND NOT as10.open(closed)$$)
          || ' ' || pg_temp.v('regress_as10_staff', $$SELECT id FROM as10.holds WHERE patron_id = 1 AND closed::as10.day IS NOT NULL$$),
          '- -', 'a SQL function and a domain over the closed column: nothing of Ann''s kept hold');

-- generic plans (the premise proven once, the value unknown), across classes
SET LOCAL plan_cache_mode = force_generic_plan;
SET LOCAL ROLE regress_as10_staff;
PREPARE as10_desk(bigint) AS SELECT id FROM as10.holds WHERE patron_id = $1 AND closed IS NULL ORDER BY id;
PREPARE as10_hist(bigint) AS SELECT id FROM as10.holds WHERE patron_id = $1 AND closed IS NOT NULL ORDER BY id;
PREPARE as10_lie(bigint) AS SELECT id FROM as10.holds WHERE patron_id = $1 AND as10.lie(closed) ORDER BY id;
SELECT results_eq('EXECUTE as10_desk(1)', 'VALUES (4)', 'staff, generic plan: the desk query reads Ann''s open hold');
SELECT results_eq('EXECUTE as10_hist(1)', 'SELECT 1 WHERE false', 'staff, generic plan: patron_id = $1 AND closed IS NOT NULL reads none of Ann''s');
SELECT results_eq('EXECUTE as10_hist(0)', 'VALUES (1), (2)', 'staff, generic plan: ... and the placeholder''s two alike');
SELECT results_eq('EXECUTE as10_lie(1)', 'VALUES (4)', 'staff, generic plan with the lying premise: Ann''s open hold only');
SELECT results_eq('EXECUTE as10_lie(0)', 'VALUES (1), (2)', 'staff, generic plan with the lying premise: the placeholder''s both');
-- prepared by staff, executed by other classes: planned again for each
SET LOCAL ROLE regress_as10_opac;
SELECT results_eq('EXECUTE as10_desk(1)', 'SELECT 1 WHERE false', 'the catalogue (not logged in) executes staff''s prepared desk query: nothing');
SET LOCAL ROLE regress_as10_coll;
SELECT results_eq('EXECUTE as10_desk(1)', 'SELECT 1 WHERE false', 'collections executes it: nothing (reads no hold''s patron)');
SET LOCAL ROLE regress_as10_ils;
SELECT results_eq('EXECUTE as10_hist(1)', 'VALUES (1)', 'control: the ILS executes the history query: Ann''s kept hold');
PREPARE as10_ils_hist(bigint) AS SELECT id FROM as10.holds WHERE patron_id = $1 AND closed IS NOT NULL ORDER BY id;
SELECT results_eq('EXECUTE as10_ils_hist(1)', 'VALUES (1)', 'control: prepared by the ILS, Ann''s kept hold');
SET LOCAL ROLE regress_as10_staff;
SELECT results_eq('EXECUTE as10_ils_hist(1)', 'SELECT 1 WHERE false', 'prepared by the ILS, executed by staff: none of Ann''s');
SELECT results_eq('EXECUTE as10_hist(1)', 'SELECT 1 WHERE false', 'staff again after the ILS: none of Ann''s');
-- writes with RETURNING, a cursor
PREPARE as10_upd(bigint) AS UPDATE as10.holds SET placed = placed WHERE patron_id = $1 AND closed IS NOT NULL RETURNING id, patron_id;
PREPARE as10_upd_open(bigint) AS UPDATE as10.holds SET placed = placed WHERE patron_id = $1 AND closed IS NULL RETURNING id, patron_id;
SELECT results_eq('EXECUTE as10_upd(1)', 'SELECT 1, 1::bigint WHERE false', 'UPDATE ... WHERE patron_id = $1 AND closed IS NOT NULL RETURNING: nothing of Ann''s');
SELECT results_eq('EXECUTE as10_upd(0)', 'SELECT 1, 1::bigint WHERE false', '... nor of the placeholder''s (neither kept nor severed rows are written)');
SELECT results_eq('EXECUTE as10_upd_open(1)', 'VALUES (4, 1::bigint)', 'control: the desk writes Ann''s open hold');
SELECT results_eq('WITH d AS (DELETE FROM as10.holds WHERE patron_id = 1 AND closed IS NOT NULL RETURNING id) SELECT id FROM d',
                  'SELECT 1 WHERE false', 'DELETE ... RETURNING: nothing of Ann''s');
DECLARE as10_c CURSOR FOR SELECT id FROM as10.holds WHERE patron_id = 1 AND closed IS NOT NULL;
SELECT results_eq('FETCH ALL FROM as10_c', 'SELECT 1 WHERE false', 'a cursor: nothing of Ann''s');
CLOSE as10_c;
SELECT throws_ok('EXPLAIN ANALYZE SELECT id FROM as10.holds WHERE patron_id = 1 AND closed IS NULL', '42501', NULL,
                 'EXPLAIN ANALYZE of the rewritten desk query: refused (its index probe meets hidden rows)');
RESET ROLE;
RESET plan_cache_mode;
DEALLOCATE as10_desk; DEALLOCATE as10_hist; DEALLOCATE as10_lie; DEALLOCATE as10_ils_hist;
DEALLOCATE as10_upd; DEALLOCATE as10_upd_open;

-- the loans: the premises read masked columns (the coarsened return time, the hidden due date
-- and settled time), so they prove nothing, and rows still read alike
SELECT is(pg_temp.door($$SELECT id FROM as10.loans WHERE patron_id = 1 AND returned_at IS NOT NULL$$), '(1) / -',
          'loans: patron_id = 1 AND returned_at IS NOT NULL: Ann''s kept loan for the ILS only');
SELECT is(pg_temp.v('regress_as10_staff', $$SELECT id FROM as10.loans WHERE patron_id = 0 AND due IS NULL ORDER BY id$$)
          || ' ' || pg_temp.v('regress_as10_staff', $$SELECT id FROM as10.loans WHERE patron_id = 0 AND settled_at IS NOT NULL ORDER BY id$$),
          '(1) (2) (1) (2)', 'loans: a premise on the hidden due date or settled time: the kept and the severed loan alike');
SELECT is(pg_temp.v('regress_as10_staff', $$SELECT id FROM as10.loans WHERE patron_id = 1 AND returned_at IS NULL$$)
          || ' ' || pg_temp.v('regress_as10_staff', $$SELECT id FROM as10.loans WHERE patron_id = 5 AND returned_at IS NULL$$),
          '- (5)', 'loans: the desk''s open loans (Eve''s); none of Ann''s');

------------------------------------------------------------------------------
-- B. the exact return time of a loan whose patron staff do not read
------------------------------------------------------------------------------
SELECT is(pg_temp.door($$SELECT id, returned_at FROM as10.loans WHERE id IN (1, 2, 3) ORDER BY id$$),
          '(1,"2025-01-10 09:13:27+00") (2,"2025-01-10 16:42:07+00") (3,"2025-02-10 11:00:00+00") / (1,"2025-01-10 00:00:00+00") (2,"2025-01-10 00:00:00+00") (3,"2025-02-10 11:00:00+00")',
          'control: the ILS reads the exact times; staff the day on the hidden rows, the last borrower''s exact');
SELECT is(pg_temp.door($$SELECT id, ret_local FROM as10.loans WHERE id IN (1, 2) ORDER BY id$$),
          '(1,"2025-01-10 09:13:27") (2,"2025-01-10 16:42:07") / (1,"2025-01-10 00:00:00") (2,"2025-01-10 00:00:00")',
          'a generated column computed from the return time: the day');
SELECT is(pg_temp.v('regress_as10_coll', $$SELECT id, ret_local FROM as10.loans WHERE id IN (1, 3) ORDER BY id$$),
          '(1,"2025-01-10 00:00:00") (3,"2025-02-10 00:00:00")', 'collections: the generated column to the day on every row');
SELECT is(pg_temp.door($$SELECT upper(tstzrange(out_at, returned_at)) FROM as10.loans WHERE id = 2$$),
          '("2025-01-10 16:42:07+00") / ("2025-01-10 00:00:00+00")', 'a range built on it: its bound to the day');
SELECT is(pg_temp.door($$SELECT to_jsonb(l) ->> 'returned_at' FROM as10.loans l WHERE id = 2$$),
          '(2025-01-10T16:42:07+00:00) / (2025-01-10T00:00:00+00:00)', 'to_jsonb of the whole row: the day');
SELECT is(pg_temp.door($$SELECT id FROM as10.loans l WHERE l::text LIKE '%16:42%'$$), '(2) / -',
          'the whole row''s text searched for the time: nothing');
SELECT is(pg_temp.door($$SELECT to_char(returned_at, 'HH24:MI:SS') || ' ' || extract(epoch FROM returned_at)::bigint % 86400 || ' ' || date_trunc('minute', returned_at) FROM as10.loans WHERE id = 2$$),
          '("16:42:07 60127 2025-01-10 16:42:00+00") / ("00:00:00 0 2025-01-10 00:00:00+00")', 'to_char, extract, date_trunc to a finer unit: midnight');
SELECT is(pg_temp.door($$SELECT s FROM generate_series(timestamptz '2025-01-10', '2025-01-10 23:59:59', '1 second') s JOIN as10.loans l ON l.returned_at = s WHERE l.id IN (1, 2) ORDER BY 1$$),
          '("2025-01-10 09:13:27+00") ("2025-01-10 16:42:07+00") / ("2025-01-10 00:00:00+00") ("2025-01-10 00:00:00+00")',
          'a join to every second of the day: only midnight matches');
SELECT is(pg_temp.door($$SELECT id, rank() OVER (ORDER BY returned_at) FROM as10.loans WHERE id IN (1, 2) ORDER BY id$$),
          '(1,1) (2,2) / (1,1) (2,1)', 'rank() over the return time: the day''s hidden returns tie');
SELECT is(pg_temp.door($$SELECT count(*) FROM as10.loans WHERE returned_at BETWEEN '2025-01-10 16:00' AND '2025-01-10 17:00'$$),
          '(1) / (0)', 'a range of an hour around the time: nothing');
SET LOCAL plan_cache_mode = force_generic_plan;
SET LOCAL ROLE regress_as10_staff;
PREPARE as10_at(timestamptz) AS SELECT id FROM as10.loans WHERE returned_at = $1;
PREPARE as10_between(timestamptz, timestamptz) AS SELECT id FROM as10.loans WHERE returned_at >= $1 AND returned_at < $2;
SELECT results_eq($$EXECUTE as10_at('2025-01-10 16:42:07')$$, 'SELECT 1 WHERE false', 'a generic plan''s returned_at = $1 (the exact time): nothing');
SELECT results_eq($$EXECUTE as10_between('2025-01-10 16:42', '2025-01-10 16:43')$$, 'SELECT 1 WHERE false', 'a generic plan''s minute around it: nothing');
SELECT results_eq($$EXECUTE as10_at('2025-01-10 00:00')$$, 'VALUES (1), (2)', 'control: the day itself finds both hidden returns');
RESET ROLE;
RESET plan_cache_mode;
DEALLOCATE as10_at; DEALLOCATE as10_between;
SELECT is(pg_temp.estimate('regress_as10_staff', $$SELECT * FROM as10.loans WHERE returned_at < '2025-01-10 12:00'$$),
          pg_temp.estimate('regress_as10_staff', $$SELECT * FROM as10.loans WHERE returned_at < '2025-01-10 17:00'$$),
          'EXPLAIN: staff''s estimates of the times before and after 16:42 are the same');
SELECT is(pg_temp.v('regress_as10_staff', $$SELECT count(*) FROM pg_stats WHERE schemaname = 'as10'$$), '(0)',
          'pg_stats: nothing of the bound tables');

------------------------------------------------------------------------------
-- C. the tracker, asked directly: _last_borrower() is executable by PUBLIC
------------------------------------------------------------------------------
SELECT ctid AS ann_tid FROM as10.loans WHERE id = 1 \gset
SELECT ctid AS cy_tid FROM as10.loans WHERE id = 3 \gset
SELECT is(pg_temp.v('regress_as10_staff', format($$SELECT pals_privacy._last_borrower('as10.loans'::regclass, '10', 'as10.loans'::regclass, %L)$$, :'ann_tid')),
          '(f)', 'staff ask the tracker about Ann''s kept row by its place: not the last borrower');
SELECT is(pg_temp.v('regress_as10_staff', format($$SELECT pals_privacy._last_borrower('as10.loans'::regclass, '10', 'as10.loans'::regclass, %L)$$, :'cy_tid')),
          '(t)', 'control: Cy''s row is (staff read it whole anyway)');
SELECT is(pg_temp.v('regress_as10_staff', $$SELECT count(*) FROM as10.loans WHERE ctid = '(0,1)' OR xmin::text <> ''$$), '(0)',
          'no row is found by its place (ctid reads NULL), so the tracker''s answer names no row staff can read');

------------------------------------------------------------------------------
-- D. the desk deletes the last borrower of a severed history
------------------------------------------------------------------------------
CREATE TABLE as10.old (id int PRIMARY KEY, patron_id bigint REFERENCES as10.patrons, item_id int NOT NULL,
                       returned_at timestamptz);
CREATE INDEX ON as10.old (patron_id);
CREATE INDEX ON as10.old (item_id);
SELECT pals_privacy.bind_loans('as10.old', 'patron_id', 'item_id', '{returned_at}');
-- Ben (2) borrows and returns item 20, then Cy (3): Cy's return severs Ben's loan
INSERT INTO as10.old VALUES (1, 2, 20, NULL);
UPDATE as10.old SET returned_at = '2025-01-10 16:42:07' WHERE id = 1;
INSERT INTO as10.old VALUES (2, 3, 20, NULL);
UPDATE as10.old SET returned_at = '2025-02-10 11:00' WHERE id = 2;
GRANT SELECT, INSERT, UPDATE, DELETE ON as10.old TO regress_as10_staff, regress_as10_ils;
SELECT is(pg_temp.v('regress_as10_staff', $$SELECT id, patron_id, returned_at FROM as10.old ORDER BY id$$),
          '(1,,"2025-01-10 00:00:00+00") (2,3,"2025-02-10 11:00:00+00")',
          'control: Ben''s loan of item 20 is severed, Cy''s (the last borrower) read whole');
SET LOCAL ROLE regress_as10_staff;
DELETE FROM as10.old WHERE id = 2;
RESET ROLE;
SELECT pals_privacy.rebuild_tracker('as10.old');
SELECT is(pg_temp.v('regress_as10_staff', $$SELECT id, patron_id, returned_at FROM as10.old ORDER BY id$$),
          '(1,,"2025-01-10 00:00:00+00")',
          'the desk deleted Cy''s loan, the tracker was rebuilt by the dates: Ben''s severed loan does not become the last borrower (its time stays the day)');
SET LOCAL ROLE regress_as10_ils;
INSERT INTO as10.old VALUES (3, 4, 20, NULL);
UPDATE as10.old SET returned_at = '2025-03-01 10:00' WHERE id = 3;
RESET ROLE;
SELECT is(pg_temp.v('regress_as10_staff', $$SELECT id, patron_id, returned_at FROM as10.old ORDER BY id$$),
          '(1,,"2025-01-10 00:00:00+00") (3,4,"2025-03-01 10:00:00+00")',
          'the next return of item 20 (the ILS''s) is its last borrower; Ben''s stays as it was');

------------------------------------------------------------------------------
-- the hidden rows were not changed by any of it
------------------------------------------------------------------------------
SELECT is((SELECT string_agg(id || ':' || patron_id, ' ' ORDER BY id) FROM as10.holds), '1:1 2:0 3:3 4:1',
          'the holds as stored afterwards');
SELECT is((SELECT string_agg(id || ':' || patron_id, ' ' ORDER BY id) FROM as10.loans), '1:1 2:0 3:3 4:4 5:5',
          'the loans as stored afterwards');

SELECT * FROM finish();
ROLLBACK;
