-- test/attack/side.sql: side channels (issue 13, classes 3-6), included by
-- test/sql/attack_side.sql before sever_backlog() and after it (history kept
-- in place).  Each is an oracle: %1$s is patron 9001 (A: 45 hidden loans,
-- hidden holds, 30 rows of private history) or 9002 (B: nothing); the
-- attacker must get the same answer for both, the operational control not.
-- EXPLAIN ANALYZE by other doors (class 3): "did A borrow item 90001?"
SELECT pg_temp.indist(:'phase' || 'EXPLAIN ANALYZE CREATE TABLE AS SELECT', 'staff',
    ARRAY['EXPLAIN (ANALYZE, COSTS off, TIMING off, SUMMARY off)
           CREATE TEMP TABLE atk_t AS SELECT * FROM demo.loans WHERE patron_id = %1$s']);
SELECT pg_temp.indist(:'phase' || 'EXPLAIN ANALYZE in a PL/pgSQL function (RETURN QUERY EXECUTE)', 'staff',
    ARRAY['CREATE FUNCTION pg_temp.atk_x(q text) RETURNS SETOF text LANGUAGE plpgsql AS $f$
           BEGIN RETURN QUERY EXECUTE ''EXPLAIN (ANALYZE, COSTS off, TIMING off, SUMMARY off) '' || q; END $f$',
          'SELECT * FROM pg_temp.atk_x(''SELECT * FROM demo.loans WHERE patron_id = %1$s'')']);
SELECT pg_temp.indist(:'phase' || 'EXPLAIN ANALYZE through a PL/pgSQL cursor (OPEN ... FOR EXECUTE)', 'staff',
    ARRAY['CREATE FUNCTION pg_temp.atk_c(q text) RETURNS SETOF text LANGUAGE plpgsql AS $f$
           DECLARE c refcursor; l text;
           BEGIN
               OPEN c FOR EXECUTE ''EXPLAIN (ANALYZE, COSTS off, TIMING off, SUMMARY off) '' || q;
               LOOP FETCH c INTO l; EXIT WHEN NOT FOUND; RETURN NEXT l; END LOOP;
               CLOSE c;
           END $f$',
          'SELECT * FROM pg_temp.atk_c(''SELECT * FROM demo.loans WHERE patron_id = %1$s AND item_id = 90001'')']);
SELECT pg_temp.indist(:'phase' || 'EXPLAIN ANALYZE EXECUTE on the private history', 'staff',
    ARRAY['DEALLOCATE ALL',
          'PREPARE atk_p(bigint) AS SELECT * FROM demo.reading_history WHERE patron_id = $1',
          'EXPLAIN (ANALYZE, COSTS off, TIMING off, SUMMARY off) EXECUTE atk_p(%1$s)', 'DEALLOCATE ALL']);
SELECT pg_temp.indist(:'phase' || 'EXPLAIN rows= of the private history WHERE patron_id = N', 'staff',
    ARRAY['EXPLAIN SELECT * FROM demo.reading_history WHERE patron_id = %1$s']);
SELECT pg_temp.indist(:'phase' || 'EXPLAIN rows= of a join from the patron', 'staff',
    ARRAY['EXPLAIN SELECT * FROM demo.patrons p JOIN demo.reading_history r ON r.patron_id = p.id WHERE p.id = %1$s']);
SELECT pg_temp.indist(:'phase' || 'EXPLAIN EXECUTE rows= of a custom plan', 'staff',
    ARRAY['DEALLOCATE ALL', 'PREPARE atk_p(bigint) AS SELECT * FROM demo.reading_history WHERE patron_id = $1',
          'EXPLAIN EXECUTE atk_p(%1$s)', 'DEALLOCATE ALL']);
SELECT pg_temp.indist(:'phase' || 'EXPLAIN rows= of the private history', 'auditor',
    ARRAY['EXPLAIN SELECT * FROM demo.reading_history WHERE patron_id = %1$s']);
SELECT pg_temp.indist(:'phase' || 'EXPLAIN rows= of the private history', 'collections',
    ARRAY['EXPLAIN SELECT * FROM demo.reading_history WHERE patron_id = %1$s']);
SELECT pg_temp.attempt(:'phase' || 'a leaky commutator with RESTRICT = scalarltsel, on a partition', 'staff',
    ARRAY['CREATE TEMP TABLE atk_seen (v bigint)',
          'CREATE FUNCTION pg_temp.atk_leak(bigint, bigint) RETURNS boolean LANGUAGE plpgsql COST 0.0001 AS $f$
           BEGIN INSERT INTO atk_seen VALUES ($1), ($2); RETURN $1 > $2; END $f$',
          'CREATE OPERATOR pg_temp.<<< (FUNCTION = int8lt, LEFTARG = bigint, RIGHTARG = bigint,
                                        RESTRICT = scalarltsel, COMMUTATOR = OPERATOR(pg_temp.>>>))',
          'CREATE OPERATOR pg_temp.>>> (FUNCTION = pg_temp.atk_leak, LEFTARG = bigint, RIGHTARG = bigint,
                                        RESTRICT = scalargtsel, COMMUTATOR = OPERATOR(pg_temp.<<<))',
          'EXPLAIN SELECT * FROM demo.loans_2025 WHERE 5000 OPERATOR(pg_temp.<<<) patron_id',
          'SELECT DISTINCT v AS seen_patron FROM atk_seen'], 'loans', 'superuser');
