-- Attack catalogue: severed and kept rows read alike (sameread), from a desk.
-- A staff account (branch_staff, and report_user, its member) with the
-- desk's write rights tries to tell a closed row kept identified (an
-- opted-in patron's history kept in place: hidden, read as the placeholder
-- 0) from one severed already (its patron stored as 0): which rows are
-- kept tells which patrons' rows they are, and, compared before and after a
-- purge, which rows were the purged patron's.  Each check runs one door as
-- the attacker and reads what came out against the ground truth (the
-- superuser's): the attacker must find the kept rows together with the
-- severed ones, or neither.  The control (the ILS, which reads stored
-- values) shows each check can fail.  Runs after sever_backlog() with the
-- opted-in history kept in place.  See test/attack/fixture.sql.
\set atk_db attack_sameread2
\set ECHO none
\i test/attack/fixture.sql
\set ECHO all
SELECT plan(52);

SET client_min_messages = warning;
CALL pals_privacy.sever_backlog(batch_size => 1000);
ANALYZE demo.loans, demo.holds, demo.reading_history;

-- A crafted loan relation bound with sever_with => 'delete' (history kept in
-- place for opted-in patrons: 12 is, 2 and 3 are not) and a table of the
-- ILS that refers to its rows, which the desk writes (notes on a loan).
CREATE SCHEMA s2;
CREATE TABLE s2.loans_del (id int PRIMARY KEY, patron_id bigint NOT NULL REFERENCES demo.patrons, item_id int NOT NULL,
                           returned timestamptz, paid timestamptz);
CREATE INDEX ON s2.loans_del (patron_id);
CREATE INDEX ON s2.loans_del (item_id);
CREATE TABLE s2.loan_notes (id serial PRIMARY KEY, loan_id int NOT NULL REFERENCES s2.loans_del, note text);
\o /dev/null
SELECT pals_privacy.bind_loans('s2.loans_del', 'patron_id', 'item_id', '{returned}', settled_column => 'paid',
                               sever_with => 'delete', history_mode => 'in_place');
\o
GRANT USAGE ON SCHEMA s2 TO branch_staff, ils_app;
GRANT SELECT, INSERT, UPDATE ON s2.loans_del, s2.loan_notes TO branch_staff, ils_app;
GRANT USAGE ON SEQUENCE s2.loan_notes_id_seq TO branch_staff, ils_app;
-- (item, patron) in order, each returned and paid when the next goes out;
-- item 2's last loan stays open (row 9 its last borrower)
SET ROLE ils_app;
DO $$
DECLARE
    h int[] := ARRAY[[1, 12], [1, 2], [1, 12], [1, 3], [1, 5], [2, 2], [2, 12], [2, 3], [2, 12], [2, 5]];
BEGIN
    FOR i IN 1 .. array_length(h, 1) LOOP
        INSERT INTO s2.loans_del (id, patron_id, item_id) VALUES (i, h[i][2], h[i][1]);
        IF i > 1 AND h[i - 1][1] = h[i][1] THEN
            UPDATE s2.loans_del SET returned = now(), paid = now() WHERE id = i - 1;
        END IF;
    END LOOP;
    UPDATE s2.loans_del SET returned = now(), paid = now() WHERE id = 5;
END $$;
RESET ROLE;

-- Ground truth: per relation, the closed rows whose patron staff do not
-- read, kept (still naming a patron) or severed (named 0, or deleted).
-- Loans are keyed by id and checkout day (the id repeats across years):
-- staff read a hidden row's checkout time truncated to the day
-- (closed_precision, in the binding's zone, this session's).
CREATE TABLE pg_temp.sr2 (rel text, id text, kept boolean);
INSERT INTO pg_temp.sr2
SELECT 'holds', id::text, patron_id <> 0 FROM demo.holds WHERE fulfilled_at IS NOT NULL OR cancelled_at IS NOT NULL;
INSERT INTO pg_temp.sr2
SELECT 'loans', l.id || '/' || extract(epoch FROM date_trunc('day', l.checked_out_at))::bigint, l.patron_id <> 0 FROM demo.loans l
 WHERE l.returned_at IS NOT NULL AND l.fines_settled_at IS NOT NULL
   AND NOT EXISTS (SELECT 1 FROM pals_privacy.last_borrower lb
                    WHERE lb.binding = 'demo.loans'::regclass AND lb.row_relid = l.tableoid AND lb.row_tid = l.ctid);
-- fines (a copy of the loans, sever_with => 'unlink'): of a kept loan (link hidden) or unlinked
INSERT INTO pg_temp.sr2
SELECT 'fines', f.id::text, f.loan_id IS NOT NULL FROM demo.fines f
 WHERE f.loan_id IS NULL
    OR f.loan_id || '/' || extract(epoch FROM date_trunc('day', f.loan_checked_out_at))::bigint IN (SELECT id FROM pg_temp.sr2 WHERE rel = 'loans' AND kept);
INSERT INTO pg_temp.sr2
SELECT 'loans_del', g::text, true FROM generate_series(1, 10) g
 WHERE EXISTS (SELECT 1 FROM s2.loans_del l WHERE l.id = g AND l.returned IS NOT NULL AND l.patron_id <> 0
                  AND NOT EXISTS (SELECT 1 FROM pals_privacy.last_borrower lb
                                   WHERE lb.binding = 's2.loans_del'::regclass AND lb.row_tid = l.ctid));
INSERT INTO pg_temp.sr2
SELECT 'loans_del', g::text, false FROM generate_series(1, 10) g WHERE NOT EXISTS (SELECT 1 FROM s2.loans_del l WHERE l.id = g);
SELECT is((SELECT string_agg(format('%s: %s kept, %s severed', rel, k, s), '; ' ORDER BY rel)
             FROM (SELECT rel, count(*) FILTER (WHERE kept) k, count(*) FILTER (WHERE NOT kept) s FROM pg_temp.sr2 GROUP BY rel) x),
          'fines: 14 kept, 61 severed; holds: 46 kept, 157 severed; loans: 247 kept, 1203 severed; loans_del: 3 kept, 4 severed',
          'ground truth: kept and severed closed rows in each relation');

-- The doors are judged against this truth (pg_temp.split_of and per_row, test/attack/fixture.sql).
CREATE VIEW pg_temp.kept_truth AS SELECT rel, id, kept FROM pg_temp.sr2;

-- A door that reads an order ("id", "pos"): 'mixed' unless one position
-- separates every kept row from every severed one ('separated': a leak).
CREATE FUNCTION pg_temp.order_of(who text, rel text, stmts text[]) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    r jsonb := pg_temp.probe(who, stmts);
    k int4range; s int4range;
BEGIN
    IF r ->> 'err' IS NOT NULL THEN
        RETURN 'error ' || (r ->> 'err');
    END IF;
    SELECT int4range(min((e ->> 'pos')::int) FILTER (WHERE t.kept), max((e ->> 'pos')::int) FILTER (WHERE t.kept), '[]'),
           int4range(min((e ->> 'pos')::int) FILTER (WHERE NOT t.kept), max((e ->> 'pos')::int) FILTER (WHERE NOT t.kept), '[]')
      INTO k, s
      FROM jsonb_array_elements(r -> 'rows') e JOIN pg_temp.sr2 t ON t.rel = order_of.rel AND t.id = e ->> 'id';
    RETURN CASE WHEN k && s THEN 'mixed' ELSE format('separated: kept at %s, severed at %s', k, s) END;
END $$;

-- an IMMUTABLE function the desk may create (TEMPORARY on the database):
-- 42 on its first call, 0 on its second, and so on
\set flip 'CREATE FUNCTION pg_temp.flip() RETURNS bigint LANGUAGE plpgsql IMMUTABLE AS $f$ DECLARE n int := coalesce(nullif(current_setting(''atk.flip'', true), ''''), ''0'')::int; BEGIN PERFORM set_config(''atk.flip'', (n + 1)::text, true); RETURN CASE WHEN n % 2 = 0 THEN 42 ELSE 0 END; END $f$'

------------------------------------------------------------------------------
-- Controls: the ILS reads stored values, so the doors tell kept rows apart
------------------------------------------------------------------------------
SELECT matches(pg_temp.split_of('ils_app', 'holds', ARRAY['SELECT id FROM demo.holds WHERE patron_id = 0']), '^split',
               'control: the ILS''s WHERE patron_id = 0 finds the severed holds, not the kept ones');
SELECT matches(pg_temp.order_of('ils_app', 'holds', ARRAY['SELECT id, row_number() OVER (ORDER BY patron_id = 0, id) AS pos FROM demo.holds WHERE fulfilled_at IS NOT NULL OR cancelled_at IS NOT NULL']),
               '^separated', 'control: the order check flags an order that puts kept rows apart');
SELECT isnt(pg_temp.per_row('ils_app', 'holds', ARRAY['SELECT patron_id = 0 AS ph FROM demo.holds WHERE id = %1$s']), 'alike',
            'control: the per-row check flags a per-row answer that differs');

------------------------------------------------------------------------------
-- Reads: conditions on the placeholder, plans, functions
------------------------------------------------------------------------------
SELECT is(pg_temp.split_of('branch_staff', 'holds', ARRAY['SELECT id FROM demo.holds WHERE patron_id = 0']), 'all',
          'staff: WHERE patron_id = 0 finds kept holds with severed ones');
SELECT is(pg_temp.split_of('branch_staff', 'loans', ARRAY['SELECT id || ''/'' || extract(epoch FROM date_trunc(''day'', checked_out_at))::bigint AS id FROM demo.loans WHERE patron_id = 0']), 'all',
          'staff: WHERE patron_id = 0 finds kept loans with severed ones');
SELECT doesnt_match(pg_temp.split_of('branch_staff', 'holds', ARRAY[:'flip', 'SELECT id FROM demo.holds WHERE patron_id = pg_temp.flip()']), '^(split|error)',
          'staff: WHERE patron_id = f() with an IMMUTABLE f of its own that is 42 on its first call and 0 on its second (all or none found)');
SELECT doesnt_match(pg_temp.split_of('branch_staff', 'loans', ARRAY[:'flip', 'SELECT id || ''/'' || extract(epoch FROM date_trunc(''day'', checked_out_at))::bigint AS id FROM demo.loans WHERE patron_id = pg_temp.flip()']), '^(split|error)',
          'staff: ... on the loans');
SELECT doesnt_match(pg_temp.split_of('report_user', 'holds', ARRAY[:'flip', 'SELECT id FROM demo.holds WHERE patron_id IN (pg_temp.flip(), -1)']), '^(split|error)',
          'report_user: ... as IN (f(), -1)');
SELECT is(pg_temp.split_of('branch_staff', 'holds', ARRAY[
            'CREATE FUNCTION pg_temp.ids_of(p bigint) RETURNS SETOF bigint LANGUAGE plpgsql AS $f$ BEGIN RETURN QUERY SELECT id FROM demo.holds WHERE patron_id = p; END $f$',
            'SELECT count(*) FROM pg_temp.ids_of(0)', 'SELECT count(*) FROM pg_temp.ids_of(0)', 'SELECT count(*) FROM pg_temp.ids_of(0)',
            'SELECT count(*) FROM pg_temp.ids_of(0)', 'SELECT count(*) FROM pg_temp.ids_of(0)', 'SELECT count(*) FROM pg_temp.ids_of(0)',
            'SELECT id FROM pg_temp.ids_of(0) id']), 'all',
          'staff: a PL/pgSQL function''s WHERE patron_id = p, p = 0, on its seventh call (custom plans, then the generic plan)');
SELECT is(pg_temp.split_of('branch_staff', 'holds', ARRAY[
            'SET LOCAL plan_cache_mode = force_generic_plan',
            'CREATE FUNCTION pg_temp.ids_of(p bigint) RETURNS SETOF bigint LANGUAGE plpgsql AS $f$ BEGIN RETURN QUERY SELECT id FROM demo.holds WHERE patron_id = p; END $f$',
            'SELECT id FROM pg_temp.ids_of(0) id']), 'all',
          'staff: ... with plan_cache_mode = force_generic_plan');
SELECT is(pg_temp.split_of('branch_staff', 'holds', ARRAY[
            'SET LOCAL plan_cache_mode = force_custom_plan',
            'CREATE FUNCTION pg_temp.ids_of(p bigint) RETURNS SETOF bigint LANGUAGE plpgsql AS $f$ BEGIN RETURN QUERY EXECUTE ''SELECT id FROM demo.holds WHERE patron_id = $1'' USING p; END $f$',
            'SELECT id FROM pg_temp.ids_of(0) id']), 'all',
          'staff: EXECUTE ... USING 0 (a custom plan, the parameter known)');
SELECT is(pg_temp.split_of('branch_staff', 'holds', ARRAY[
            'CREATE FUNCTION pg_temp.ids_of(p bigint) RETURNS SETOF bigint LANGUAGE sql STABLE AS $f$ SELECT id FROM demo.holds WHERE patron_id = p $f$',
            'SELECT id FROM pg_temp.ids_of(0) id']), 'all',
          'staff: a SQL function (inlinable) WHERE patron_id = p, p = 0');
SELECT is(pg_temp.split_of('branch_staff', 'holds', ARRAY[
            'CREATE FUNCTION pg_temp.ids_of(p bigint) RETURNS SETOF bigint LANGUAGE sql VOLATILE AS $f$ SELECT id FROM demo.holds WHERE patron_id = p $f$',
            'SELECT pg_temp.ids_of(x) AS id FROM (VALUES (9001::bigint), (0)) v (x)']), 'all',
          'staff: a SQL function not inlined, called for 9001 and then 0 in one query');
SELECT is(pg_temp.split_of('branch_staff', 'holds', ARRAY[
            'CREATE FUNCTION pg_temp.ids_of(p bigint) RETURNS SETOF bigint LANGUAGE plpgsql AS $f$ DECLARE c CURSOR (q bigint) FOR SELECT id FROM demo.holds WHERE patron_id = q; r record; BEGIN OPEN c(p); LOOP FETCH c INTO r; EXIT WHEN NOT FOUND; RETURN NEXT r.id; END LOOP; CLOSE c; END $f$',
            'SELECT id FROM pg_temp.ids_of(0) id']), 'all',
          'staff: a bound cursor OPEN c(0) in PL/pgSQL');
SELECT is(pg_temp.split_of('branch_staff', 'holds', ARRAY['SELECT id FROM demo.holds WHERE patron_id = ANY (''{0,9001}'')']), 'all',
          'staff: = ANY (''{0,9001}'')');
SELECT is(pg_temp.split_of('branch_staff', 'holds', ARRAY['SELECT id FROM demo.holds WHERE patron_id IS NOT DISTINCT FROM 0']), 'all',
          'staff: IS NOT DISTINCT FROM 0');
SELECT is(pg_temp.split_of('branch_staff', 'holds', ARRAY['SELECT id FROM demo.holds WHERE NOT (patron_id <> 0)']), 'all',
          'staff: NOT (patron_id <> 0)');
SELECT is(pg_temp.split_of('branch_staff', 'holds', ARRAY['SELECT id FROM demo.holds WHERE patron_id = 0.0 OR patron_id::text LIKE ''0%''']), 'all',
          'staff: numeric = 0.0, text LIKE ''0%''');
