-- DROP EXTENSION while a session uses the extension.  The pals_privacy
-- schema outlives the extension (CREATE EXTENSION made it, but it is not a
-- member), so a backend must not take the schema for the extension: it used
-- to, and every later statement planned for a redacted role, or planned at
-- all once the planner-statistics hook was added, failed with "extension
-- pals_privacy is not installed" until the session reconnected.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pals_privacy;

BEGIN;
SELECT plan(9);

CREATE ROLE regress_drop_staff;
SELECT pals_privacy.classify_role('regress_drop_staff', 'staff');
CREATE SCHEMA dropx;
GRANT USAGE ON SCHEMA dropx TO regress_drop_staff;
CREATE TABLE dropx.patrons (id bigint PRIMARY KEY, expires date NOT NULL DEFAULT 'infinity');
INSERT INTO dropx.patrons SELECT g FROM generate_series(0, 10) g;
CREATE TABLE dropx.loans (id int PRIMARY KEY, patron_id bigint NOT NULL, item_id int NOT NULL, returned date);
INSERT INTO dropx.loans VALUES (1, 5, 1, '2025-01-01'), (2, 6, 2, NULL);
GRANT SELECT ON dropx.loans TO regress_drop_staff;
SELECT pals_privacy.bind_patrons('dropx.patrons', 'id', 'expires');
SELECT pals_privacy.bind_loans('dropx.loans', 'patron_id', 'item_id', ARRAY['returned'],
                               sever_with => 'patron:0', keep_last_borrower => false);
ANALYZE dropx.loans;

SET ROLE regress_drop_staff;
SELECT results_eq('SELECT id, patron_id FROM dropx.loans ORDER BY id', $$VALUES (1, 0::bigint), (2, 6)$$,
                  'bound: staff reads the closed loan''s patron as the placeholder');
SELECT is((SELECT count(*) FROM pg_stat_user_tables WHERE schemaname = 'pals_privacy' AND seq_scan IS NOT NULL), 0::bigint,
          'staff reads no counter of the extension''s own tables');
RESET ROLE;

SET LOCAL pals_privacy.allow_drop_with_evidence = on;   -- the bindings are audited: evidence
SET LOCAL client_min_messages = error;   -- the counts of deleted evidence depend on earlier tests
DROP EXTENSION pals_privacy CASCADE;
SELECT ok(EXISTS (SELECT FROM pg_namespace WHERE nspname = 'pals_privacy'),
          'the schema is still there after DROP EXTENSION');
SELECT lives_ok($$SELECT count(*) FROM pg_class WHERE relname = 'loans'$$,
                'the same session plans and runs a query after DROP EXTENSION');
SELECT lives_ok($$SELECT * FROM dropx.loans WHERE patron_id = (SELECT 5::bigint)$$,
                'and a query on the formerly bound table (planner statistics of its patron column)');
SET ROLE regress_drop_staff;
SELECT lives_ok($$SELECT * FROM dropx.loans$$,
                'and a query by the formerly redacted role');
RESET ROLE;
-- the schema dropped too, and made again by CREATE EXTENSION: a schema of the same name with
-- another OID; a backend that kept the first one's OID (registry.c, pals_extension_namespace)
-- must let it go, or the counters of the new schema's tables are no longer hidden
DROP SCHEMA pals_privacy;
CREATE EXTENSION pals_privacy;
SELECT is((SELECT count(*) FROM pals_privacy.loan_binding), 0::bigint,
          'CREATE EXTENSION again in the same session: an empty registry, read without error');
SELECT pals_privacy.classify_role('regress_drop_staff', 'staff');
SET ROLE regress_drop_staff;
SELECT is((SELECT count(*) FROM pg_stat_user_tables WHERE schemaname = 'pals_privacy' AND seq_scan IS NOT NULL), 0::bigint,
          'a schema pals_privacy made again in the same session: no counter of its tables either');
RESET ROLE;
SELECT cmp_ok((SELECT count(*) FROM pg_stat_user_tables WHERE schemaname = 'pals_privacy' AND seq_scan IS NOT NULL), '>', 0::bigint,
              'control: the superuser reads them');

SELECT * FROM finish();
ROLLBACK;
