-- Purge of expired patrons and retention rules (issue 5):
-- purge_expired(), apply_retention(), run_maintenance() and their settings.
-- The procedures COMMIT (one transaction per batch), so this file runs
-- outside any transaction block, captures each CALL's result with \gset,
-- and cleans up after itself (unbind everything, DROP SCHEMA, empty
-- maintenance_runs): nothing stays bound for the next file.
-- Errors that must be raised at the top level (ALTER SYSTEM, CALL of a
-- procedure that commits) are checked through psql's :SQLSTATE.
-- "locked" (a patron row locked by circulation) needs a second session: it
-- is covered by the isolation spec purge-locked.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pals_privacy;
\set VERBOSITY terse

SELECT plan(82);

------------------------------------------------------------------------------
-- Part A: a patron table purged by DELETE.
-- Patron ids and names are distinctive so that maintenance_runs can be
-- searched for them.
------------------------------------------------------------------------------
CREATE SCHEMA pg;
CREATE TABLE pg.patrons (
    id            bigint PRIMARY KEY,
    name          text NOT NULL,
    expires       date NOT NULL DEFAULT 'infinity',
    keep_history  boolean NOT NULL DEFAULT false
);
INSERT INTO pg.patrons (id, name, expires) VALUES
    (0,     'Anonymous Placeholder', '2000-01-01'),        -- expired long ago, never purged
    (91001, 'Ada Lovelace',  current_date - 100),          -- purged
    (91002, 'Bo Diddley',    current_date - 10),           -- within the grace period
    (91003, 'Cy Twombly',    current_date - 100),          -- owes 5.00 (balance view)
    (91004, 'Di Fosse',      current_date - 100),          -- in credit (5.00 - 8.00): purged
    (91005, 'Ed Ruscha',     current_date - 100),          -- open loan
    (91006, 'Flo Kennedy',   current_date - 100),          -- open hold (and a cancelled one)
    (91007, 'Gus Grissom',   current_date - 100),          -- referenced by an unbound table: error
    (91008, 'Hal Abelson',   'infinity'),                  -- not expired
    (91010, 'Jo Mitchell',   current_date - 100);          -- owes 2.50 (balance table)

-- loans severed by NULL, by the placeholder, by deletion; holds with two closed columns
CREATE TABLE pg.loans_null (id int PRIMARY KEY, patron_id bigint REFERENCES pg.patrons, item_id int NOT NULL,
                            checked_out timestamptz NOT NULL, returned timestamptz, lost timestamptz, paid timestamptz);
CREATE TABLE pg.loans_ph (id int PRIMARY KEY, patron_id bigint NOT NULL REFERENCES pg.patrons, item_id int NOT NULL,
                          checked_out timestamptz NOT NULL, returned timestamptz, lost timestamptz, paid timestamptz);
CREATE TABLE pg.loans_del (id int PRIMARY KEY, patron_id bigint NOT NULL REFERENCES pg.patrons, item_id int NOT NULL,
                           checked_out timestamptz NOT NULL, returned timestamptz, lost timestamptz, paid timestamptz);
CREATE TABLE pg.holds (id int PRIMARY KEY, patron_id bigint REFERENCES pg.patrons, item_id int NOT NULL,
                       placed timestamptz NOT NULL, filled timestamptz, cancelled timestamptz);
-- history that existed before binding (still identified): every row of a
-- purged patron must be severed, settled or not, last borrower or not
INSERT INTO pg.loans_null VALUES
    (1, 91001, 1, now() - interval '200 days', now() - interval '190 days', NULL, now() - interval '190 days'),
    (2, 91001, 2, now() - interval '150 days', now() - interval '140 days', NULL, NULL),
    (3, 91005, 3, now() - interval '150 days', NULL, NULL, NULL),
    (4, 91008, 4, now() - interval '150 days', now() - interval '140 days', NULL, now() - interval '140 days'),
    (5, 91007, 5, now() - interval '150 days', now() - interval '140 days', NULL, now() - interval '140 days');
