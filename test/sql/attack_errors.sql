-- Attack catalogue: writes of a logged-in patron to other patrons' rows,
-- prepared statements across SET ROLE, auto_explain (issue 13, classes 3, 10).
-- See test/attack/fixture.sql.
\set atk_db attack_errors
\set ECHO none
\i test/attack/fixture.sql
\set ECHO all
SELECT plan(10);

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
SET ROLE branch_staff;
SET client_min_messages = log;
SELECT count(*) AS staff_loans_of_9001 FROM demo.loans WHERE patron_id = 9001;
SELECT count(*) AS staff_history_of_9001 FROM demo.reading_history WHERE patron_id = 9001;
RESET client_min_messages;
SET client_min_messages = warning;
RESET ROLE;
RESET auto_explain.log_min_duration;

SELECT * FROM finish();
\set ECHO none
\i test/attack/done.sql
