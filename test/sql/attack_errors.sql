-- Attack catalogue: error oracles, unbound inheritance ancestors, writes of
-- a logged-in patron for other patrons, masks written back to a nullable
-- patron column, statistics read across transactions, auto_explain, prepared
-- statements across SET ROLE (issue 13, classes 2, 3, 4, 7, 8, 10).
-- See test/attack/fixture.sql.
\set atk_db attack_errors
\set ECHO none
\i test/attack/fixture.sql
\set ECHO all
-- A billable-transaction parent the ILS never bound, and a bound child that
-- inherits its patron column: 9001 has 20 hidden (closed, settled) rows.
\set ECHO none
CREATE TABLE demo.billable (id bigint PRIMARY KEY, borrower bigint NOT NULL REFERENCES demo.patrons (id), amount numeric(10,2));
CREATE TABLE demo.billable_loans (item_id bigint NOT NULL, returned_at timestamptz, settled_at timestamptz,
                                  PRIMARY KEY (id)) INHERITS (demo.billable);
INSERT INTO demo.billable_loans (id, borrower, amount, item_id, returned_at, settled_at)
SELECT g, CASE WHEN g <= 20 THEN 9001 ELSE 1 + g % 50 END, 1.00, 90001 + g % 5,
       timestamptz '2025-01-01' + make_interval(days => g), timestamptz '2025-01-01' + make_interval(days => g)
  FROM generate_series(1, 60) g;
GRANT SELECT ON demo.billable, demo.billable_loans TO branch_staff, consortium_auditor, collections_agency, opac, ils_app;
SELECT pals_privacy.bind_loans('demo.billable_loans', 'borrower', 'item_id', ARRAY['returned_at']::name[],
                               settled_column => 'settled_at', sever_with => 'patron:0', build_tracker => false) IS NULL AS bound;
ANALYZE demo.billable, demo.billable_loans;
INSERT INTO pg_temp.secrets
SELECT c, 'billable', b.id, b.borrower FROM demo.billable_loans b, unnest(ARRAY['staff', 'auditor', 'collections', 'patron']) c
 WHERE b.borrower <> 0;
-- A two-level ancestry the ILS never bound (transactions -> billable
-- transactions -> loans, only the loans bound), a child of the bound table
-- created after binding, and an unbound partitioned table with one bound
-- partition: 9001's closed, settled rows in each.
CREATE TABLE demo.txn (id bigint PRIMARY KEY, borrower bigint NOT NULL, amount numeric(10,2));
CREATE TABLE demo.txn_billable () INHERITS (demo.txn);
CREATE TABLE demo.txn_loans (item_id bigint NOT NULL, returned_at timestamptz, settled_at timestamptz) INHERITS (demo.txn_billable);
INSERT INTO demo.txn_loans (id, borrower, amount, item_id, returned_at, settled_at)
SELECT g, 9001, 1, 90001 + g % 5, timestamptz '2025-01-01' + make_interval(days => g), timestamptz '2025-01-01' + make_interval(days => g)
  FROM generate_series(1, 10) g;
SELECT pals_privacy.bind_loans('demo.txn_loans', 'borrower', 'item_id', ARRAY['returned_at']::name[],
                               settled_column => 'settled_at', sever_with => 'patron:0') IS NOT NULL AS bound;
CREATE TABLE demo.txn_loans_archive () INHERITS (demo.txn_loans);
INSERT INTO demo.txn_loans_archive (id, borrower, amount, item_id) SELECT 100 + g, 9001, 1, 90009 FROM generate_series(1, 5) g;
CREATE TABLE demo.old_loans (id bigint NOT NULL, patron_id bigint NOT NULL, item_id bigint NOT NULL,
                             returned_at timestamptz, settled_at timestamptz, y int NOT NULL) PARTITION BY LIST (y);
CREATE TABLE demo.old_loans_2024 PARTITION OF demo.old_loans FOR VALUES IN (2024);
INSERT INTO demo.old_loans SELECT 200 + g, 9001, 90001 + g % 5, timestamptz '2024-01-01' + make_interval(days => g),
       timestamptz '2024-01-01' + make_interval(days => g), 2024 FROM generate_series(1, 10) g;