SELECT is(pg_temp.split_of('branch_staff', 'holds', ARRAY['SELECT id FROM demo.holds WHERE (patron_id, 1) = (0, 1) AND ARRAY[patron_id] <@ ''{0}'' AND ROW(patron_id) IS NOT DISTINCT FROM ROW(0::bigint)']), 'all',
          'staff: row constructors and arrays');
SELECT is(pg_temp.split_of('branch_staff', 'holds', ARRAY['SELECT h.id FROM demo.holds h JOIN demo.patrons p ON p.id = h.patron_id WHERE p.id = 0']), 'all',
          'staff: joined to the patron table, WHERE p.id = 0 (an equivalence class hands h.patron_id = 0 down)');
SELECT is(pg_temp.split_of('branch_staff', 'holds', ARRAY['SELECT h.id FROM demo.holds h LEFT JOIN demo.patrons p ON p.id = h.patron_id WHERE p.id IS NOT DISTINCT FROM 0']), 'all',
          'staff: an outer join to the patron table');
SELECT is(pg_temp.split_of('branch_staff', 'holds', ARRAY['SELECT unnest(array_agg(id)) AS id FROM demo.holds GROUP BY patron_id HAVING patron_id = 0']), 'all',
          'staff: GROUP BY patron_id HAVING patron_id = 0');
