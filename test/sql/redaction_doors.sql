-- The doors around the read rewrite (docs/redaction.md, "Threat model"):
-- writes that would decide what a class reads, EXPLAIN ANALYZE by every path,
-- statistics counters, the planner's estimates and the statistics it hands to
-- leaky operators, unbound inheritance parents of bound relations, patron ids,
-- the fail-closed guard, and bulk loads (COPY FROM) under row security.
--
-- Each check compares what a redacted class gets with the stored truth or with
-- what an exempt role gets for the same statement, so that removing the rule it
-- tests makes it fail.  The fixture: patrons 1-6; item 10 has three old closed
-- and settled loans (patrons 2, 3, 4: hidden from staff, no backlog run) and no
-- tracked last borrower; loan 5 of item 11 is open (patron 5, visible).
-- Everything runs in one transaction that is rolled back.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pals_privacy;

BEGIN;
SELECT plan(47);

CREATE ROLE regress_dr_ils;       -- operational, not the tables' owner
CREATE ROLE regress_dr_staff;     -- staff
CREATE ROLE regress_dr_opac;      -- patron class
DO $$ BEGIN
    PERFORM pals_privacy.classify_role('regress_dr_ils', 'operational');
    PERFORM pals_privacy.classify_role('regress_dr_staff', 'staff');
    PERFORM pals_privacy.classify_role('regress_dr_opac', 'patron');
END $$;

CREATE SCHEMA dr;
CREATE TABLE dr.patrons (id bigint PRIMARY KEY, name text NOT NULL, card text UNIQUE,
                         expires date NOT NULL DEFAULT 'infinity');
INSERT INTO dr.patrons SELECT g, 'patron ' || g, 'DR-' || g FROM generate_series(1, 6) g;
CREATE TABLE dr.loans (id int PRIMARY KEY, patron_id bigint REFERENCES dr.patrons, item_id int NOT NULL,
                       returned timestamptz, paid timestamptz, note text);
CREATE INDEX ON dr.loans (patron_id);
INSERT INTO dr.loans VALUES
    (1, 2, 10, '2024-01-10', '2024-01-10', NULL),
    (2, 3, 10, '2024-02-10', '2024-02-10', NULL),
    (3, 4, 10, '2024-03-10', '2024-03-10', NULL),
    (5, 5, 11, NULL, NULL, NULL);
-- many loans of patron 6, few of patron 1: estimates would tell them apart
INSERT INTO dr.loans SELECT 100 + g, CASE WHEN g <= 200 THEN 6 ELSE 1 END, 1000 + g, '2024-05-01', '2024-05-01', NULL
  FROM generate_series(1, 205) g;
CREATE TABLE dr.history (id int PRIMARY KEY, patron_id bigint REFERENCES dr.patrons, title text);
CREATE INDEX ON dr.history (patron_id);
INSERT INTO dr.history VALUES (1, 2, 'one'), (2, 3, 'two');
-- an unbound inheritance parent of a bound child (a billable-transaction parent)
CREATE TABLE dr.billable (id int PRIMARY KEY, usr bigint, amount numeric);
CREATE TABLE dr.circ (item int, returned timestamptz, paid timestamptz) INHERITS (dr.billable);
INSERT INTO dr.billable VALUES (1, 1, 2.5);
CREATE TABLE dr.items (id int);
INSERT INTO dr.circ VALUES (2, 2, 1, 20, '2024-01-01', '2024-01-01'), (3, 3, 1, 20, NULL, NULL);

GRANT USAGE ON SCHEMA dr TO PUBLIC;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA dr TO PUBLIC;
SELECT lives_ok($$SELECT pals_privacy.bind_patrons('dr.patrons', 'id', 'expires', card_column => 'card')$$, 'bind_patrons');
DO $$ BEGIN
    PERFORM pals_privacy.bind_loans('dr.loans', 'patron_id', 'item_id', ARRAY['returned'], 'paid', build_tracker => false);
    PERFORM pals_privacy.bind_private_history('dr.history', 'patron_id');
    PERFORM pals_privacy.bind_loans('dr.circ', 'usr', 'item', ARRAY['returned'], 'paid', keep_last_borrower => false);
    PERFORM pals_privacy.set_pin('1', '4711');