INSERT INTO pg.loans_ph VALUES
    (1, 91001, 1, now() - interval '200 days', NULL, now() - interval '180 days', now() - interval '180 days'),
    (2, 91008, 2, now() - interval '400 days', now() - interval '390 days', NULL, now() - interval '390 days'),
    (3, 91007, 3, now() - interval '200 days', now() - interval '190 days', NULL, now() - interval '190 days'),
    (4, 0,     4, now() - interval '500 days', now() - interval '490 days', NULL, now() - interval '490 days'),
    (5, 91008, 5, now() - interval '400 days', NULL, NULL, NULL);   -- out for over a year: still open
INSERT INTO pg.loans_del VALUES
    (1, 91001, 1, now() - interval '200 days', now() - interval '190 days', NULL, now() - interval '190 days'),
    (2, 91001, 2, now() - interval '120 days', now() - interval '110 days', NULL, now() - interval '110 days'),
    (3, 91008, 3, now() - interval '120 days', now() - interval '110 days', NULL, now() - interval '110 days');
INSERT INTO pg.holds VALUES
    (1, 91001, 1, now() - interval '200 days', now() - interval '190 days', NULL),
    (2, 91006, 2, now() - interval '120 days', NULL, NULL),
    (3, 91008, 3, now() - interval '120 days', NULL, now() - interval '110 days'),
    (4, 91006, 4, now() - interval '120 days', NULL, now() - interval '110 days');

-- balances: a view over fines (credit allowed) and a plain table
CREATE TABLE pg.fines (id serial PRIMARY KEY, patron_id bigint REFERENCES pg.patrons ON DELETE CASCADE,
                       amount numeric(10,2) NOT NULL);
INSERT INTO pg.fines (patron_id, amount) VALUES
    (91003, 5.00), (91004, 5.00), (91004, -8.00), (91001, 2.00), (91001, -2.00);
CREATE VIEW pg.balances AS SELECT patron_id, sum(amount) AS owed FROM pg.fines GROUP BY patron_id;
CREATE TABLE pg.bills (patron_id bigint, amount numeric(10,2) NOT NULL);
INSERT INTO pg.bills VALUES (91010, 2.50), (91008, 1.00);

-- private reading history, and a table the extension does not know about
CREATE TABLE pg.reading_list (patron_id bigint, title text);
INSERT INTO pg.reading_list VALUES
    (91001, 'Notes on the Analytical Engine'), (91001, 'Sketch of the Engine'),
    (91007, 'Into the Void'), (91008, 'SICP');
CREATE TABLE pg.notes (id serial PRIMARY KEY, patron_id bigint REFERENCES pg.patrons, note text);
INSERT INTO pg.notes (patron_id, note) VALUES (91007, 'asked about the space collection');

-- retention: printed receipts (deleted after 30 days), an outbox (severed
-- after 3 days); loans_ph is severed to the placeholder after a year
CREATE TABLE pg.receipts (id int PRIMARY KEY, patron_id bigint, printed_at timestamptz NOT NULL);
INSERT INTO pg.receipts VALUES
    (1, 91008, now() - interval '40 days'), (2, 91008, now() - interval '31 days'), (3, 91008, now() - interval '5 days');
CREATE TABLE pg.messages (id int PRIMARY KEY, patron_id bigint, channel text NOT NULL, sent_at timestamptz NOT NULL);
INSERT INTO pg.messages VALUES
    (1, 91008, 'email', now() - interval '4 days'), (2, 91008, 'email', now() - interval '1 day'),
    (3, NULL, 'email', now() - interval '10 days');

DO $$ BEGIN
    PERFORM pals_privacy.bind_patrons('pg.patrons', 'id', 'expires', keep_history_column => 'keep_history');
    PERFORM pals_privacy.bind_loans('pg.loans_null', 'patron_id', 'item_id', '{returned,lost}', 'paid');
    PERFORM pals_privacy.bind_loans('pg.loans_ph', 'patron_id', 'item_id', '{returned,lost}', 'paid', sever_with => 'patron:0');
    PERFORM pals_privacy.bind_loans('pg.loans_del', 'patron_id', 'item_id', '{returned,lost}', 'paid', sever_with => 'delete');
    PERFORM pals_privacy.bind_loans('pg.holds', 'patron_id', 'item_id', '{filled,cancelled}');
    PERFORM pals_privacy.bind_balance('pg.balances', 'patron_id', 'owed');
    PERFORM pals_privacy.bind_balance('pg.bills', 'patron_id', 'amount');
    PERFORM pals_privacy.bind_private_history('pg.reading_list', 'patron_id');
    PERFORM pals_privacy.bind_outbox('pg.messages', 'patron_id', 'channel', 'notices');
    PERFORM pals_privacy.retain('pg.receipts', 'printed_at', '30 days', 'delete');
    PERFORM pals_privacy.retain('pg.messages', 'sent_at', '3 days', 'sever');
    PERFORM pals_privacy.retain('pg.loans_ph', 'checked_out', '365 days', 'sever');