SELECT is(pg_temp.split_of('branch_staff', 'holds', ARRAY['SELECT id FROM (SELECT id, dense_rank() OVER (ORDER BY patron_id) r, count(*) OVER (PARTITION BY patron_id) n FROM demo.holds) x WHERE r = 1']), 'all',
          'staff: window functions over the patron (dense_rank, count by partition)');
SELECT is(pg_temp.split_of('branch_staff', 'holds', ARRAY['SELECT id FROM demo.holds WHERE patron_id = (SELECT min(patron_id) FROM demo.holds)']), 'all',
          'staff: the least patron (a subquery)');

-- PREPARE at the top level: a custom plan for 0, and force_generic_plan
SET ROLE branch_staff;
PREPARE sr2_holds(bigint) AS SELECT id FROM demo.holds WHERE patron_id = $1;
CREATE TEMP TABLE sr2_custom AS EXECUTE sr2_holds(0);
SET plan_cache_mode = force_generic_plan;
CREATE TEMP TABLE sr2_generic AS EXECUTE sr2_holds(0);
RESET plan_cache_mode;
DEALLOCATE sr2_holds;
RESET ROLE;
SELECT is(pg_temp.split_of('superuser', 'holds', ARRAY['SELECT id FROM pg_temp.sr2_custom']), 'all',
          'staff: PREPARE ... WHERE patron_id = $1, EXECUTE (0): a custom plan');