END $$;
ANALYZE dr.patrons, dr.loans, dr.history, dr.billable, dr.circ;

CREATE FUNCTION pg_temp.nrows(sql text) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE n bigint;
BEGIN
    EXECUTE sql; GET DIAGNOSTICS n = ROW_COUNT; RETURN n;
END $$;
CREATE FUNCTION pg_temp.rows_estimate(sql text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE line text; out text := '';
BEGIN
    FOR line IN EXECUTE 'EXPLAIN ' || sql LOOP
        out := out || coalesce(substring(line FROM 'rows=([0-9]+)'), '') || ' ';
    END LOOP;
    RETURN out;
END $$;
CREATE FUNCTION pg_temp.plan_text(sql text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE line text; out text := '';
BEGIN
    FOR line IN EXECUTE 'EXPLAIN (COSTS OFF) ' || sql LOOP out := out || line || E'\n'; END LOOP;
    RETURN out;
END $$;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA pg_temp TO PUBLIC;

------------------------------------------------------------------------------
-- Fail closed: every bound table (children included) has the restrictive guard
------------------------------------------------------------------------------
SELECT is((SELECT count(*) FROM pg_policy WHERE polname = 'pals_privacy_guard' AND NOT polpermissive
             AND polrelid IN ('dr.patrons'::regclass, 'dr.loans'::regclass, 'dr.history'::regclass, 'dr.circ'::regclass)),
          4::bigint, 'every bound table has the restrictive pals_privacy_guard policy');
SELECT is((SELECT count(*) FROM pg_policy WHERE polrelid = 'dr.billable'::regclass), 0::bigint,
          'an unbound parent gets no policy');
SELECT ok(pals_privacy._preloaded(), 'this server preloads pals_privacy (the guard lets rows through)');

------------------------------------------------------------------------------
-- Writes: a redacted class writes only rows it may read whole
------------------------------------------------------------------------------
SET ROLE regress_dr_staff;
SELECT is((SELECT count(patron_id) FROM dr.loans WHERE item_id = 10), 0::bigint, 'staff: item 10''s old borrowers are masked');
SELECT is(pg_temp.nrows('UPDATE dr.loans SET paid = NULL WHERE item_id = 10 RETURNING patron_id'), 0::bigint,
          'staff: un-settling hidden loans updates (and returns) nothing');
SELECT is(pg_temp.nrows('UPDATE dr.loans SET returned = NULL WHERE item_id = 10 RETURNING patron_id'), 0::bigint,
          'staff: re-opening hidden loans updates nothing');
SELECT is(pg_temp.nrows('UPDATE dr.loans SET patron_id = patron_id WHERE patron_id IS NULL'), 0::bigint,
          'staff: WHERE patron_id IS NULL does not select masked rows for writing (no mask stored)');
SELECT is(pg_temp.nrows('WITH u AS (UPDATE dr.loans SET paid = NULL WHERE item_id = 10 RETURNING id) SELECT * FROM u'),
          0::bigint, 'staff: a data-modifying CTE updates nothing either');
SELECT throws_ok($$INSERT INTO dr.loans VALUES (1, NULL, 10, now(), now()) ON CONFLICT (id) DO UPDATE SET paid = NULL RETURNING patron_id$$,
                 '42501', NULL, 'staff: INSERT ... ON CONFLICT DO UPDATE of a hidden loan is refused');
SELECT is(pg_temp.nrows('UPDATE dr.loans SET returned = now() WHERE id = 5'), 1::bigint,
          'staff: checking in an open loan works');
SELECT is(pg_temp.nrows('DELETE FROM dr.history'), 0::bigint, 'staff: private history cannot be deleted');
SELECT throws_ok($$INSERT INTO dr.history VALUES (9, 2, 'x')$$, '42501', NULL,
                 'staff: private history cannot be written (a unique or foreign-key error would tell what is there)');
RESET ROLE;
SELECT is((SELECT string_agg(patron_id::text || ':' || (paid IS NOT NULL)::text, ',' ORDER BY id) FROM dr.loans WHERE item_id = 10),
          '2:true,3:true,4:true', 'the hidden loans are as they were');

-- patron ids and patron rows: foreign-key errors would tell where a patron is referenced
SET ROLE regress_dr_staff;
SELECT throws_ok('UPDATE dr.patrons SET id = 99 WHERE id = 2', '42501', 'privacy class staff may not change patron ids',
                 'staff: changing a patron id is refused');
SELECT throws_ok('DELETE FROM dr.patrons WHERE id = 2', '42501', 'privacy class staff may not delete patrons',
                 'staff: deleting a patron is refused');
RESET ROLE;

-- the patron class writes only its own rows
SET ROLE regress_dr_opac;
SELECT ok(pals_privacy.login('DR-1', '4711'), 'patron 1 logs in');
SELECT throws_ok($$INSERT INTO dr.history VALUES (10, 2, 'for another patron')$$, '42501', NULL,
                 'patron: a history row for another patron is refused');
SELECT lives_ok($$INSERT INTO dr.history VALUES (11, 1, 'mine')$$, 'patron: its own history row is fine');
SELECT throws_ok($$UPDATE dr.history SET patron_id = 2 WHERE id = 11$$, '42501', NULL,
                 'patron: moving its own row to another patron is refused');
SELECT is(pg_temp.nrows('UPDATE dr.history SET title = ''x'' WHERE id = 1'), 0::bigint,
          'patron: another patron''s row is not updated');
SELECT pals_privacy.logout();
RESET ROLE;

------------------------------------------------------------------------------
-- EXPLAIN ANALYZE, by every path that instruments a plan
------------------------------------------------------------------------------
SET ROLE regress_dr_staff;
PREPARE dr_probe(bigint) AS SELECT count(*) FROM dr.loans WHERE patron_id = $1 AND item_id = 10;
SELECT throws_ok('EXPLAIN (ANALYZE) SELECT count(*) FROM dr.loans WHERE patron_id = 3', '42501', NULL,
                 'staff: EXPLAIN ANALYZE is refused');
SELECT throws_ok('EXPLAIN (ANALYZE) EXECUTE dr_probe(3)', '42501', NULL,
                 'staff: EXPLAIN ANALYZE EXECUTE is refused');
SELECT throws_ok('EXPLAIN (ANALYZE) CREATE TEMP TABLE dr_x AS EXECUTE dr_probe(3)', '42501', NULL,
                 'staff: EXPLAIN ANALYZE CREATE TABLE AS EXECUTE is refused');
SELECT lives_ok('EXPLAIN SELECT count(*) FROM dr.loans WHERE patron_id = 3', 'staff: plain EXPLAIN works');
DEALLOCATE dr_probe;
RESET ROLE;
-- auto_explain with log_analyze (loaded after pals_privacy): the plan is logged without row counts
LOAD 'auto_explain';
SET auto_explain.log_min_duration = 0;
SET auto_explain.log_analyze = on;
SET ROLE regress_dr_staff;
SELECT is((SELECT count(*) FROM dr.loans WHERE item_id = 10), 3::bigint,
          'staff under auto_explain.log_analyze: the query runs (its plan is logged uninstrumented)');
RESET ROLE;
RESET auto_explain.log_analyze;
RESET auto_explain.log_min_duration;
SET ROLE regress_dr_ils;
SELECT lives_ok('EXPLAIN (ANALYZE) SELECT count(*) FROM dr.loans WHERE patron_id = 3', 'operational: EXPLAIN ANALYZE works');
RESET ROLE;

------------------------------------------------------------------------------
-- Statistics counters of bound relations
------------------------------------------------------------------------------
SET ROLE regress_dr_staff;
SELECT count(*) FROM dr.loans WHERE patron_id = 3;
SELECT is(pg_stat_get_xact_tuples_fetched('dr.loans'::regclass), NULL, 'staff: the loans'' fetch counter reads NULL');
SELECT is((SELECT sum(idx_tup_read) FROM pg_stat_xact_user_tables t JOIN pg_stat_user_indexes i USING (relid)
            WHERE t.relid = 'dr.loans'::regclass), NULL, 'staff: the loans'' index counters read NULL');
SELECT is((SELECT tup_fetched FROM pg_stat_database WHERE datname = current_database()), NULL,
          'staff: database-wide counters read NULL');
SELECT count(*) FROM dr.items;
SELECT isnt(pg_stat_get_xact_tuples_returned('dr.items'::regclass), NULL::bigint,
          'staff: counters of unbound relations still read');
CREATE OPERATOR pg_temp.#~ (RIGHTARG = oid, FUNCTION = pg_stat_get_xact_tuples_fetched);
SELECT is(OPERATOR(pg_temp.#~) 'dr.loans'::regclass::oid, NULL, 'staff: an operator built on a counter reads NULL too');
RESET ROLE;
SET ROLE regress_dr_ils;
SELECT isnt(pg_stat_get_xact_tuples_fetched('dr.loans'::regclass), NULL::bigint, 'operational: counters read');
RESET ROLE;

------------------------------------------------------------------------------
-- The planner: no value statistics for a redacted class, none for leaky operators
------------------------------------------------------------------------------
SELECT isnt(pg_temp.rows_estimate('SELECT * FROM dr.loans WHERE patron_id = 6'),
            pg_temp.rows_estimate('SELECT * FROM dr.loans WHERE patron_id = 2'),
            'superuser: the estimates of a busy and a quiet patron differ (the control)');
SET ROLE regress_dr_staff;
SELECT is(pg_temp.rows_estimate('SELECT * FROM dr.loans WHERE patron_id = 6'),
          pg_temp.rows_estimate('SELECT * FROM dr.loans WHERE patron_id = 2'),
          'staff: the same estimate for both');
-- a leaky function behind an operator whose estimator reads the statistics
CREATE TABLE pg_temp.dr_seen (v bigint);
CREATE FUNCTION pg_temp.dr_leak(a bigint, b bigint) RETURNS boolean LANGUAGE plpgsql COST 0.0000001 AS $$
BEGIN INSERT INTO pg_temp.dr_seen VALUES (a); RETURN a < b; END $$;
CREATE OPERATOR pg_temp.<<< (LEFTARG = bigint, RIGHTARG = bigint, FUNCTION = pg_temp.dr_leak, RESTRICT = scalarltsel);
SELECT count(*) FROM dr.loans WHERE patron_id OPERATOR(pg_temp.<<<) 3 AND false;
SELECT is((SELECT count(*) FROM pg_temp.dr_seen WHERE v IN (2, 3, 4, 6)), 0::bigint,
          'staff: a leaky operator''s estimator was handed no patron ids');
SELECT is((SELECT count(*) FROM pg_stats WHERE schemaname = 'dr' AND tablename IN ('loans', 'billable')), 0::bigint,
          'staff: pg_stats shows neither the loans nor their unbound parent''s inherited statistics');
-- a relation the class may read no row of is not read at all
SELECT unalike(pg_temp.plan_text('SELECT * FROM dr.history WHERE patron_id = 2'), '%Scan%',
              'staff: private history is not scanned (no index probe to count)');
RESET ROLE;
SET ROLE regress_dr_ils;
SELECT cmp_ok((SELECT count(*) FROM pg_stats WHERE schemaname = 'dr' AND tablename = 'loans'), '>', 0::bigint,
              'operational (not the owner): pg_stats shows the loans');
RESET ROLE;

------------------------------------------------------------------------------
-- An unbound inheritance parent applies its bound children's rules
------------------------------------------------------------------------------
SET ROLE regress_dr_staff;
SELECT is((SELECT string_agg(id || ':' || coalesce(usr::text, '-'), ',' ORDER BY id) FROM dr.billable),
          '1:1,2:-,3:3', 'staff through the parent: the child''s closed, settled row is masked, the rest shown');
SELECT is((SELECT count(*) FROM dr.billable WHERE usr = 2), 0::bigint, 'staff through the parent: a filter does not match the hidden value');
SELECT throws_ok('UPDATE dr.billable SET amount = 0 RETURNING usr', '42501', NULL,
                 'staff: UPDATE through the parent is refused');
RESET ROLE;
SELECT is((SELECT string_agg(id || ':' || usr, ',' ORDER BY id) FROM dr.billable), '1:1,2:2,3:3', 'superuser: as stored');

------------------------------------------------------------------------------
-- COPY FROM under row security: the ILS's role and staff load, the patron class does not
------------------------------------------------------------------------------
SET ROLE regress_dr_ils;
COPY dr.loans (id, patron_id, item_id) FROM STDIN;
900	1	50
\.
RESET ROLE;
SET ROLE regress_dr_staff;
COPY dr.loans (id, patron_id, item_id) FROM STDIN;
901	1	51
\.
RESET ROLE;
SELECT is((SELECT count(*) FROM dr.loans WHERE id IN (900, 901)), 2::bigint,
          'COPY FROM by the operational role and by staff (neither owns the table) loaded their rows');
-- from a server file (an ILS migration's load): for a role PostgreSQL lets read one
SELECT current_setting('data_directory') || '/pals_dr_copy_' || pg_backend_pid() || '.tsv' AS copyfile \gset
DO $$ BEGIN EXECUTE format('COPY (SELECT 902, 1, 52) TO %L', current_setting('data_directory') || '/pals_dr_copy_' || pg_backend_pid() || '.tsv'); END $$;
SET ROLE regress_dr_ils;
SELECT throws_ok(format('COPY dr.loans (id, patron_id, item_id) FROM %L', :'copyfile'), '42501', NULL,
                 'COPY FROM a server file: refused to a role without pg_read_server_files (PostgreSQL''s own refusal)');
RESET ROLE;
GRANT pg_read_server_files TO regress_dr_ils;
SET ROLE regress_dr_ils;
COPY dr.loans (id, patron_id, item_id) FROM :'copyfile';
RESET ROLE;
SELECT is((SELECT count(*) FROM dr.loans WHERE id = 902), 1::bigint,
          'COPY FROM a server file by the operational role with pg_read_server_files (not the owner) loaded its row');
SET ROLE regress_dr_opac;
SELECT throws_ok(format('COPY dr.loans (id, patron_id, item_id) FROM %L', :'copyfile'), '42501', NULL,
                 'control: the patron class may not load a server file');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;

-- Transaction control runs no query of the extension's before it: a new
-- transaction's first statement may still set its isolation level (a query
-- of ours would have taken the snapshot first).
CREATE ROLE regress_dr_iso;
SET ROLE regress_dr_iso;
BEGIN ISOLATION LEVEL SERIALIZABLE;
SELECT current_setting('transaction_isolation') AS first_statement_sets_isolation;
COMMIT;
BEGIN;
SET TRANSACTION ISOLATION LEVEL REPEATABLE READ;
SELECT current_setting('transaction_isolation') AS set_transaction_first;
COMMIT;
RESET ROLE;
DROP ROLE regress_dr_iso;