END $$;

-- copies of reading history kept by the extension (history_mode 'copy')
INSERT INTO pals_privacy.private_history (patron, relation, item, row_data) VALUES
    ('91001', 'pg.loans_null', '1', '{"title": "a"}'), ('91001', 'pg.loans_null', '2', '{"title": "b"}'),
    ('91007', 'pg.loans_null', '5', '{"title": "c"}'), ('91008', 'pg.loans_null', '4', '{"title": "d"}');

-- Helpers
CREATE FUNCTION pg.state(rel regclass) RETURNS text LANGUAGE plpgsql AS $$
DECLARE s text;
BEGIN
    EXECUTE format('SELECT string_agg(id || '':'' || coalesce(patron_id::text, ''-''), '' '' ORDER BY id) FROM %s', rel)
        INTO s;
    RETURN coalesce(s, '');
END $$;
-- everything a purge or retention run could change, as one checksum
CREATE FUNCTION pg.snapshot() RETURNS text LANGUAGE sql AS $$
    SELECT md5(concat_ws('|',
        (SELECT string_agg(t::text, ',' ORDER BY id) FROM pg.patrons t),
        (SELECT string_agg(t::text, ',' ORDER BY id) FROM pg.loans_null t),
        (SELECT string_agg(t::text, ',' ORDER BY id) FROM pg.loans_ph t),
        (SELECT string_agg(t::text, ',' ORDER BY id) FROM pg.loans_del t),
        (SELECT string_agg(t::text, ',' ORDER BY id) FROM pg.holds t),
        (SELECT string_agg(t::text, ',' ORDER BY id) FROM pg.fines t),
        (SELECT string_agg(t::text, ',' ORDER BY t::text) FROM pg.bills t),
        (SELECT string_agg(t::text, ',' ORDER BY t::text) FROM pg.reading_list t),
        (SELECT string_agg(t::text, ',' ORDER BY id) FROM pg.notes t),
        (SELECT string_agg(t::text, ',' ORDER BY id) FROM pg.receipts t),
        (SELECT string_agg(t::text, ',' ORDER BY id) FROM pg.messages t),
        (SELECT string_agg(concat_ws(':', patron, relation, item, row_data), ',' ORDER BY id)
           FROM pals_privacy.private_history),
        (SELECT count(*) FROM pals_privacy.sever_pending)::text))
$$;
CREATE FUNCTION pg.patron_ids() RETURNS text LANGUAGE sql AS $$
    SELECT string_agg(id::text, ' ' ORDER BY id) FROM pg.patrons
$$;

------------------------------------------------------------------------------
-- Settings
------------------------------------------------------------------------------
RESET pals_privacy.purge_grace;
SELECT is(current_setting('pals_privacy.purge_grace'), '90d', 'purge_grace defaults to 90 days');
SELECT is(current_setting('pals_privacy.maintenance_interval'), '1h', 'maintenance_interval defaults to 1 hour');
SELECT is(current_setting('pals_privacy.maintenance_databases'), '', 'maintenance_databases defaults to empty');
SET pals_privacy.purge_grace = '30d';
SELECT is(current_setting('pals_privacy.purge_grace'), '30d', 'purge_grace takes a value with units');
SELECT throws_ok($$SET pals_privacy.purge_grace = '-1'$$, '22023', NULL,
                 'a negative purge_grace is rejected');
SELECT throws_ok($$SET pals_privacy.purge_grace = 'abc'$$, '22023', NULL,
                 'a purge_grace that is not a duration is rejected');
SELECT throws_ok($$SET pals_privacy.maintenance_interval = '30s'$$, '55P02', NULL,
                 'maintenance_interval is not set per session (sighup)');