SELECT pals_privacy.bind_loans('demo.old_loans_2024', 'patron_id', 'item_id', ARRAY['returned_at']::name[],
                               settled_column => 'settled_at', sever_with => 'patron:0', build_tracker => false) IS NOT NULL AS bound;
GRANT SELECT, UPDATE ON demo.txn, demo.txn_billable, demo.txn_loans, demo.txn_loans_archive, demo.old_loans, demo.old_loans_2024
   TO branch_staff, ils_app, consortium_auditor;
INSERT INTO pg_temp.secrets SELECT 'staff', 'txn', t.id, t.borrower FROM demo.txn_loans t
 WHERE t.returned_at IS NOT NULL AND t.settled_at IS NOT NULL AND t.borrower <> 0
   AND NOT EXISTS (SELECT 1 FROM pals_privacy.last_borrower lb WHERE lb.row_relid = t.tableoid AND lb.row_tid = t.ctid);
INSERT INTO pg_temp.secrets SELECT 'auditor', 'txn', id, borrower FROM demo.txn WHERE borrower <> 0;
INSERT INTO pg_temp.secrets SELECT c, 'old_loans', id, patron_id FROM demo.old_loans, unnest(ARRAY['staff', 'auditor']) c
 WHERE patron_id <> 0;
\set ECHO all
SELECT plan(47);

------------------------------------------------------------------------------
-- A logged-in patron (9011) writing for other patrons (class 10)
------------------------------------------------------------------------------
\set ECHO none
SELECT pg_temp.no_damage('cancel another patron''s hold', 'patron',
    ARRAY['UPDATE demo.holds SET cancelled_at = now() WHERE id = 90004'],
    'SELECT cancelled_at IS NULL FROM demo.holds WHERE id = 90004');
SELECT pg_temp.no_damage('delete another patron''s reading history', 'patron',
    ARRAY['DELETE FROM demo.reading_history WHERE patron_id = 9012'],
    'SELECT count(*) FROM demo.reading_history WHERE patron_id = 9012');
SELECT pg_temp.attempt('write another patron''s hold ... RETURNING its patron', 'patron',
    ARRAY['UPDATE demo.holds SET placed_at = placed_at WHERE id IN (90003, 90004) RETURNING id, patron_id'], 'holds');
SELECT pg_temp.attempt('write another patron''s history ... RETURNING', 'patron',
    ARRAY['UPDATE demo.reading_history SET note = note WHERE patron_id = 9012 RETURNING id, patron_id'], 'reading_history');
SELECT pg_temp.attempt('a data-modifying CTE on the holds ... RETURNING', 'patron',
    ARRAY['WITH u AS (UPDATE demo.holds SET placed_at = placed_at RETURNING id, patron_id) SELECT * FROM u'], 'holds');
\set ECHO all