SELECT is(pg_temp.split_of('superuser', 'holds', ARRAY['SELECT id FROM pg_temp.sr2_generic']), 'all',
          'staff: ... and the generic plan (plan_cache_mode = force_generic_plan)');

------------------------------------------------------------------------------
-- One row at a time: errors, estimates, system columns, own triggers
------------------------------------------------------------------------------
SELECT is(pg_temp.per_row('branch_staff', 'holds', ARRAY['SELECT 1 / patron_id AS r FROM demo.holds WHERE id = %1$s']), 'alike',
          'staff: division by the patron (by zero on both)');
SELECT is(pg_temp.per_row('branch_staff', 'holds', ARRAY['SELECT patron_id, to_jsonb(h) -> ''patron_id'' AS whole, h.patron_id IS DISTINCT FROM 0 AS not_ph, ctid, xmin, xmax, cmin FROM demo.holds h WHERE id = %1$s']), 'alike',
          'staff: the patron, the whole row, system columns');
SELECT is(pg_temp.per_row('branch_staff', 'holds', ARRAY['EXPLAIN SELECT * FROM demo.holds WHERE id = (SELECT %1$s) AND patron_id = 0', 'EXPLAIN SELECT * FROM demo.holds WHERE id = (SELECT %1$s) AND patron_id <> 0']), 'alike',
          'staff: EXPLAIN of the row with patron_id = 0 and <> 0 (plans and rows=)');