-- ALTER SYSTEM validates the value (and cannot run inside a function); the
-- message's range reads (10 .. 2147483) before PostgreSQL 16, (10 s .. 2147483 s) after
\set VERBOSITY sqlstate
ALTER SYSTEM SET pals_privacy.maintenance_interval = '1s';
\set VERBOSITY terse
SELECT is(:'SQLSTATE'::text, '22023', 'a maintenance_interval below 10s is rejected');
ALTER SYSTEM SET pals_privacy.maintenance_interval = 'often';
SELECT is(:'SQLSTATE'::text, '22023', 'a maintenance_interval that is not a duration is rejected');
SELECT is(current_setting('pals_privacy.purge_grace'), '30d', 'rejected values leave the setting alone');

------------------------------------------------------------------------------
-- Permissions and arguments
------------------------------------------------------------------------------
CREATE ROLE regress_pals_purge_clerk;
SET ROLE regress_pals_purge_clerk;
SELECT throws_ok($$SET pals_privacy.purge_grace = '1d'$$, '42501', NULL,
                 'purge_grace is superuser-only');
SELECT throws_ok($$SELECT pals_privacy.maintenance_now()$$, '42501', NULL,
                 'maintenance_now: not for an ordinary role');
CALL pals_privacy.purge_expired(dry_run => true);
SELECT is(:'SQLSTATE'::text, '42501', 'purge_expired: not for an ordinary role');
CALL pals_privacy.apply_retention(dry_run => true);
SELECT is(:'SQLSTATE'::text, '42501', 'apply_retention: not for an ordinary role');
CALL pals_privacy.run_maintenance();
SELECT is(:'SQLSTATE'::text, '42501', 'run_maintenance: not for an ordinary role');
RESET ROLE;
SELECT pg.snapshot() AS snap0 \gset
CALL pals_privacy.purge_expired(batch_size => 0);
SELECT is(:'SQLSTATE'::text, '22023', 'purge_expired: batch_size 0 is rejected');
CALL pals_privacy.purge_expired(batch_size => -5);
SELECT is(:'SQLSTATE'::text, '22023', 'purge_expired: a negative batch_size is rejected');
CALL pals_privacy.apply_retention(batch_size => 0);
SELECT is(:'SQLSTATE'::text, '22023', 'apply_retention: batch_size 0 is rejected');
SELECT is(pg.snapshot(), :'snap0', 'refused calls change nothing');
SELECT is((SELECT count(*) FROM pals_privacy.maintenance_runs), 0::bigint, 'refused calls record no run');

------------------------------------------------------------------------------
-- Dry run: the same counts, no change
------------------------------------------------------------------------------
CALL pals_privacy.purge_expired(dry_run => true) \gset dry_
SELECT is(:'dry_result'::jsonb - 'errors',
          '{"dry_run": true, "eligible": 3, "purged": 2,
            "skipped": {"balance": 2, "open_loan": 2, "locked": 0, "error": 1}}'::jsonb,
          'dry run: the counts of the purge it would do');
SELECT is(pg.snapshot(), :'snap0', 'dry run: no ILS data (nor extension data) changed');
SELECT is(pg.patron_ids(), '0 91001 91002 91003 91004 91005 91006 91007 91008 91010', 'dry run: every patron still there');

-- the grace period
SET pals_privacy.purge_grace = '5d';
CALL pals_privacy.purge_expired(dry_run => true) \gset g_
SELECT is((:'g_result'::jsonb->>'eligible')::int, 4, 'grace 5 days: the patron expired 10 days ago is eligible too');
SET pals_privacy.purge_grace = 0;
CALL pals_privacy.purge_expired(dry_run => true) \gset g_
SELECT is((:'g_result'::jsonb->>'eligible')::int, 4, 'grace 0: eligible as soon as expired (the placeholder never)');
SET pals_privacy.purge_grace = '200d';
CALL pals_privacy.purge_expired(dry_run => true) \gset g_
SELECT is(:'g_result'::jsonb - 'errors',
          '{"dry_run": true, "eligible": 0, "purged": 0,
            "skipped": {"balance": 0, "open_loan": 0, "locked": 0, "error": 0}}'::jsonb,
          'grace 200 days: nobody is a candidate (not expired long enough is not a skip reason)');
SET pals_privacy.purge_grace = '30d';
SELECT is(pg.snapshot(), :'snap0', 'dry runs with any grace: nothing changed');