------------------------------------------------------------------------------
-- Staff writes selecting hidden rows by a guessed patron
------------------------------------------------------------------------------
\set ECHO none
SELECT pg_temp.attempt('UPDATE ... FROM (guesses) WHERE patron_id = guess ... RETURNING', 'staff',
    ARRAY['UPDATE demo.loans l SET due_at = due_at FROM (SELECT generate_series(9000::bigint, 9020) g) v
            WHERE l.patron_id = v.g RETURNING l.id, v.g AS patron_id']);
SELECT pg_temp.attempt('UPDATE ... WHERE patron_id IN (guesses) ... RETURNING', 'staff',
    ARRAY['UPDATE demo.loans SET due_at = due_at WHERE patron_id IN (9001, 9012) RETURNING id, patron_id']);
SELECT pg_temp.attempt('ILL requests: UPDATE ... WHERE patron_id = guess ... RETURNING', 'staff',
    ARRAY['UPDATE demo.ill_requests SET note = note WHERE patron_id = 9001 RETURNING id, patron_id'], 'ill_requests');
\set ECHO all

------------------------------------------------------------------------------
-- A plan prepared by the operational role, executed after SET ROLE staff
------------------------------------------------------------------------------
SET ROLE ils_app;
PREPARE atk_pre AS SELECT id, patron_id FROM demo.loans WHERE item_id = 90001;
DECLARE atk_hold CURSOR WITH HOLD FOR SELECT 1;
CLOSE atk_hold;
RESET ROLE;
SELECT ok(pg_temp.leaked('staff', 'loans', pg_temp.probe('ils_app', ARRAY['EXECUTE atk_pre'])) > 0
          AND pg_temp.leaked('staff', 'loans', pg_temp.probe('branch_staff', ARRAY['EXECUTE atk_pre'])) = 0,
          'staff: a statement the operational role prepared, executed after SET ROLE');
SELECT ok(pg_temp.leaked('auditor', 'loans', pg_temp.probe('consortium_auditor', ARRAY['EXECUTE atk_pre'])) = 0,
          'auditor: a statement the operational role prepared, executed after SET ROLE');
DEALLOCATE atk_pre;

------------------------------------------------------------------------------
-- auto_explain with log_analyze: no LOG line may reach a staff session
------------------------------------------------------------------------------
LOAD 'auto_explain';
SET auto_explain.log_min_duration = 0;
SET auto_explain.log_analyze = on;
SET auto_explain.log_nested_statements = on;
-- (each probe answers 'done' whether it ran or was refused: any LOG line
-- sent to the client would show in the expected output)
CREATE FUNCTION pg_temp.quiet(sql text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE sql;
    RETURN 'done';
EXCEPTION WHEN insufficient_privilege THEN
    RETURN 'done';
END $$;
CREATE TABLE pg_temp.ae_counts (what text, n text);
GRANT ALL ON pg_temp.ae_counts TO PUBLIC;
SET ROLE branch_staff;
SET client_min_messages = log;
SELECT pg_temp.quiet('INSERT INTO pg_temp.ae_counts SELECT ''loans'', count(*) FROM demo.loans WHERE patron_id = 9001') AS probe;
SELECT pg_temp.quiet('INSERT INTO pg_temp.ae_counts SELECT ''history'', count(*) FROM demo.reading_history WHERE patron_id = 9001') AS probe;
RESET client_min_messages;
SET client_min_messages = warning;
RESET ROLE;
RESET auto_explain.log_min_duration;
SELECT is((SELECT count(*) FROM pg_temp.ae_counts WHERE n <> '0'), 0::bigint,
          'staff: with auto_explain log_analyze, a query on 9001 counts nothing hidden (or is refused), and no LOG line reached the session');


------------------------------------------------------------------------------
-- Unbound inheritance ancestors (class 7)
------------------------------------------------------------------------------
\set ECHO none
SELECT pg_temp.attempt('SELECT borrower FROM the unbound parent', c,
    ARRAY['SELECT id, borrower AS patron_id FROM demo.billable'], 'billable')
  FROM unnest(ARRAY['staff', 'auditor', 'collections', 'patron']) c;
SELECT pg_temp.indist('count(*) FROM the unbound parent WHERE borrower IN (N)', c,
    ARRAY['SELECT count(*) FROM demo.billable WHERE borrower IN (%1$s)'])
  FROM unnest(ARRAY['staff', 'auditor', 'collections', 'patron']) c;
SELECT pg_temp.attempt('pg_stats of the unbound parent (inheritance statistics)', c,
    ARRAY['SELECT DISTINCT v::bigint AS seen_patron FROM pg_stats s,
                  unnest(coalesce(s.most_common_vals::text::text[], ''{}'') || coalesce(s.histogram_bounds::text::text[], ''{}'')) v
            WHERE s.schemaname = ''demo'' AND s.tablename = ''billable'' AND s.attname = ''borrower'''], 'loans', 'superuser')
  FROM unnest(ARRAY['staff', 'auditor', 'collections']) c;
\set ECHO all
SET ROLE branch_staff;
-- the number of 9001's rows read through the parent by COPY: 0 (or refused)
COPY (SELECT count(*) FROM demo.billable WHERE borrower = 9001) TO STDOUT;
COPY (SELECT count(*) FROM demo.billable WHERE borrower IS NOT NULL AND id <= 20) TO STDOUT;
RESET ROLE;

------------------------------------------------------------------------------
-- Foreign-key error oracles: changing a patron's id (class 8)
------------------------------------------------------------------------------
\set ECHO none
SELECT pg_temp.indist('UPDATE patrons SET id = ... of a patron with hidden loans', 'staff',
    ARRAY['UPDATE demo.patrons SET id = id + 100000 WHERE id = %1$s']);
SELECT pg_temp.indist('UPDATE patrons SET id = ... of a patron with private history only', 'staff',
    ARRAY['UPDATE demo.patrons SET id = id + 100000 WHERE id = %1$s'], '9003', '9002');
SELECT pg_temp.indist('UPDATE patrons SET id = ... inside a savepoint, the error caught by PL/pgSQL', 'staff',
    ARRAY['CREATE FUNCTION pg_temp.atk_fk(p bigint) RETURNS text LANGUAGE plpgsql AS $f$
           BEGIN UPDATE demo.patrons SET id = id + 100000 WHERE id = p; RETURN ''moved'';
           EXCEPTION WHEN OTHERS THEN RETURN SQLSTATE; END $f$',
          'SELECT pg_temp.atk_fk(%1$s)']);
\set ECHO all

------------------------------------------------------------------------------
-- Masks written back: SET patron_id = patron_id on a nullable patron column
-- (demo.ill_requests) stores NULL over the hidden patron (class 2)
------------------------------------------------------------------------------
\set ECHO none
SELECT pg_temp.no_damage('ILL requests: UPDATE SET patron_id = patron_id keeps the hidden patron', 'staff',
    ARRAY['UPDATE demo.ill_requests SET patron_id = patron_id, note = ''seen'''],
    'SELECT string_agg(id || '':'' || coalesce(patron_id::text, ''-''), '','' ORDER BY id) FROM demo.ill_requests',
    'ils_app', ARRAY['UPDATE demo.ill_requests SET patron_id = NULL, note = ''seen''']);
SELECT pg_temp.no_damage('ILL requests: INSERT ... ON CONFLICT DO UPDATE SET patron_id = the existing row''s keeps it', 'staff',
    ARRAY['INSERT INTO demo.ill_requests (id, title_id, requested_at) SELECT id, title_id, requested_at FROM demo.ill_requests
           ON CONFLICT (id) DO UPDATE SET patron_id = demo.ill_requests.patron_id, note = ''seen'''],
    'SELECT string_agg(id || '':'' || coalesce(patron_id::text, ''-''), '','' ORDER BY id) FROM demo.ill_requests',
    'ils_app', ARRAY['UPDATE demo.ill_requests SET patron_id = NULL']);
SELECT pg_temp.attempt('ILL requests: reopen (closed_at = NULL) ... RETURNING', 'staff',
    ARRAY['UPDATE demo.ill_requests SET closed_at = NULL RETURNING id, patron_id'], 'ill_requests');
\set ECHO all

------------------------------------------------------------------------------
-- A logged-in patron (9011) writing for other patrons (class 10)
------------------------------------------------------------------------------
\set ECHO none
SELECT pg_temp.no_damage('INSERT a hold for another patron', 'patron',
    ARRAY['INSERT INTO demo.holds (patron_id, title_id, pickup_library_id, placed_at) VALUES (9012, 90001, 1, now())'],
    'SELECT count(*) FROM demo.holds WHERE patron_id = 9012');
SELECT pg_temp.no_damage('INSERT ... RETURNING a hold for another patron', 'patron',
    ARRAY['INSERT INTO demo.holds (patron_id, title_id, pickup_library_id, placed_at) VALUES (9012, 90002, 1, now()) RETURNING id'],
    'SELECT count(*) FROM demo.holds WHERE patron_id = 9012');
SELECT pg_temp.no_damage('move an own hold to another patron', 'patron',
    ARRAY['UPDATE demo.holds SET patron_id = 9012 WHERE id = 90005'],
    'SELECT patron_id FROM demo.holds WHERE id = 90005');
SELECT pg_temp.no_damage('move own reading history to another patron', 'patron',
    ARRAY['UPDATE demo.reading_history SET patron_id = 9012 WHERE patron_id = 9011'],
    'SELECT count(*) FROM demo.reading_history WHERE patron_id = 9011');
SELECT pg_temp.no_damage('INSERT reading history for another patron', 'patron',
    ARRAY['INSERT INTO demo.reading_history (patron_id, title_id, read_at) VALUES (9012, 90001, now())'],
    'SELECT count(*) FROM demo.reading_history WHERE patron_id = 9012');
SELECT pg_temp.no_damage('INSERT ... ON CONFLICT DO UPDATE moving a hold to another patron', 'patron',
    ARRAY['INSERT INTO demo.holds (id, patron_id, title_id, pickup_library_id, placed_at) VALUES (90005, 9011, 90002, 2, now())
           ON CONFLICT (id) DO UPDATE SET patron_id = 9012'],
    'SELECT patron_id FROM demo.holds WHERE id = 90005');
\set ECHO all

------------------------------------------------------------------------------
-- Statistics counters read across transactions: pg_stat_user_indexes
-- idx_tup_read and pg_statio_user_indexes after a probe on patron_id, the
-- counters flushed in between (class 4)
------------------------------------------------------------------------------
CREATE FUNCTION pg_temp.idx_counters() RETURNS text LANGUAGE sql AS $$
    SELECT coalesce(sum(i.idx_tup_read)::text, 'hidden') || '/' || coalesce(sum(i.idx_tup_fetch)::text, 'hidden') || '/'
           || coalesce(sum(io.idx_blks_read + io.idx_blks_hit)::text, 'hidden')
      FROM pg_stat_user_indexes i JOIN pg_statio_user_indexes io USING (indexrelid)
     WHERE i.schemaname = 'demo' AND (i.relname LIKE 'loans%' OR i.relname IN ('reading_history', 'holds'))
$$;
CREATE TABLE pg_temp.counters (who text, patron bigint, step int, v text);
GRANT ALL ON pg_temp.counters TO PUBLIC;
\set ECHO none
SELECT pg_stat_force_next_flush();
\o /dev/null
SELECT pg_stat_force_next_flush();
\o
\set ECHO all
-- each probe: read the counters (as the prober), probe in its own
-- transaction, flush, read them again
\set ECHO none
\o /dev/null
SET ROLE branch_staff;
INSERT INTO pg_temp.counters SELECT 'staff', 9001, 0, pg_temp.idx_counters(); SET enable_seqscan = off;
SELECT count(*) FROM demo.loans WHERE patron_id = 9001; SELECT count(*) FROM demo.reading_history WHERE patron_id = 9001;
SELECT count(*) FROM demo.holds WHERE patron_id = 9001;
RESET enable_seqscan; RESET ROLE; SELECT pg_stat_force_next_flush();
SET ROLE branch_staff; INSERT INTO pg_temp.counters SELECT 'staff', 9001, 1, pg_temp.idx_counters(); RESET ROLE;
SET ROLE branch_staff;
INSERT INTO pg_temp.counters SELECT 'staff', 9002, 0, pg_temp.idx_counters(); SET enable_seqscan = off;
SELECT count(*) FROM demo.loans WHERE patron_id = 9002; SELECT count(*) FROM demo.reading_history WHERE patron_id = 9002;
SELECT count(*) FROM demo.holds WHERE patron_id = 9002;
RESET enable_seqscan; RESET ROLE; SELECT pg_stat_force_next_flush();
SET ROLE branch_staff; INSERT INTO pg_temp.counters SELECT 'staff', 9002, 1, pg_temp.idx_counters(); RESET ROLE;
SET ROLE ils_app;
INSERT INTO pg_temp.counters SELECT 'ils_app', 9001, 0, pg_temp.idx_counters(); SET enable_seqscan = off;
SELECT count(*) FROM demo.loans WHERE patron_id = 9001; SELECT count(*) FROM demo.reading_history WHERE patron_id = 9001;
SELECT count(*) FROM demo.holds WHERE patron_id = 9001;
RESET enable_seqscan; RESET ROLE; SELECT pg_stat_force_next_flush();
SET ROLE ils_app; INSERT INTO pg_temp.counters SELECT 'ils_app', 9001, 1, pg_temp.idx_counters(); RESET ROLE;
SET ROLE ils_app;
INSERT INTO pg_temp.counters SELECT 'ils_app', 9002, 0, pg_temp.idx_counters(); SET enable_seqscan = off;
SELECT count(*) FROM demo.loans WHERE patron_id = 9002; SELECT count(*) FROM demo.reading_history WHERE patron_id = 9002;
SELECT count(*) FROM demo.holds WHERE patron_id = 9002;
RESET enable_seqscan; RESET ROLE; SELECT pg_stat_force_next_flush();
SET ROLE ils_app; INSERT INTO pg_temp.counters SELECT 'ils_app', 9002, 1, pg_temp.idx_counters(); RESET ROLE;
\o
CREATE FUNCTION pg_temp.d(a text, b text) RETURNS text LANGUAGE sql AS $$
    SELECT CASE WHEN a ~ '^[0-9]+$' AND b ~ '^[0-9]+$' THEN (a::bigint - b::bigint)::text ELSE a || '-' || b END
$$;
CREATE FUNCTION pg_temp.counter_delta(who text, p bigint) RETURNS text LANGUAGE sql AS $$
    SELECT pg_temp.d(split_part(a.v, '/', 1), split_part(b.v, '/', 1)) || '/' ||
           pg_temp.d(split_part(a.v, '/', 2), split_part(b.v, '/', 2)) || '/' ||
           pg_temp.d(split_part(a.v, '/', 3), split_part(b.v, '/', 3))
      FROM pg_temp.counters a, pg_temp.counters b
     WHERE a.who = $1 AND b.who = $1 AND a.patron = $2 AND b.patron = $2 AND a.step = 1 AND b.step = 0
$$;
\set ECHO all
SELECT ok(pg_temp.counter_delta('ils_app', 9001) <> pg_temp.counter_delta('ils_app', 9002)
          AND pg_temp.counter_delta('staff', 9001) = pg_temp.counter_delta('staff', 9002),
          'staff: pg_stat_user_indexes / pg_statio_user_indexes after probes on patron_id, across transactions')
    || CASE WHEN pg_temp.counter_delta('staff', 9001) = pg_temp.counter_delta('staff', 9002) THEN ''
            ELSE E'\n' || diag('    LEAK: read/fetch/blocks ' || pg_temp.counter_delta('staff', 9001) || ' for 9001, '
                               || pg_temp.counter_delta('staff', 9002) || ' for 9002') END;

------------------------------------------------------------------------------
-- Deeper ancestry: a grandparent, a child created after binding, an unbound
-- partitioned table over a bound partition (class 7)
------------------------------------------------------------------------------
\set ECHO none
SELECT pg_temp.attempt('a grandparent of the bound table', c, ARRAY['SELECT id, borrower AS patron_id FROM demo.txn'], 'txn')
  FROM unnest(ARRAY['staff', 'auditor']) c;
SELECT pg_temp.attempt('the unbound middle parent', 'staff', ARRAY['SELECT id, borrower AS patron_id FROM demo.txn_billable'], 'txn');
SELECT pg_temp.attempt('the grandparent, FOR UPDATE', 'staff', ARRAY['SELECT id, borrower AS patron_id FROM demo.txn FOR UPDATE'], 'txn');
SELECT pg_temp.attempt('the grandparent, to_jsonb of its rows', 'staff',
    ARRAY['SELECT (to_jsonb(t) ->> ''id'')::bigint AS id, (to_jsonb(t) ->> ''borrower'')::bigint AS patron_id FROM demo.txn t'], 'txn');
SELECT pg_temp.attempt('UPDATE through the grandparent ... RETURNING', 'staff',
    ARRAY['UPDATE demo.txn SET amount = amount RETURNING id, borrower AS patron_id'], 'txn');
SELECT pg_temp.attempt('UPDATE the middle parent SET borrower = borrower ... RETURNING', 'staff',
    ARRAY['UPDATE demo.txn_billable SET borrower = borrower RETURNING id, borrower AS patron_id'], 'txn');
SELECT pg_temp.attempt('a child created after binding, directly', 'auditor',
    ARRAY['SELECT id, borrower AS patron_id FROM demo.txn_loans_archive'], 'txn');
SELECT pg_temp.attempt('a child created after binding, through the grandparent', 'auditor',
    ARRAY['SELECT id, borrower AS patron_id FROM demo.txn WHERE id > 100'], 'txn');
SELECT pg_temp.attempt('an unbound partitioned table over a bound partition', c,
    ARRAY['SELECT id, patron_id FROM demo.old_loans'], 'old_loans')
  FROM unnest(ARRAY['staff', 'auditor']) c;
SELECT pg_temp.attempt('an unbound partitioned table over a bound partition: UPDATE ... RETURNING', 'staff',
    ARRAY['UPDATE demo.old_loans SET settled_at = NULL RETURNING id, patron_id'], 'old_loans');
\set ECHO all

SELECT * FROM finish();
\set ECHO none
\i test/attack/done.sql