SELECT is(pg_temp.per_row('branch_staff', 'holds', ARRAY['CREATE TEMP TABLE u (p bigint PRIMARY KEY)', 'INSERT INTO u VALUES (0)',
                                                           'INSERT INTO u SELECT patron_id FROM demo.holds WHERE id = %1$s']), 'alike',
          'staff: a unique key of its own on the patron read (a unique violation on both)');
SELECT is(pg_temp.per_row('branch_staff', 'holds', ARRAY['CREATE TEMP TABLE t (id bigint, p bigint)',
                                                           'CREATE FUNCTION pg_temp.tg() RETURNS trigger LANGUAGE plpgsql AS $f$ BEGIN NEW.p := coalesce(NEW.p, -1) * 10; RETURN NEW; END $f$',
                                                           'CREATE TRIGGER tg BEFORE INSERT ON t FOR EACH ROW EXECUTE FUNCTION pg_temp.tg()',
                                                           'INSERT INTO t SELECT id, patron_id FROM demo.holds WHERE id = %1$s', 'SELECT p FROM t']), 'alike',
          'staff: a trigger on a table of its own sees what it reads');

------------------------------------------------------------------------------
-- Writes a desk may do
------------------------------------------------------------------------------
SELECT is(pg_temp.split_of('branch_staff', 'holds', ARRAY['UPDATE demo.holds SET pickup_library_id = pickup_library_id WHERE patron_id = 0 RETURNING id']), 'none',
          'staff: UPDATE holds ... WHERE patron_id = 0 RETURNING id reaches neither kept nor severed closed holds');