------------------------------------------------------------------------------
-- The purge (batches of one patron)
------------------------------------------------------------------------------
CALL pals_privacy.purge_expired(batch_size => 1) \gset
SELECT is(:'result'::jsonb - 'errors',
          '{"dry_run": false, "eligible": 3, "purged": 2,
            "skipped": {"balance": 2, "open_loan": 2, "locked": 0, "error": 1}}'::jsonb,
          'purge: 2 purged; kept for balance 2, open loan or hold 2, error 1');
SELECT is(jsonb_array_length(:'result'::jsonb->'errors'), 1, 'purge: one error reported');
SELECT matches((:'result'::jsonb->'errors')::text, 'foreign key', 'purge: the error message says what failed');
SELECT is(:'result'::jsonb - 'errors' - 'dry_run', :'dry_result'::jsonb - 'errors' - 'dry_run',
          'the dry run reported the same counts as the purge');

SELECT is(pg.patron_ids(), '0 91002 91003 91005 91006 91007 91008 91010',
          'purged: the eligible patron and the one in credit; every kept patron still there');
SELECT ok(EXISTS (SELECT 1 FROM pg.patrons WHERE id = 0), 'the placeholder patron is never purged, though expired');
SELECT ok(EXISTS (SELECT 1 FROM pg.patrons WHERE id = 91002), 'kept: expired within the grace period');
SELECT ok(EXISTS (SELECT 1 FROM pg.patrons WHERE id = 91003), 'kept: owes in a bound balance view');
SELECT ok(EXISTS (SELECT 1 FROM pg.patrons WHERE id = 91010), 'kept: owes in a bound balance table');
SELECT ok(EXISTS (SELECT 1 FROM pg.patrons WHERE id = 91005), 'kept: an open loan');
SELECT ok(EXISTS (SELECT 1 FROM pg.patrons WHERE id = 91006), 'kept: an open hold (neither closed column set)');
SELECT ok(EXISTS (SELECT 1 FROM pg.patrons WHERE id = 91007), 'kept: removal failed (foreign key from an unbound table)');
SELECT ok(EXISTS (SELECT 1 FROM pg.patrons WHERE id = 91008), 'kept: not expired');

-- history of the purged patron severed by each strategy; the others' untouched
SELECT is(pg.state('pg.loans_null'), '1:- 2:- 3:91005 4:91008 5:91007',
          'sever_with null: every row of the purged patron (settled or not) has a NULL patron');
SELECT is(pg.state('pg.loans_ph'), '1:0 2:91008 3:91007 4:0 5:91008',
          'sever_with patron:0: the purged patron''s rows point to the placeholder');
SELECT is(pg.state('pg.loans_del'), '3:91008', 'sever_with delete: the purged patron''s rows are gone');
SELECT is(pg.state('pg.holds'), '1:- 2:91006 3:91008 4:91006', 'holds: the purged patron''s filled hold severed');
SELECT is((SELECT count(*) FROM pg.loans_null) + (SELECT count(*) FROM pg.loans_ph) + (SELECT count(*) FROM pg.holds),
          14::bigint, 'no row lost outside the delete strategy');
SELECT is((SELECT string_agg(patron_id::text, ' ' ORDER BY patron_id) FROM pg.reading_list), '91007 91008',
          'bound private history of the purged patron deleted');
SELECT is((SELECT string_agg(patron, ' ' ORDER BY patron) FROM pals_privacy.private_history), '91007 91008',
          'copied private history of the purged patron deleted');
SELECT is((SELECT string_agg(patron_id::text || ':' || amount, ' ' ORDER BY id) FROM pg.fines), '91003:5.00',
          'the purged patrons'' fines went with them (ON DELETE CASCADE)');
-- the patron whose removal failed is wholly untouched
SELECT is((SELECT name FROM pg.patrons WHERE id = 91007), 'Gus Grissom', 'failed removal: patron row unchanged');
SELECT ok((SELECT patron_id = 91007 FROM pg.loans_null WHERE id = 5) AND (SELECT patron_id = 91007 FROM pg.loans_ph WHERE id = 3),
          'failed removal: their history was not severed (rolled back)');