SELECT pg_temp.attempt(:'phase' || 'a leaky commutator, placeholder statistics off', 'staff',
    ARRAY['SET LOCAL pals_privacy.placeholder_statistics = off',
          'CREATE TEMP TABLE atk_seen (v bigint)',
          'CREATE FUNCTION pg_temp.atk_leak(bigint, bigint) RETURNS boolean LANGUAGE plpgsql COST 0.0001 AS $f$
           BEGIN INSERT INTO atk_seen VALUES ($1), ($2); RETURN $1 > $2; END $f$',
          'CREATE OPERATOR pg_temp.<<< (FUNCTION = int8lt, LEFTARG = bigint, RIGHTARG = bigint,
                                        RESTRICT = scalarltsel, COMMUTATOR = OPERATOR(pg_temp.>>>))',
          'CREATE OPERATOR pg_temp.>>> (FUNCTION = pg_temp.atk_leak, LEFTARG = bigint, RIGHTARG = bigint,
                                        RESTRICT = scalargtsel, COMMUTATOR = OPERATOR(pg_temp.<<<))',
          'EXPLAIN SELECT * FROM demo.loans WHERE 5000 OPERATOR(pg_temp.<<<) patron_id',
          'SELECT DISTINCT v AS seen_patron FROM atk_seen'], 'loans', 'superuser');
SELECT pg_temp.indist(:'phase' || 'EXPLAIN ANALYZE EXECUTE of a prepared SELECT', 'staff',
    ARRAY['DEALLOCATE ALL',
          'PREPARE atk_p(bigint, bigint) AS SELECT * FROM demo.loans WHERE patron_id = $1 AND item_id = $2',
          'EXPLAIN (ANALYZE, COSTS off, TIMING off, SUMMARY off) EXECUTE atk_p(%1$s, 90001)', 'DEALLOCATE ALL']);
SELECT pg_temp.indist(:'phase' || 'EXPLAIN ANALYZE EXECUTE, generic plan', 'staff',
    ARRAY['DEALLOCATE ALL', 'SET LOCAL plan_cache_mode = force_generic_plan',
          'PREPARE atk_p(bigint) AS SELECT count(*) FROM demo.loans WHERE patron_id = $1',
          'EXPLAIN (ANALYZE, COSTS off, TIMING off, SUMMARY off) EXECUTE atk_p(%1$s)', 'DEALLOCATE ALL']);
SELECT pg_temp.indist(:'phase' || 'EXPLAIN ANALYZE CREATE TABLE AS EXECUTE', 'staff',
    ARRAY['DEALLOCATE ALL',
          'PREPARE atk_p(bigint, bigint) AS SELECT * FROM demo.loans WHERE patron_id = $1 AND item_id = $2',
          'EXPLAIN (ANALYZE, COSTS off, TIMING off, SUMMARY off) CREATE TEMP TABLE atk_t AS EXECUTE atk_p(%1$s, 90001)',
          'DEALLOCATE ALL']);
