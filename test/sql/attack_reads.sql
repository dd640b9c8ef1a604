-- Attack catalogue: reads by unusual paths, for every redacted class
-- (staff, auditor, collections, a logged-in patron about other patrons):
-- windows, LATERAL, recursive CTEs, GROUPING SETS, TABLESAMPLE, system
-- columns, whole rows, views of the attacker's, cursors WITH HOLD, advisory
-- locks, error oracles, row comparisons, prepared statements.  See
-- test/attack/fixture.sql.
\set atk_db attack_reads
\set ECHO none
\i test/attack/fixture.sql
\set ECHO all
SELECT plan(144);

BEGIN;  -- (cursors WITH HOLD need a transaction block)
\set cls staff
\set ECHO none
\i test/attack/reads.sql
\set ECHO all
\set cls auditor
\set ECHO none
\i test/attack/reads.sql
\set ECHO all
\set cls collections
\set ECHO none
\i test/attack/reads.sql
\set ECHO all
\set cls patron
\set ECHO none
\i test/attack/reads.sql
\set ECHO all
COMMIT;

SELECT * FROM finish();
\set ECHO none
\i test/attack/done.sql