SELECT ok(EXISTS (SELECT 1 FROM pg.reading_list WHERE patron_id = 91007)
          AND EXISTS (SELECT 1 FROM pals_privacy.private_history WHERE patron = '91007'),
          'failed removal: their private history was not deleted');

-- a second run: nothing more to purge, the same skips
CALL pals_privacy.purge_expired() \gset
SELECT is(:'result'::jsonb - 'errors',
          '{"dry_run": false, "eligible": 1, "purged": 0,
            "skipped": {"balance": 2, "open_loan": 2, "locked": 0, "error": 1}}'::jsonb,
          'second run: nothing purged, the failing patron fails again');

-- the patron pays, the loan comes back, the other table's reference goes
INSERT INTO pg.fines (patron_id, amount) VALUES (91003, -5.00);
UPDATE pg.loans_null SET returned = now(), paid = now() WHERE id = 3;
DELETE FROM pg.notes WHERE patron_id = 91007;
SELECT pg.snapshot() AS snap1 \gset
CALL pals_privacy.purge_expired(dry_run => true) \gset
SELECT is(:'result'::jsonb - 'errors',
          '{"dry_run": true, "eligible": 3, "purged": 3,
            "skipped": {"balance": 1, "open_loan": 1, "locked": 0, "error": 0}}'::jsonb,
          'after payment, return and fix: three would be purged');
SELECT is(pg.snapshot(), :'snap1', 'that dry run changed nothing either');

------------------------------------------------------------------------------
-- Retention
------------------------------------------------------------------------------
CALL pals_privacy.apply_retention(dry_run => true) \gset
SELECT is(:'result'::jsonb,
          '{"dry_run": true, "rules": {"pg.receipts": 2, "pg.messages": 1, "pg.loans_ph": 1}, "rows": 4}'::jsonb,
          'retention dry run: what it would do (the same counts as the run)');
SELECT is(pg.snapshot(), :'snap1', 'retention dry run: nothing changed');
CALL pals_privacy.apply_retention(batch_size => 1) \gset
SELECT is(:'result'::jsonb,
          '{"dry_run": false, "rules": {"pg.receipts": 2, "pg.messages": 1, "pg.loans_ph": 1}, "rows": 4}'::jsonb,
          'retention (batches of one row): the counts per rule; rows already severed not counted');
SELECT is((SELECT string_agg(id::text, ' ' ORDER BY id) FROM pg.receipts), '3', 'action delete: rows older than keep deleted');
SELECT is(pg.state('pg.messages'), '1:- 2:91008 3:-', 'action sever (outbox): patron set to NULL on rows older than keep');
SELECT is(pg.state('pg.loans_ph'), '1:0 2:0 3:91007 4:0 5:91008',
          'action sever (loans, patron:0): old closed rows re-pointed to the placeholder; an open loan keeps its patron');
CALL pals_privacy.apply_retention() \gset
SELECT is(:'result'::jsonb,
          '{"dry_run": false, "rules": {"pg.receipts": 0, "pg.messages": 0, "pg.loans_ph": 0}, "rows": 0}'::jsonb,
          'retention again: nothing left to do');

------------------------------------------------------------------------------
-- run_maintenance: pending severs, retention, purge
------------------------------------------------------------------------------
INSERT INTO pg.receipts VALUES (4, 91005, now() - interval '60 days');
CALL pals_privacy.run_maintenance() \gset
SELECT is(:'result'::jsonb->'retention'->>'rows', '1', 'run_maintenance: applied retention');
SELECT is(:'result'::jsonb->'purge'->>'purged', '3', 'run_maintenance: purged the patrons now eligible');
SELECT is(pg.patron_ids(), '0 91002 91006 91008 91010', 'run_maintenance: the patron who paid, returned, was fixed are gone');
SELECT is((SELECT string_agg(id::text, ' ' ORDER BY id) FROM pg.receipts), '3', 'run_maintenance: old receipt deleted');
SELECT is(pg.state('pg.loans_null'), '1:- 2:- 3:- 4:91008 5:-', 'run_maintenance: history of the purged patrons severed');

------------------------------------------------------------------------------
-- maintenance_runs
------------------------------------------------------------------------------
SELECT is((SELECT string_agg(kind || ':' || dry_run, ' ' ORDER BY id) FROM pals_privacy.maintenance_runs),
          'purge:true purge:true purge:true purge:true purge:false purge:false purge:true '
          'retention:true retention:false retention:false maintenance:false retention:false purge:false',
          'every run recorded, with its kind and dry_run (refused calls not recorded; run_maintenance records its steps too)');