SELECT pg_temp.indist(:'phase' || 'EXPLAIN ANALYZE EXECUTE of a prepared UPDATE', 'staff',
    ARRAY['DEALLOCATE ALL',
          'PREPARE atk_p(bigint) AS UPDATE demo.loans SET renewal_count = renewal_count WHERE patron_id = $1 AND item_id > 90000',
          'EXPLAIN (ANALYZE, COSTS off, TIMING off, SUMMARY off) EXECUTE atk_p(%1$s)', 'DEALLOCATE ALL']);
SELECT pg_temp.indist(:'phase' || 'EXPLAIN (ANALYZE, BUFFERS) EXECUTE: blocks read for a patron', 'staff',
    ARRAY['DEALLOCATE ALL', 'SET LOCAL enable_seqscan = off',
          'PREPARE atk_p(bigint) AS SELECT count(*) FROM demo.loans WHERE patron_id = $1',
          'EXPLAIN (ANALYZE, BUFFERS, COSTS off, TIMING off, SUMMARY off) EXECUTE atk_p(%1$s)', 'DEALLOCATE ALL']);
-- statistics counters (class 4)
SELECT pg_temp.indist(:'phase' || 'pg_stat_get_xact_tuples_fetched after WHERE patron_id = N', 'staff',
    ARRAY['SELECT pg_temp.xact_delta(''SELECT count(*) FROM demo.loans WHERE patron_id = %1$s'', ''tuples_fetched'')']);
SELECT pg_temp.indist(:'phase' || 'pg_stat_get_xact_tuples_returned after WHERE patron_id = N', 'staff',
    ARRAY['SELECT pg_temp.xact_delta(''SELECT count(*) FROM demo.loans WHERE patron_id = %1$s'', ''tuples_returned'')']);
SELECT pg_temp.indist(:'phase' || 'pg_stat_get_xact_tuples_fetched, index scan forced', 'staff',
    ARRAY['SET LOCAL enable_seqscan = off', 'SET LOCAL enable_bitmapscan = off',
          'SELECT pg_temp.xact_delta(''SELECT count(*) FROM demo.loans WHERE patron_id = %1$s'', ''tuples_fetched'')']);