SELECT is(pg_temp.split_of('report_user', 'holds', ARRAY['UPDATE demo.holds SET pickup_library_id = pickup_library_id RETURNING id']), 'none',
          'report_user: UPDATE holds (every row) RETURNING id');
SELECT is(pg_temp.split_of('branch_staff', 'holds', ARRAY['SELECT id FROM demo.holds WHERE patron_id = 0 FOR KEY SHARE']), 'none',
          'staff: SELECT ... FOR KEY SHARE (a lock reaches rows read whole)');
SELECT is(pg_temp.per_row('branch_staff', 'holds', ARRAY['INSERT INTO demo.holds (id, patron_id, title_id, pickup_library_id, placed_at) VALUES (%1$s, 5, 90001, 1, now())
                                                            ON CONFLICT (id) DO UPDATE SET pickup_library_id = excluded.pickup_library_id RETURNING ''written'' AS r']), 'alike',
          'staff: INSERT ... ON CONFLICT (id) DO UPDATE on a closed hold');
SELECT is(pg_temp.split_of('branch_staff', 'loans', ARRAY['UPDATE demo.loans SET library_id = library_id WHERE patron_id = 0 RETURNING id || ''/'' || extract(epoch FROM date_trunc(''day'', checked_out_at))::bigint AS id']), 'none',
          'staff: UPDATE loans ... RETURNING (the settled time is masked on both)');
SELECT is(pg_temp.split_of('branch_staff', 'fines', ARRAY['SELECT id FROM demo.fines WHERE loan_id IS NULL']), 'all',
          'staff: fines whose link reads NULL: unlinked ones and those of kept loans');
SELECT is(pg_temp.split_of('branch_staff', 'fines', ARRAY['UPDATE demo.fines SET amount = amount WHERE loan_id IS NULL RETURNING id']), 'none',
          'staff: UPDATE fines ... WHERE loan_id IS NULL RETURNING (the charge time is hidden on both)');

------------------------------------------------------------------------------
-- Storage order (no ORDER BY): the backlog writes kept rows with severed ones
------------------------------------------------------------------------------
-- docs/redaction.md "Limits" had it: severing rewrote a row and keeping one
-- did not, so a scan without ORDER BY returned the kept rows first.  The
-- backlog now writes the rows it keeps again, in the statement that severs
-- the others of their range, in TID order (sever_backlog(reorder => true),
-- the default): new versions of both, interleaved.
SELECT is(pg_temp.order_of('branch_staff', 'holds', ARRAY['SELECT id, row_number() OVER () AS pos FROM demo.holds WHERE patron_id = 0']), 'mixed',
          'staff: a plain scan returns the kept holds among the severed ones (storage order)');
SELECT is(pg_temp.order_of('report_user', 'loans', ARRAY['SELECT id || ''/'' || extract(epoch FROM date_trunc(''day'', checked_out_at))::bigint AS id, row_number() OVER () AS pos FROM ONLY demo.loans_2025 WHERE patron_id = 0']), 'mixed',
          'report_user: ... the loans of one partition');
SELECT is(pg_temp.order_of('branch_staff', 'holds', ARRAY['SELECT id, row_number() OVER () AS pos FROM demo.holds TABLESAMPLE SYSTEM (100) REPEATABLE (1) WHERE patron_id = 0']), 'mixed',
          'staff: ... through TABLESAMPLE');
SELECT is(pg_temp.order_of('branch_staff', 'fines', ARRAY['SELECT id, row_number() OVER () AS pos FROM demo.fines WHERE loan_id IS NULL']), 'mixed',
          'staff: ... the fines whose link reads NULL (unlinking rewrites a fine)');
SELECT is(pg_temp.order_of('branch_staff', 'holds', ARRAY['SELECT id, row_number() OVER (ORDER BY patron_id, id) AS pos FROM demo.holds WHERE patron_id = 0']), 'mixed',
          'staff: ORDER BY patron_id, id (a key to break ties)');

------------------------------------------------------------------------------
-- sever_with => 'delete': staff read no closed row whose patron they do not read
------------------------------------------------------------------------------
SELECT is(pg_temp.split_of('branch_staff', 'loans_del', ARRAY['SELECT id FROM s2.loans_del']), 'none',
          'staff, ''delete'': neither kept nor deleted closed rows are read');
SELECT matches(pg_temp.split_of('ils_app', 'loans_del', ARRAY['SELECT id FROM s2.loans_del']), '^split',
               'control, ''delete'': the ILS reads the kept rows');
SELECT is(pg_temp.split_of('branch_staff', 'loans_del', ARRAY['UPDATE s2.loans_del SET item_id = item_id WHERE returned IS NULL OR id IN (1, 2, 3, 4, 6, 7, 8) RETURNING id',
                                                              'SELECT id FROM s2.loans_del WHERE patron_id = 12 FOR KEY SHARE']), 'none',
          'staff, ''delete'': UPDATE ... RETURNING, FOR KEY SHARE');
SELECT is(pg_temp.probe('branch_staff', ARRAY['UPDATE s2.loans_del SET item_id = item_id WHERE id IN (5, 9) RETURNING id']),
          '{"err": null, "rows": [{"id": 5}, {"id": 9}], "check": null}',
          'staff, ''delete'': a desk still updates the rows of the items'' last borrowers, which it reads whole (as on the other bindings)');
SELECT is(pg_temp.probe('branch_staff', ARRAY['UPDATE s2.loans_del SET returned = now(), paid = now() WHERE id = 10 RETURNING id']),
          '{"err": null, "rows": [{"id": 10}], "check": null}',
          'staff, ''delete'': a desk still returns a loan and takes its fine in one write (as on the other bindings)');
-- Known limit (docs/redaction.md "Limits", keys): a unique key or a foreign
-- key is checked on the stored rows, so a kept row of a 'delete' binding
-- still holds its key where a deleted one no longer does.  Asserted as it
-- stands; when closed, assert 'alike'.
SELECT matches(pg_temp.per_row('branch_staff', 'loans_del', ARRAY['INSERT INTO s2.loans_del (id, patron_id, item_id) VALUES (%1$s, 5, 99) RETURNING ''written'' AS r']), '^kept: 23505',
          'staff, ''delete'': known limit: INSERT with the id of a kept row fails on the primary key, with a deleted one it succeeds');
SELECT matches(pg_temp.per_row('branch_staff', 'loans_del', ARRAY['INSERT INTO s2.loans_del (id, patron_id, item_id) VALUES (%1$s, 5, 99) ON CONFLICT DO NOTHING RETURNING ''written'' AS r']), '^kept: \[\]',
          'staff, ''delete'': known limit: ... ON CONFLICT DO NOTHING');
SELECT matches(pg_temp.per_row('branch_staff', 'loans_del', ARRAY['INSERT INTO s2.loan_notes (loan_id, note) VALUES (%1$s, ''call the patron'') RETURNING ''written'' AS r']), 'severed: 23503',
          'staff, ''delete'': known limit: a note on a kept loan is written, on a deleted one the foreign key refuses it');

SELECT * FROM finish();
\set ECHO none
\i test/attack/done.sql
