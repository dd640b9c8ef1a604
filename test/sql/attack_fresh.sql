-- Attack catalogue: doors a fresh attacker with a staff account (and the
-- desk's write rights) tried after the catalogue of test/sql/attack_*.sql:
-- serializable isolation (its predicate locks, which pg_locks shows to
-- every role), function call counters (track_functions), the monitoring
-- views the counter rule wraps, MERGE (as a reader of bound relations and
-- into each of them), WHERE CURRENT OF a cursor over hidden rows, COPY
-- (query) TO.  Every attempt has an operational control that must get the
-- hidden pair out (or tell A from B), so that no check passes vacuously.
-- Runs before sever_backlog() and again after it (opted-in history kept in
-- place).  See test/attack/fixture.sql.
\set atk_db attack_fresh
\set ECHO none
\i test/attack/fixture.sql
-- Serializable oracles (test/attack/fresh_siread.sql): run q as who,
-- catching its error, and return the error and the predicate locks the
-- transaction holds (relation, page, tuple), as who reads pg_locks.
CREATE FUNCTION pg_temp.siread(who text, q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE err text; locks text;
BEGIN
    EXECUTE format('SET LOCAL ROLE %I', who);
    SET LOCAL enable_seqscan = off;
    SET LOCAL enable_bitmapscan = off;
    BEGIN
        EXECUTE q;
    EXCEPTION WHEN OTHERS THEN
        err := SQLSTATE || ' ' || SQLERRM;
    END;
    SELECT string_agg(l.locktype || ':' || coalesce(l.relation::regclass::text, '') || ':' || coalesce(l.page, -1)
                      || ':' || coalesce(l.tuple, -1), ',' ORDER BY 1)
      INTO locks
      FROM (SELECT locktype, relation, page, tuple FROM pg_locks
             WHERE pid = pg_backend_pid() AND mode = 'SIReadLock' ORDER BY 1, 2, 3, 4) l;
    RETURN coalesce(err, '') || ' | ' || coalesce(locks, '');
END $$;
-- the control tells A from B, the attacker cannot
CREATE FUNCTION pg_temp.same_for_both(descr text, ca text, cb text, a text, b text) RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
    IF ca IS DISTINCT FROM cb AND a IS NOT DISTINCT FROM b THEN
        RETURN ok(true, descr);
    END IF;
    RETURN ok(false, descr) || E'\n' ||
           diag(CASE WHEN ca IS NOT DISTINCT FROM cb THEN '    the control cannot tell A from B either: ' || left(ca, 300)
                     ELSE E'    LEAK: A and B differ:\n    A: ' || left(a, 400) || E'\n    B: ' || left(b, 400) END);
END $$;
-- how often the extension's last-borrower predicate ran while runner ran
-- q, as reader reads the counter (track_functions = all)
CREATE FUNCTION pg_temp.fn_calls(q text, runner text, reader text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE before text; after text; err text;
BEGIN
    BEGIN
        EXECUTE format('SET LOCAL ROLE %I', reader);
        before := pg_stat_get_xact_function_calls('pals_privacy._last_borrower(oid,text,oid,tid)'::regprocedure);
        EXECUTE format('SET LOCAL ROLE %I', runner);
        EXECUTE q;
        EXECUTE format('SET LOCAL ROLE %I', reader);
        after := pg_stat_get_xact_function_calls('pals_privacy._last_borrower(oid,text,oid,tid)'::regprocedure);
        RAISE EXCEPTION 'pals_attack_rollback';
    EXCEPTION WHEN OTHERS THEN
        IF SQLERRM <> 'pals_attack_rollback' THEN
            err := SQLSTATE || ' ' || SQLERRM;
        END IF;
    END;
    RETURN coalesce(err, coalesce(after, 'NULL') || ' after ' || coalesce(before, 'NULL'));
END $$;
-- the scans of the tracker (and its index) while branch_staff runs q, as
-- reader reads the counters
CREATE FUNCTION pg_temp.tracker_scans(q text, reader text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE before text; after text;
    c text := 'SELECT sum(pg_stat_get_xact_numscans(c.oid))::text FROM pg_class c
                WHERE c.relnamespace = ''pals_privacy''::regnamespace AND c.relname LIKE ''last_borrower%''';
BEGIN
    EXECUTE format('SET LOCAL ROLE %I', reader);
    EXECUTE c INTO before;
    SET LOCAL ROLE branch_staff;
    EXECUTE q;
    EXECUTE format('SET LOCAL ROLE %I', reader);
    EXECUTE c INTO after;
    RESET ROLE;
    RETURN coalesce(after, 'NULL') || ' after ' || coalesce(before, 'NULL');
END $$;
-- MERGE into a relation as a role: refused with 42501, or the error, or 'merged'
CREATE FUNCTION pg_temp.merge_as(who text, rel regclass) RETURNS text LANGUAGE plpgsql AS $$
DECLARE res text := 'merged';
BEGIN
    BEGIN
        EXECUTE format('SET LOCAL ROLE %I', who);
        EXECUTE format('MERGE INTO %s t USING (SELECT 1 AS x) s ON false WHEN NOT MATCHED THEN DO NOTHING', rel);
        RAISE EXCEPTION 'pals_attack_rollback';
    EXCEPTION WHEN OTHERS THEN
        IF SQLERRM <> 'pals_attack_rollback' THEN
            res := SQLSTATE;
        END IF;
    END;
    RETURN res;
END $$;
\set ECHO all
SELECT plan(49);

------------------------------------------------------------------------------
-- Serializable isolation: every tuple an index scan fetches is
-- predicate-locked before the security quals remove it, and pg_locks (which
-- every role reads, from any database) shows relation, page and tuple of
-- each; the tracker pages _last_borrower() read too.  "Does 9001 have
-- loans?" and, by probing a loan by its key for its tuple, "which ones".
------------------------------------------------------------------------------
\set ECHO none
\set who branch_staff
\set descr 'staff: serializable: predicate locks of an index probe WHERE patron_id = N on the loans'
\set q 'SELECT count(*) FROM demo.loans WHERE patron_id = %s'
\i test/attack/fresh_siread.sql
\set descr 'staff: serializable: predicate locks of WHERE patron_id = N AND item_id = 90001'
\set q 'SELECT count(*) FROM demo.loans WHERE patron_id = %s AND item_id = 90001'
\i test/attack/fresh_siread.sql
\set descr 'staff: serializable: predicate locks of an index probe on the holds'
\set q 'SELECT count(*) FROM demo.holds WHERE patron_id = %s'
\i test/attack/fresh_siread.sql
\set descr 'staff: serializable: predicate locks of a write (UPDATE ... WHERE patron_id = N)'
\set q 'UPDATE demo.loans SET renewal_count = renewal_count WHERE patron_id = %s'
\i test/attack/fresh_siread.sql
\set descr 'staff: serializable: predicate locks of a materialized CTE'
\set q 'WITH x AS MATERIALIZED (SELECT id FROM demo.loans WHERE patron_id = %s) SELECT count(*) FROM x'
\i test/attack/fresh_siread.sql
\set who collections_agency
\set descr 'collections: serializable: predicate locks of an index probe on the loans'
\set q 'SELECT count(*) FROM demo.loans WHERE patron_id = %s'
\i test/attack/fresh_siread.sql
\set who consortium_auditor
\set descr 'auditor: serializable: predicate locks of an index probe on the loans'
\i test/attack/fresh_siread.sql
\set ECHO all
-- what is refused is narrow: repeatable read and read committed read as
-- before, serializable reads unbound tables, the operational role reads
-- bound ones
BEGIN ISOLATION LEVEL SERIALIZABLE;
SET LOCAL ROLE branch_staff;
SELECT throws_ok('SELECT count(*) FROM demo.loans WHERE item_id = 90001', '42501',
    'a serializable transaction may not read bound relations for privacy class staff',
    'staff: a serializable transaction is refused a bound relation');
SELECT is((SELECT count(*) FROM demo.items WHERE id = 90001), 1::bigint, 'staff: serializable reads an unbound table');
SELECT lives_ok('EXPLAIN SELECT count(*) FROM demo.loans WHERE patron_id = 9001', 'staff: serializable: plain EXPLAIN (no scan, no lock)');
ROLLBACK;
BEGIN ISOLATION LEVEL REPEATABLE READ;
SET LOCAL ROLE branch_staff;
SELECT is((SELECT count(*) FROM demo.loans WHERE item_id = 90001), 11::bigint, 'staff: repeatable read reads the loans');
ROLLBACK;
BEGIN ISOLATION LEVEL SERIALIZABLE;
SET LOCAL ROLE ils_app;
SELECT is((SELECT count(*) FROM demo.loans WHERE patron_id = 9001), 45::bigint, 'operational: serializable reads the loans');
ROLLBACK;

------------------------------------------------------------------------------
-- Function call counters (track_functions = all, which a DBA turns on to
-- profile): the rewritten query calls _last_borrower() once per closed,
-- settled row it meets, hidden ones included; and the monitoring views
-- built on one-OID counters must keep working for redacted classes
------------------------------------------------------------------------------
SET track_functions = 'all';
SELECT pg_temp.same_for_both('staff: calls of _last_borrower() counted while probing WHERE patron_id = N',
    pg_temp.fn_calls('SELECT count(*) FROM demo.loans WHERE patron_id = 9001', 'branch_staff', 'postgres'),
    pg_temp.fn_calls('SELECT count(*) FROM demo.loans WHERE patron_id = 9002', 'branch_staff', 'postgres'),
    pg_temp.fn_calls('SELECT count(*) FROM demo.loans WHERE patron_id = 9001', 'branch_staff', 'branch_staff'),
    pg_temp.fn_calls('SELECT count(*) FROM demo.loans WHERE patron_id = 9002', 'branch_staff', 'branch_staff'));
SET ROLE branch_staff;
SELECT lives_ok('SELECT * FROM pg_stat_user_functions', 'staff: pg_stat_user_functions reads (no internal error)');
SELECT is((SELECT count(*) FROM pg_stat_user_functions WHERE schemaname = 'pals_privacy'), 0::bigint,
          'staff: no counter of the extension''s functions');
SELECT lives_ok('SELECT * FROM pg_stat_subscription', 'staff: pg_stat_subscription reads');
SELECT lives_ok('SELECT * FROM pg_stat_subscription_stats', 'staff: pg_stat_subscription_stats reads');
SELECT is((SELECT count(*) FROM pg_stat_user_tables WHERE relname = 'items' AND seq_scan IS NOT NULL), 1::bigint,
          'staff: counters of unbound tables still read');
RESET ROLE;
RESET track_functions;

-- I/O statistics (PostgreSQL 16 and later): pg_stat_io for the cluster,
-- pg_stat_get_backend_io() for one backend (18), count the blocks a query
-- hit, and a probe on patron_id = 9001 hits the pages of 9001's hidden
-- loans and the tracker's.  The control is the superuser reading what the
-- staff session's own probes hit; staff may not read them.  (PostgreSQL 15
-- has neither: the check then says so, with the same description.)
SELECT to_regproc('pg_catalog.pg_stat_get_backend_io') IS NOT NULL AS has_backend_io \gset
\set ECHO none
\if :has_backend_io
SET enable_seqscan = off;
SET enable_bitmapscan = off;
SET ROLE branch_staff;
SELECT count(*) FROM demo.loans WHERE patron_id = 9002 \gset warm_
RESET ROLE;
SELECT pg_stat_force_next_flush() \gset flush_
SELECT sum(hits) AS io0 FROM pg_stat_get_backend_io(pg_backend_pid()) WHERE object = 'relation' \gset
SET ROLE branch_staff;
SELECT count(*) FROM demo.loans WHERE patron_id = 9001 \gset warm_
RESET ROLE;
SELECT pg_stat_force_next_flush() \gset flush_
SELECT sum(hits) AS io1 FROM pg_stat_get_backend_io(pg_backend_pid()) WHERE object = 'relation' \gset
SET ROLE branch_staff;
SELECT count(*) FROM demo.loans WHERE patron_id = 9002 \gset warm_
RESET ROLE;
SELECT pg_stat_force_next_flush() \gset flush_
SELECT sum(hits) AS io2 FROM pg_stat_get_backend_io(pg_backend_pid()) WHERE object = 'relation' \gset
RESET enable_seqscan;
RESET enable_bitmapscan;
SELECT pg_temp.same_for_both('staff: I/O statistics (blocks hit) after a probe on patron_id = N',
    (:io1 - :io0 > :io2 - :io1 + 10)::text, 'false',
    -- (the attacker's reads are refused, of the backend's and of the cluster's)
    coalesce(left(pg_temp.probe('branch_staff', ARRAY['SELECT sum(hits) FROM pg_stat_get_backend_io(pg_backend_pid())']) ->> 'err', 5), 'read')
      || '/' || coalesce(left(pg_temp.probe('branch_staff', ARRAY['SELECT sum(hits) FROM pg_stat_io']) ->> 'err', 5), 'read'),
    '42501/42501');
\else
SELECT ok(to_regproc('pg_catalog.pg_stat_get_backend_io') IS NULL AND to_regproc('pg_catalog.pg_stat_get_io') IS NULL,
          'staff: I/O statistics (blocks hit) after a probe on patron_id = N');
\endif
\set ECHO all

-- WAL: a probe prunes the heap pages it fetches (dead versions the ILS's
-- updates left, a sever's among them), and that WAL moves the WAL position
-- every role may read (pg_current_wal_insert_lsn()) and pg_stat_wal.  The
-- ILS updates 9001's loans (as a batch job would, a few times, so that
-- their page fills and a read prunes it); the superuser then
-- reads the WAL a staff probe on 9002 and one on 9001 wrote; staff may not
-- read the position.
UPDATE demo.loans SET renewal_count = renewal_count WHERE patron_id = 9001;
UPDATE demo.loans SET renewal_count = renewal_count WHERE patron_id = 9001;
UPDATE demo.loans SET renewal_count = renewal_count WHERE patron_id = 9001;
\set ECHO none
SET enable_seqscan = off;
SET enable_bitmapscan = off;
SELECT pg_current_wal_insert_lsn() AS w0 \gset
SET ROLE branch_staff;
SELECT count(*) FROM demo.loans WHERE patron_id = 9002 \gset probe_
RESET ROLE;
SELECT pg_current_wal_insert_lsn() AS w1 \gset
SET ROLE branch_staff;
SELECT count(*) FROM demo.loans WHERE patron_id = 9001 \gset probe_
RESET ROLE;
SELECT pg_current_wal_insert_lsn() AS w2 \gset
RESET enable_seqscan;
RESET enable_bitmapscan;
SELECT pg_temp.same_for_both('staff: WAL written while probing WHERE patron_id = N (the WAL position)',
    (pg_wal_lsn_diff(:'w2', :'w1') > 0)::text, 'false',
    coalesce(left(pg_temp.probe('branch_staff', ARRAY['SELECT pg_current_wal_insert_lsn()']) ->> 'err', 5), 'read')
      || '/' || coalesce(left(pg_temp.probe('branch_staff', ARRAY['SELECT pg_current_wal_lsn()']) ->> 'err', 5), 'read')
      || '/' || coalesce(left(pg_temp.probe('branch_staff', ARRAY['SELECT wal_bytes FROM pg_stat_wal']) ->> 'err', 5), 'read'),
    '42501/42501/42501');
\set ECHO all
-- (the updates tracked the items' last borrowers, which staff now read;
-- read after the probes: a scan of the loans prunes their pages)
SELECT pg_temp.refresh_secrets() > 0 AS secrets_found;

------------------------------------------------------------------------------
-- Counters of the extension's own tables: a redacted query probes the
-- last-borrower tracker's index once per closed, settled row it meets, so
-- its scan count after WHERE patron_id = 9001 is how many such loans 9001
-- has.  (A statement's answers are kept while no other transaction that
-- wrote ends, so each run follows a committed transaction, as a fresh
-- session's first probe would.)
------------------------------------------------------------------------------
SELECT txid_current() > 0 AS committed;
SELECT pg_temp.tracker_scans('SELECT count(*) FROM demo.loans WHERE patron_id = 9001', 'postgres') AS ta \gset
SELECT txid_current() > 0 AS committed;
SELECT pg_temp.tracker_scans('SELECT count(*) FROM demo.loans WHERE patron_id = 9002', 'postgres') AS tb \gset
SELECT txid_current() > 0 AS committed;
SELECT pg_temp.tracker_scans('SELECT count(*) FROM demo.loans WHERE patron_id = 9001', 'branch_staff') AS sa \gset
SELECT txid_current() > 0 AS committed;
SELECT pg_temp.tracker_scans('SELECT count(*) FROM demo.loans WHERE patron_id = 9002', 'branch_staff') AS sb \gset
SELECT pg_temp.same_for_both('staff: index scans of the last-borrower tracker counted while probing WHERE patron_id = N',
                             :'ta', :'tb', :'sa', :'sb');
SET ROLE branch_staff;
SELECT is((SELECT count(*) FROM pg_stat_user_tables WHERE schemaname = 'pals_privacy' AND seq_scan IS NOT NULL), 0::bigint,
          'staff: no counter of the extension''s tables');
RESET ROLE;

------------------------------------------------------------------------------
-- MERGE (PostgreSQL 15): bound relations as its source, and as its target
------------------------------------------------------------------------------
\set ECHO none
\set phase 'before sever: '
\i test/attack/fresh.sql
SET client_min_messages = warning;
CALL pals_privacy.sever_backlog(batch_size => 1000);
ANALYZE demo.loans, demo.holds, demo.reading_history;
SELECT pg_temp.refresh_secrets() > 0 AS secrets_left_in_place;
\set phase 'in place, after sever: '
\i test/attack/fresh.sql
\set who branch_staff
\set descr 'staff: in place, after sever: serializable: predicate locks of an index probe on the loans'
\set q 'SELECT count(*) FROM demo.loans WHERE patron_id = %s'
\i test/attack/fresh_siread.sql
\set ECHO all
-- every bound relation the desk may write refuses MERGE from staff; the ILS
-- merges (the refusal is the class's, not PostgreSQL's)
SELECT is(array_agg(r || '=' || pg_temp.merge_as('branch_staff', r::regclass) ORDER BY r)
            FILTER (WHERE pg_temp.merge_as('branch_staff', r::regclass) <> '42501'), NULL,
          'staff: MERGE into every bound relation it may write is refused (42501)')
  FROM unnest(ARRAY['demo.loans', 'demo.loans_2025', 'demo.holds', 'demo.fines', 'demo.payments', 'demo.patrons',
                    'demo.addresses', 'demo.receipts', 'demo.internet_signups', 'demo.notice_outbox', 'demo.ill_requests']) r;
SELECT is(array_agg(r || '=' || pg_temp.merge_as('ils_app', r::regclass) ORDER BY r)
            FILTER (WHERE pg_temp.merge_as('ils_app', r::regclass) <> 'merged'), NULL,
          'operational: MERGE into the same relations works')
  FROM unnest(ARRAY['demo.loans', 'demo.loans_2025', 'demo.holds', 'demo.fines', 'demo.payments', 'demo.patrons',
                    'demo.addresses', 'demo.receipts', 'demo.internet_signups', 'demo.notice_outbox', 'demo.ill_requests']) r;

-- COPY (query) TO: what staff and the ILS get for item 90001 (9001's and
-- 9012's old loans; the ILS sees them, staff only the last borrower)
SET ROLE ils_app;
COPY (SELECT id, patron_id FROM demo.loans WHERE item_id = 90001 AND id < 101000 ORDER BY id) TO STDOUT;
SET ROLE branch_staff;
COPY (SELECT id, patron_id FROM demo.loans WHERE item_id = 90001 AND id < 101000 ORDER BY id) TO STDOUT;
COPY (SELECT l.id, l.patron_id FROM demo.loans l JOIN demo.patrons p ON p.id = l.patron_id
       WHERE l.item_id = 90001 ORDER BY l.id) TO STDOUT;
RESET ROLE;

SELECT * FROM finish();
\set ECHO none
\i test/attack/done.sql