SELECT pg_temp.indist(:'phase' || 'pg_stat_get_xact_blocks_hit after an index probe', 'staff',
    ARRAY['SET LOCAL enable_seqscan = off',
          'SELECT pg_temp.xact_delta(''SELECT count(*) FROM demo.loans WHERE patron_id = %1$s'', ''blocks_hit'')
                + pg_temp.xact_delta(''SELECT count(*) FROM demo.loans WHERE patron_id = %1$s'', ''blocks_fetched'')']);
SELECT pg_temp.indist(:'phase' || 'pg_stat_get_xact_tuples_fetched of the private history (constant-false qual)', 'staff',
    ARRAY['SET LOCAL enable_seqscan = off',
          'SELECT pg_temp.xact_delta(''SELECT count(*) FROM demo.reading_history WHERE patron_id = %1$s'', ''tuples_fetched'',
                                     ''{demo.reading_history}'')']);
SELECT pg_temp.indist(:'phase' || 'pg_stat_get_xact_tuples_fetched, holds', 'staff',
    ARRAY['SET LOCAL enable_seqscan = off', 'SET LOCAL enable_indexonlyscan = off',
          'SELECT pg_temp.xact_delta(''SELECT count(*) FROM demo.holds WHERE patron_id = %1$s'', ''tuples_fetched'',
                                     ''{demo.holds}'')']);
SELECT pg_temp.indist(:'phase' || 'pg_stat_get_xact_tuples_fetched, a reading timeline through (patron_id, read_at)', 'staff',
    ARRAY['SET LOCAL enable_seqscan = off',
          'SELECT pg_temp.xact_delta(''SELECT count(*) FROM demo.reading_history WHERE patron_id = %1$s
                                        AND read_at >= ''''2025-01-01'''' AND read_at < ''''2025-07-01'''''', ''tuples_fetched'',
                                     ''{demo.reading_history}'')']);
-- estimates (class 5)
SELECT pg_temp.indist(:'phase' || 'EXPLAIN rows= of the loans WHERE patron_id = N', 'staff',
    ARRAY['EXPLAIN SELECT * FROM demo.loans WHERE patron_id = %1$s']);
SELECT pg_temp.indist(:'phase' || 'EXPLAIN rows= of the holds WHERE patron_id = N', 'staff',
    ARRAY['EXPLAIN SELECT * FROM demo.holds WHERE patron_id = %1$s']);
SELECT pg_temp.indist(:'phase' || 'EXPLAIN rows= of a range around N (histogram)', 'staff',
    ARRAY['EXPLAIN SELECT * FROM demo.loans WHERE patron_id >= %1$s AND patron_id <= %1$s']);
SELECT pg_temp.indist(:'phase' || 'EXPLAIN rows= of another patron''s private history', 'patron',
    ARRAY['EXPLAIN SELECT * FROM demo.reading_history WHERE patron_id = %1$s']);
SELECT pg_temp.indist(:'phase' || 'EXPLAIN rows= of another patron''s loans', 'patron',
    ARRAY['EXPLAIN SELECT * FROM demo.loans WHERE patron_id = %1$s']);
-- the statistics hook hands the loans' statistics to a leaky commutator (class 6)
SELECT pg_temp.attempt(:'phase' || 'a leaky commutator of an operator with RESTRICT = scalarltsel, on the loans', 'staff',
    ARRAY['CREATE TEMP TABLE atk_seen (v bigint)',
          'CREATE FUNCTION pg_temp.atk_leak(bigint, bigint) RETURNS boolean LANGUAGE plpgsql COST 0.0001 AS $f$
           BEGIN INSERT INTO atk_seen VALUES ($1), ($2); RETURN $1 > $2; END $f$',
          'CREATE OPERATOR pg_temp.<<< (FUNCTION = int8lt, LEFTARG = bigint, RIGHTARG = bigint,
                                        RESTRICT = scalarltsel, COMMUTATOR = OPERATOR(pg_temp.>>>))',
          'CREATE OPERATOR pg_temp.>>> (FUNCTION = pg_temp.atk_leak, LEFTARG = bigint, RIGHTARG = bigint,
                                        RESTRICT = scalargtsel, COMMUTATOR = OPERATOR(pg_temp.<<<))',
          'EXPLAIN SELECT * FROM demo.loans WHERE 5000 OPERATOR(pg_temp.<<<) patron_id',
          'SELECT DISTINCT v AS seen_patron FROM atk_seen'], 'loans', 'superuser');
-- extended and expression statistics
SELECT pg_temp.indist(:'phase' || 'extended statistics (mcv) ON patron_id, title_id: EXPLAIN rows=', 'staff',
    ARRAY['EXPLAIN SELECT * FROM demo.holds WHERE patron_id = %1$s AND title_id = 90001']);
SELECT pg_temp.indist(:'phase' || 'expression statistics ON (patron_id * 1): EXPLAIN rows=', 'staff',
    ARRAY['EXPLAIN SELECT * FROM demo.holds WHERE patron_id * 1 = %1$s']);
SELECT pg_temp.indist(:'phase' || 'statistics of an expression index (patron_id + 0): EXPLAIN rows=', 'staff',
    ARRAY['EXPLAIN SELECT * FROM demo.loans WHERE patron_id + 0 = %1$s']);
SELECT pg_temp.indist(:'phase' || 'statistics of an expression index (patron_id + 0): EXPLAIN rows=', 'patron',
    ARRAY['EXPLAIN SELECT * FROM demo.loans WHERE patron_id + 0 = %1$s']);
-- the extension's own last-borrower tracker is probed once per closed,
-- settled row a redacted query meets: its counters after a staff probe on
-- patron N (the superuser can tell A from B; staff must not)
SELECT pg_temp.indist(:'phase' || 'counters of the last-borrower tracker after WHERE patron_id = N (scans)', 'staff',
    ARRAY['SELECT pg_temp.xact_delta_as(''SELECT count(*) FROM demo.loans WHERE patron_id = %1$s'', ''numscans'',
                                        ''{pals_privacy.last_borrower}'', ''branch_staff'')'], '9001', '9002', 'superuser');
SELECT pg_temp.indist(:'phase' || 'counters of the last-borrower tracker after WHERE patron_id = N (blocks)', 'staff',
    ARRAY['SELECT pg_temp.xact_delta_as(''SELECT count(*) FROM demo.loans WHERE patron_id = %1$s'', ''blocks_hit'',
                                        ''{pals_privacy.last_borrower}'', ''branch_staff'')'], '9001', '9002', 'superuser');
