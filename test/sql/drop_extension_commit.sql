-- DROP EXTENSION committed by a transaction that appended audit entries before it (a DBA who
-- classifies a role, or unbinds, then drops): the audit log's entries are chained when their
-- transaction commits, and the log went with the extension.  The commit used to read the
-- dropped log and fail ('relation "pals_privacy.audit_log" does not exist'), so such a DROP could
-- never commit.  A database of its own: the drops commit.
\o /dev/null
\set own_db drop_extension_commit
\set own_roles regress_dec_staff
\i test/own_database.sql
CREATE EXTENSION pals_privacy;
CREATE EXTENSION pgtap;
\o
SELECT plan(6);

-- an audit entry, then the DROP, in one transaction
BEGIN;
SELECT pals_privacy.classify_role('regress_dec_staff', 'staff');
SELECT cmp_ok((SELECT count(*) FROM pals_privacy.audit_log WHERE xmin::text = txid_current()::text), '>', 0::bigint,
              'control: the transaction appended an audit entry before the DROP');
SET LOCAL pals_privacy.allow_drop_with_evidence = on;
SET LOCAL client_min_messages = error;   -- the drop's warning counts the evidence it deletes
DROP EXTENSION pals_privacy CASCADE;
COMMIT;
SELECT ok(NOT EXISTS (SELECT FROM pg_extension WHERE extname = 'pals_privacy'),
          'the DROP EXTENSION committed, after an audit entry of the same transaction');

-- the same with the schema dropped too
DROP SCHEMA pals_privacy;
CREATE EXTENSION pals_privacy;
BEGIN;
SELECT pals_privacy.classify_role('regress_dec_staff', 'staff');
SET LOCAL pals_privacy.allow_drop_with_evidence = on;
SET LOCAL client_min_messages = error;
DROP EXTENSION pals_privacy CASCADE;
DROP SCHEMA pals_privacy;
COMMIT;
SELECT ok(NOT EXISTS (SELECT FROM pg_namespace WHERE nspname = 'pals_privacy'),
          'the DROP EXTENSION and DROP SCHEMA committed, after an audit entry of the same transaction');

-- dropped and created again in one transaction: the new log's entries are chained from its start
CREATE EXTENSION pals_privacy;
BEGIN;
SELECT pals_privacy.classify_role('regress_dec_staff', 'auditor');
SET LOCAL pals_privacy.allow_drop_with_evidence = on;
SET LOCAL client_min_messages = error;
DROP EXTENSION pals_privacy CASCADE;
DROP SCHEMA pals_privacy;
CREATE EXTENSION pals_privacy;
SELECT pals_privacy.classify_role('regress_dec_staff', 'staff');
COMMIT;
SELECT is((SELECT class FROM pals_privacy.role_class WHERE role = 'regress_dec_staff'::regrole), 'staff',
          'dropped and created again in one transaction: committed, with the new classification');
SELECT cmp_ok((SELECT count(*) FROM pals_privacy.audit_log), '>', 0::bigint, 'the new log holds the new entries');
SELECT is(pals_privacy.verify_audit(), NULL, 'and its chain verifies');

SELECT * FROM finish();
\o /dev/null
\c :own_home
DROP DATABASE drop_extension_commit WITH (FORCE);