SELECT ok(bool_and(finished_at >= started_at AND error IS NULL), 'every run finished, no run-level error')
  FROM pals_privacy.maintenance_runs;
SELECT is((SELECT counts - 'errors' FROM pals_privacy.maintenance_runs WHERE kind = 'purge' AND NOT dry_run ORDER BY id LIMIT 1),
          '{"dry_run": false, "eligible": 3, "purged": 2,
            "skipped": {"balance": 2, "open_loan": 2, "locked": 0, "error": 1}}'::jsonb,
          'a purge run records its counts');
SELECT is((SELECT counts->'rules' FROM pals_privacy.maintenance_runs WHERE kind = 'retention' AND NOT dry_run ORDER BY id LIMIT 1),
          '{"pg.receipts": 2, "pg.messages": 1, "pg.loans_ph": 1}'::jsonb, 'a retention run records its counts per rule');
SELECT ok((SELECT counts ?& ARRAY['retention', 'purge'] FROM pals_privacy.maintenance_runs WHERE kind = 'maintenance'),
          'a maintenance run records counts per step');
SELECT is((SELECT count(*) FROM pals_privacy.maintenance_runs r  -- not the times: 9100xx microseconds
            WHERE (to_jsonb(r) - 'started_at' - 'finished_at')::text ~ '9100[0-9]{2}|Lovelace|Diddley|Twombly|Fosse|Ruscha|Kennedy|Grissom|Abelson|Mitchell'),
          0::bigint, 'maintenance_runs holds no patron ids or names (not even in error messages)');

------------------------------------------------------------------------------
-- Clean up part A
------------------------------------------------------------------------------
DO $$ DECLARE r regclass; BEGIN
    FOR r IN SELECT DISTINCT relation FROM pals_privacy.bindings WHERE relation::text LIKE 'pg.%' AND kind <> 'patrons' LOOP
        PERFORM pals_privacy.unbind(r);
    END LOOP;
    PERFORM pals_privacy.unbind('pg.patrons');
END $$;
DELETE FROM pals_privacy.private_history WHERE patron ~ '^9100';
DROP SCHEMA pg CASCADE;
DELETE FROM pals_privacy.maintenance_runs;
SELECT is((SELECT count(*) FROM pals_privacy.bindings) + (SELECT count(*) FROM pals_privacy.private_history)
          + (SELECT count(*) FROM pals_privacy.last_borrower) + (SELECT count(*) FROM pals_privacy.sever_pending),
          0::bigint, 'part A: nothing left bound, no severing state left');

------------------------------------------------------------------------------
-- Part B: a patron table whose purge is the ILS's own function (soft delete)
------------------------------------------------------------------------------
CREATE SCHEMA pf;
CREATE TABLE pf.patrons (id bigint PRIMARY KEY, name text NOT NULL, expires timestamptz NOT NULL,
                         deleted boolean NOT NULL DEFAULT false);
INSERT INTO pf.patrons VALUES
    (0, 'Anonymous', 'infinity', false),
    (92001, 'Kim Gordon', now() - interval '100 days', false),    -- soft-deleted
    (92002, 'Lou Reed', now() + interval '100 days', false),      -- not expired
    (92003, 'Max Roach', now() - interval '100 days', false),     -- the ILS refuses to purge
    (92004, 'Nan Goldin', now() - interval '100 days', false);    -- an open loan
CREATE TABLE pf.loans (id int PRIMARY KEY, patron_id bigint NOT NULL REFERENCES pf.patrons, item_id int NOT NULL,
                       returned timestamptz, paid timestamptz);
INSERT INTO pf.loans VALUES
    (1, 92001, 1, now() - interval '150 days', now() - interval '150 days'),
    (2, 92003, 2, now() - interval '150 days', now() - interval '150 days'),
    (3, 92002, 3, now() - interval '150 days', now() - interval '150 days'),
    (4, 92004, 4, NULL, NULL);
CREATE FUNCTION pf.soft_purge(patron bigint) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF patron = 92003 THEN
        RAISE EXCEPTION 'account under review';
    END IF;
    UPDATE pf.patrons SET deleted = true, name = 'purged patron' WHERE id = patron;
