-- Maintenance records the real error text and skips a broken binding
-- instead of failing everything; maintenance_status, purge_progress and
-- health() report it.  Procedures commit, so this file runs outside a
-- transaction block, in a database of its own (dropped at the end), so
-- that the runs and audit entries it commits are no other test's business.
SET client_min_messages = warning;
SELECT current_database() AS regress_db \gset
CREATE DATABASE regress_deploy_maintenance;
\c regress_deploy_maintenance
SET client_min_messages = warning;
CREATE EXTENSION pgtap;
CREATE EXTENSION pals_privacy;
SELECT plan(19);

CREATE SCHEMA mt;
CREATE TABLE mt.patrons (id bigint PRIMARY KEY, expires date NOT NULL);
INSERT INTO mt.patrons VALUES (0, 'infinity'), (1, '2000-01-01'), (2, 'infinity');
CREATE TABLE mt.loans (id int PRIMARY KEY, patron_id bigint, item_id int NOT NULL, returned date);
INSERT INTO mt.loans VALUES (1, 1, 100, '2001-01-01');
CREATE TABLE mt.receipts (printed_at timestamptz NOT NULL);
INSERT INTO mt.receipts VALUES (now() - interval '40 days'), (now());
CREATE TABLE mt.signups (signed_up_at timestamptz NOT NULL);
INSERT INTO mt.signups VALUES (now() - interval '40 days'), (now());
-- the ILS's purge function notes the purge's progress as it is called
CREATE TABLE mt.seen (purged_so_far text);
CREATE FUNCTION mt.purge_patron(bigint) RETURNS void LANGUAGE sql AS $$
    INSERT INTO mt.seen SELECT coalesce(p.purged::text, '-') FROM pals_privacy.purge_progress p WHERE p.state = 'in progress';
    DELETE FROM mt.patrons WHERE id = $1
$$;
SELECT pals_privacy.bind_patrons('mt.patrons', 'id', 'expires', purge_function => 'mt.purge_patron(bigint)');
SELECT pals_privacy.bind_loans('mt.loans', 'patron_id', 'item_id', '{returned}');
SELECT pals_privacy.retain('mt.receipts', 'printed_at', '30 days');
SELECT pals_privacy.retain('mt.signups', 'signed_up_at', '30 days');

-- a retention rule's column renamed: that rule is skipped and reported, the other one runs
ALTER TABLE mt.receipts RENAME COLUMN printed_at TO printed;
CALL pals_privacy.run_maintenance();
SELECT is((SELECT count(*) FROM mt.signups), 1::bigint, 'the sound retention rule was applied');
SELECT is((SELECT count(*) FROM mt.receipts), 2::bigint, 'the broken one was skipped');
SELECT is((SELECT error FROM pals_privacy.maintenance_runs WHERE kind = 'retention' ORDER BY id DESC LIMIT 1),
          'mt.receipts: column "printed_at" no longer exists',
          'the retention run records what is wrong');
SELECT matches((SELECT error FROM pals_privacy.maintenance_runs WHERE kind = 'maintenance' ORDER BY id DESC LIMIT 1),
               'retention: .*column "printed_at" no longer exists', 'so does the maintenance run');
SELECT isnt((SELECT finished_at FROM pals_privacy.maintenance_runs WHERE kind = 'maintenance' ORDER BY id DESC LIMIT 1), NULL,
            '... which finished');
SELECT is((SELECT count(*) FROM mt.patrons WHERE id = 1), 0::bigint, 'the purge ran: the expired patron is gone');
SELECT is((SELECT state FROM pals_privacy.maintenance_status WHERE kind = 'maintenance'), 'failed', 'maintenance_status: failed');
SELECT is((SELECT state || ' ' || purged FROM pals_privacy.purge_progress), 'done 1', 'purge_progress: done, 1 purged');
SELECT matches((SELECT started_by FROM pals_privacy.maintenance_status WHERE kind = 'maintenance'), '^pg_regress', 'who started the run');

-- a loan binding's column renamed: the purge does not run blind
ALTER TABLE mt.receipts RENAME COLUMN printed TO printed_at;
ALTER TABLE mt.loans RENAME COLUMN returned TO returned_on;
UPDATE mt.patrons SET expires = '2000-01-01' WHERE id = 2;
CALL pals_privacy.run_maintenance();
SELECT is((SELECT count(*) FROM mt.patrons WHERE id = 2), 1::bigint, 'a loan binding is broken: nobody is purged');
SELECT matches((SELECT error FROM pals_privacy.maintenance_runs WHERE kind = 'maintenance' ORDER BY id DESC LIMIT 1),
               '^purge skipped, bindings are broken: loans mt.loans: column "returned" no longer exists$',
               'the maintenance run says why');
SELECT is((SELECT count(*) FROM mt.receipts), 1::bigint, 'retention still ran');
SELECT is((SELECT ok FROM pals_privacy.health() WHERE check_name = 'bindings valid'), false, 'health(): bindings are not valid');
SELECT matches((SELECT detail FROM pals_privacy.health() WHERE check_name = 'last maintenance run'),
               'failed: purge skipped', 'health(): the last run and its error');
SELECT is((SELECT ok FROM pals_privacy.health() WHERE check_name = 'backlog severed'), false, 'health(): the backlog never ran');
ALTER TABLE mt.loans RENAME COLUMN returned_on TO returned;
SELECT is((SELECT ok FROM pals_privacy.health() WHERE check_name = 'bindings valid'), true, 'health(): fixed, the bindings are valid');
SELECT is((SELECT ok FROM pals_privacy.health() WHERE check_name = 'library preloaded'), true, 'health(): the library is preloaded');

-- purge progress, live: four expired patrons (2 waited for the broken binding), one per batch
TRUNCATE mt.seen;
INSERT INTO mt.patrons VALUES (10, '2000-01-01'), (11, '2000-01-01'), (12, '2000-01-01');
CALL pals_privacy.purge_expired(batch_size => 1);
SELECT is((SELECT string_agg(purged_so_far, ',') FROM mt.seen), '-,1,2,3',
          'purge_progress shows the patrons purged so far while the purge runs');
SELECT is((SELECT state || ' ' || purged || ' of ' || eligible FROM pals_privacy.purge_progress), 'done 4 of 4',
          'purge_progress: done, with the final counts');

SELECT * FROM finish();
\c :regress_db
DROP DATABASE regress_deploy_maintenance;
