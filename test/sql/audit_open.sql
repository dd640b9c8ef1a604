-- Audit entries are chained at commit (issue 14): an appender holds no lock
-- while its transaction is open (test/specs/audit-chain-lock.spec shows the
-- waits), so a transaction that appended cannot be prepared: it would hold
-- the chain until COMMIT PREPARED.  The control: the same role prepares a
-- transaction that appended nothing.  And within a transaction, its own
-- entries read as chained to the head, as before.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pals_privacy;
CREATE ROLE regress_ao_clerk;
CREATE TEMP TABLE ao_mark AS SELECT coalesce(max(id), 0) AS id FROM pals_privacy.audit_log;
GRANT SELECT ON ao_mark TO PUBLIC;

-- refused: the transaction appended an entry
SET SESSION AUTHORIZATION regress_ao_clerk;
BEGIN;
SELECT pals_privacy.acknowledge_policy('audit-open-1');
PREPARE TRANSACTION 'regress_ao_1';
-- the control: a transaction that appended nothing is prepared
BEGIN;
SELECT count(*) >= 0 AS read FROM pals_privacy.acknowledgments;
PREPARE TRANSACTION 'regress_ao_2';
RESET SESSION AUTHORIZATION;

BEGIN;
SELECT plan(6);
SELECT is((SELECT array_agg(gid::text ORDER BY gid) FROM pg_prepared_xacts WHERE gid LIKE 'regress_ao_%'),
          ARRAY['regress_ao_2'], 'the transaction that appended was not prepared; the control was');
SELECT is((SELECT count(*) FROM pals_privacy.audit_log WHERE id > (SELECT id FROM ao_mark)), 0::bigint,
          'the refused transaction was rolled back: no entry');
-- within a transaction, its own entries chain to the head as it reads it
SELECT lives_ok($$SELECT pals_privacy.classify_role('regress_ao_clerk', 'staff')$$, 'an append');
SELECT lives_ok($$SELECT pals_privacy.classify_role('regress_ao_clerk', 'collections')$$, 'and another');
SELECT is((SELECT count(*) FROM pals_privacy.audit_log a JOIN pals_privacy.audit_log p ON p.id = a.id - 1
            WHERE a.id > (SELECT id + 1 FROM ao_mark) AND a.prev_hash = p.hash),
          1::bigint, 'the second links to the first');
SELECT is(pals_privacy.verify_audit(), NULL, 'and the chain verifies in the transaction');
SELECT * FROM finish();
ROLLBACK;
ROLLBACK PREPARED 'regress_ao_2';
DROP ROLE regress_ao_clerk;