END $$;
-- an outbox: the soft delete leaves the patron row, and with it every notice
-- addressed to the patron, its text naming them (no cascade removes them)
CREATE TABLE pf.outbox (id int PRIMARY KEY, patron_id bigint REFERENCES pf.patrons, channel text NOT NULL, body text);
INSERT INTO pf.outbox VALUES (1, 92001, 'email', 'Dear Kim Gordon, "Daydream Nation" is due'),
    (2, 92002, 'email', 'Dear Lou Reed, ...'), (3, 92003, 'email', 'Dear Max Roach, ...');
DO $$ BEGIN
    PERFORM pals_privacy.bind_patrons('pf.patrons', 'id', 'expires', purge_function => 'pf.soft_purge(bigint)');
    PERFORM pals_privacy.bind_loans('pf.loans', 'patron_id', 'item_id', '{returned}', 'paid', sever_with => 'patron:0');
    PERFORM pals_privacy.bind_outbox('pf.outbox', 'patron_id', 'channel', 'notices');
END $$;

CALL pals_privacy.purge_expired(dry_run => true) \gset
SELECT is(:'result'::jsonb - 'errors',
          '{"dry_run": true, "eligible": 2, "purged": 1,
            "skipped": {"balance": 0, "open_loan": 1, "locked": 0, "error": 1}}'::jsonb,
          'purge function, dry run: counts');
SELECT is((SELECT string_agg(id || ':' || name || ':' || deleted, ' ' ORDER BY id) FROM pf.patrons),
          '0:Anonymous:false 92001:Kim Gordon:false 92002:Lou Reed:false 92003:Max Roach:false 92004:Nan Goldin:false',
          'purge function, dry run: the function did not change anything');
CALL pals_privacy.purge_expired() \gset
SELECT is(:'result'::jsonb - 'errors',
          '{"dry_run": false, "eligible": 2, "purged": 1,
            "skipped": {"balance": 0, "open_loan": 1, "locked": 0, "error": 1}}'::jsonb,
          'purge function: one purged, one refused by the function, one with an open loan');
SELECT matches((:'result'::jsonb->'errors')::text, 'account under review', 'purge function: its error message reported');
SELECT is((SELECT string_agg(id || ':' || name || ':' || deleted, ' ' ORDER BY id) FROM pf.patrons),
          '0:Anonymous:false 92001:purged patron:true 92002:Lou Reed:false 92003:Max Roach:false 92004:Nan Goldin:false',
          'purge function: called for the purged patron (soft delete), the row stays as the function left it');
SELECT is((SELECT string_agg(id || ':' || patron_id, ' ' ORDER BY id) FROM pf.loans), '1:0 2:92003 3:92002 4:92004',
          'purge function: history severed for the purged patron only (not for the one the function refused)');
SELECT is((SELECT string_agg(id || ':' || patron_id, ' ' ORDER BY id) FROM pf.outbox), '2:92002 3:92003',
          'purge function: the purged patron''s messages in a bound outbox go (the one the function refused keeps its own)');
SELECT is((SELECT count(*) FROM pf.outbox WHERE body LIKE '%Kim Gordon%'), 0::bigint,
          '... so no notice names the purged patron any more');

DO $$ BEGIN
    PERFORM pals_privacy.unbind('pf.outbox');
    PERFORM pals_privacy.unbind('pf.loans');
    PERFORM pals_privacy.unbind('pf.patrons');
END $$;
DROP SCHEMA pf CASCADE;
DROP ROLE regress_pals_purge_clerk;
DELETE FROM pals_privacy.maintenance_runs;
-- the soft-deleted patron 92001 is recorded as purged (unbinding leaves the
-- record): a later file's patron 92001 would never be eligible
DELETE FROM pals_privacy.purged_patrons;
SELECT is((SELECT count(*) FROM pals_privacy.bindings) + (SELECT count(*) FROM pals_privacy.private_history)
          + (SELECT count(*) FROM pals_privacy.last_borrower) + (SELECT count(*) FROM pals_privacy.sever_pending)
          + (SELECT count(*) FROM pals_privacy.purged_patrons),
          0::bigint, 'nothing left bound, no severing state left');

SELECT * FROM finish();
