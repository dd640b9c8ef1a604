-- A bound view is read as its owner, never as the extension owner (issue
-- 14, src/view_owner.c).  The ILS's role (operational, not a superuser)
-- owns a balance view and the function it calls; the extension read the
-- view as the extension owner, a superuser, so the ILS's role could redefine
-- its function and have it run as the superuser at the next collections
-- read, my_data() or compliance_report() (tried before the fix: the spy
-- below logged the superuser, who may read the extension's PIN hashes).
-- Now the read runs as the view's owner.  Binding refuses a view whose owner
-- is neither a superuser nor operational, or that runs a function or domain
-- of another role (directly, through an operator or a view it reads);
-- health() and every read catch a view changed since binding.  A view of
-- PostgreSQL's own functions only still binds and reads.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pals_privacy;

BEGIN;
SELECT plan(24);
CREATE ROLE regress_vo_ils;
CREATE ROLE regress_vo_coll;
CREATE ROLE regress_vo_staff;
DO $$ BEGIN
    PERFORM pals_privacy.classify_role('regress_vo_ils', 'operational');
    PERFORM pals_privacy.classify_role('regress_vo_coll', 'collections');
    PERFORM pals_privacy.classify_role('regress_vo_staff', 'staff');
END $$;
CREATE SCHEMA vo;
CREATE TABLE vo.patrons (id bigint PRIMARY KEY, expires date NOT NULL DEFAULT 'infinity');
INSERT INTO vo.patrons VALUES (51, 'infinity'), (52, 'infinity'), (53, '2000-01-01');
CREATE TABLE vo.fines (patron_id bigint, amount numeric);
INSERT INTO vo.fines VALUES (51, 40), (53, 5);
-- what the ILS's function saw when it ran
CREATE TABLE vo.spy_log (ran_as text, session_as text, reads_pins boolean);
GRANT USAGE ON SCHEMA vo TO regress_vo_ils, regress_vo_coll, regress_vo_staff;
GRANT SELECT ON vo.patrons, vo.fines TO regress_vo_ils, regress_vo_coll, regress_vo_staff;
GRANT INSERT ON vo.spy_log TO PUBLIC;
GRANT CREATE ON SCHEMA vo TO regress_vo_ils, regress_vo_staff;

-- the ILS's role makes its balance view, calling its own function
SET ROLE regress_vo_ils;
CREATE FUNCTION vo.owed(p bigint) RETURNS numeric LANGUAGE sql STABLE
    AS 'SELECT coalesce(sum(amount), 0) FROM vo.fines WHERE patron_id = p';
CREATE VIEW vo.balances AS SELECT id AS patron_id, vo.owed(id) AS owed FROM vo.patrons;
RESET ROLE;
DO $$ BEGIN PERFORM pals_privacy.bind_patrons('vo.patrons', 'id', 'expires'); END $$;
SELECT lives_ok($$SELECT pals_privacy.bind_balance('vo.balances', 'patron_id', 'owed')$$,
                'a view of an operational owner, calling its owner''s function, binds');
SET pals_privacy.collections_threshold = 25;

-- later the ILS's role redefines its function: what role runs it, and may it read the PIN hashes?
SET ROLE regress_vo_ils;
CREATE OR REPLACE FUNCTION vo.owed(p bigint) RETURNS numeric LANGUAGE plpgsql VOLATILE AS $f$
BEGIN
    INSERT INTO vo.spy_log VALUES (current_user, session_user,
                                   has_table_privilege('pals_privacy.patron_pins', 'SELECT'));
    RETURN (SELECT coalesce(sum(amount), 0) FROM vo.fines WHERE patron_id = p);
END $f$;
RESET ROLE;

-- 1. the collections read of the balances
SET SESSION AUTHORIZATION regress_vo_coll;
SELECT results_eq('SELECT id FROM vo.patrons ORDER BY 1', ARRAY[51]::bigint[],
                  'collections read the debtors the bound view gives');
RESET SESSION AUTHORIZATION;
SELECT isnt_empty('SELECT FROM vo.spy_log', 'control: the collections read ran the view''s function');
SELECT is_empty($$SELECT FROM vo.spy_log s JOIN pg_roles r ON r.rolname::text = s.ran_as WHERE r.rolsuper$$,
                'the collections read runs none of the view''s functions as a superuser');
SELECT results_eq('SELECT DISTINCT ran_as, session_as, reads_pins FROM vo.spy_log',
                  $$VALUES ('regress_vo_ils'::text, 'regress_vo_coll'::text, false)$$,
                  'it runs them as the view''s owner (the session is the collections role''s), who may not read the PIN hashes');
DELETE FROM vo.spy_log;

-- 2. my_data() (_my_data_of, run as the extension owner)
SELECT ok(pals_privacy._my_data_of('51')::text LIKE '%"owed": 40%', 'my_data reads the patron''s balance of the view');
SELECT results_eq('SELECT DISTINCT ran_as, reads_pins FROM vo.spy_log',
                  $$VALUES ('regress_vo_ils'::text, false)$$,
                  'my_data runs the view''s functions as the view''s owner, not the superuser');
DELETE FROM vo.spy_log;

-- 3. compliance_report() (_patrons_owing: the expired patron 53 owes 5)
SELECT is((SELECT value FROM pals_privacy.compliance_report() WHERE measure = 'kept_owing'), 1::numeric,
          'compliance_report counts the expired patron who owes by the view');
SELECT results_eq('SELECT DISTINCT ran_as, reads_pins FROM vo.spy_log',
                  $$VALUES ('regress_vo_ils'::text, false)$$,
                  'compliance_report runs the view''s functions as the view''s owner, not the superuser');
DELETE FROM vo.spy_log;
SELECT is((SELECT ok FROM pals_privacy.health() WHERE check_name = 'bound views read as their owner'), true,
          'health: the bound view is fine');

-- 4. the function given to a role of fewer rights after binding: health() says so, reads refuse
ALTER FUNCTION vo.owed(bigint) OWNER TO regress_vo_staff;
SELECT is((SELECT detail FROM pals_privacy.health() WHERE check_name = 'bound views read as their owner'),
          'vo.balances: calls function vo.owed(bigint), owned by regress_vo_staff: ALTER FUNCTION vo.owed(bigint) OWNER TO regress_vo_ils (their reads refuse until fixed)',
          'health: the view runs a function of another role, and what to do');
SET SESSION AUTHORIZATION regress_vo_coll;
SELECT throws_ok('SELECT id FROM vo.patrons', '42501',
                 'the collections read of bound balances: view vo.balances runs function vo.owed(bigint), owned by role "regress_vo_staff", neither the view''s owner nor a superuser',
                 'the collections read refuses');
RESET SESSION AUTHORIZATION;
SELECT throws_ok($$SELECT pals_privacy._my_data_of('51')$$, '42501',
                 'reading the bound view: view vo.balances runs function vo.owed(bigint), owned by role "regress_vo_staff", neither the view''s owner nor a superuser',
                 'my_data refuses');
SELECT is_empty('SELECT FROM vo.spy_log', 'nothing ran');
ALTER FUNCTION vo.owed(bigint) OWNER TO regress_vo_ils;
-- the view given to a staff role
ALTER VIEW vo.balances OWNER TO regress_vo_staff;
SELECT is((SELECT detail FROM pals_privacy.health() WHERE check_name = 'bound views read as their owner'),
          'vo.balances: owner regress_vo_staff is neither a superuser nor of class operational: ALTER VIEW vo.balances OWNER TO a role of class operational, or classify regress_vo_staff operational (their reads refuse until fixed)',
          'health: the view''s owner is of a class below operational');
SELECT throws_ok($$SELECT count(*) FROM pals_privacy.compliance_report()$$, '42501',
                 'reading the bound view: the owner of view vo.balances, role "regress_vo_staff", is neither a superuser nor of privacy class operational',
                 'compliance_report refuses');
ALTER VIEW vo.balances OWNER TO regress_vo_ils;
DO $$ BEGIN PERFORM pals_privacy.unbind('vo.balances'); END $$;

-- 5. bind-time refusals, with what to change
\set VERBOSITY default
\set SHOW_CONTEXT never
SET ROLE regress_vo_staff;
CREATE FUNCTION vo.owed_staff(p bigint) RETURNS numeric LANGUAGE sql STABLE
    AS 'SELECT coalesce(sum(amount), 0) FROM vo.fines WHERE patron_id = p';
CREATE VIEW vo.balances_staff AS SELECT id AS patron_id, vo.owed(id) AS owed FROM vo.patrons;
RESET ROLE;
SET ROLE regress_vo_ils;
CREATE VIEW vo.balances_other AS SELECT id AS patron_id, vo.owed_staff(id) AS owed FROM vo.patrons;
RESET ROLE;
-- a view of the superuser's reading a view of the ILS's that calls the staff role's function
CREATE VIEW vo.inner_view AS SELECT id AS patron_id, vo.owed_staff(id) AS owed FROM vo.patrons;
CREATE VIEW vo.balances_nested AS SELECT patron_id, owed FROM vo.inner_view;
-- an operator of the staff role's
SET ROLE regress_vo_staff;
CREATE FUNCTION vo.plus(numeric, numeric) RETURNS numeric LANGUAGE sql IMMUTABLE AS 'SELECT $1 + $2';
CREATE OPERATOR vo.|+| (LEFTARG = numeric, RIGHTARG = numeric, FUNCTION = vo.plus);
RESET ROLE;
CREATE VIEW vo.balances_operator AS
    SELECT f.patron_id, f.amount OPERATOR(vo.|+|) 0 AS owed FROM vo.fines f;
SAVEPOINT refused;
SELECT pals_privacy.bind_balance('vo.balances_staff', 'patron_id', 'owed');
ROLLBACK TO refused;
SELECT pals_privacy.bind_balance('vo.balances_other', 'patron_id', 'owed');
ROLLBACK TO refused;
\set VERBOSITY terse
SELECT throws_ok($$SELECT pals_privacy.bind_balance('vo.balances_staff', 'patron_id', 'owed')$$, '42501',
                 'bind_balance: the owner of view vo.balances_staff, role "regress_vo_staff", is neither a superuser nor of privacy class operational',
                 'a view of a staff role''s is refused');
SELECT throws_ok($$SELECT pals_privacy.bind_balance('vo.balances_other', 'patron_id', 'owed')$$, '42501',
                 'bind_balance: view vo.balances_other runs function vo.owed_staff(bigint), owned by role "regress_vo_staff", neither the view''s owner nor a superuser',
                 'a view calling a function of another role is refused');
SELECT throws_ok($$SELECT pals_privacy.bind_balance('vo.balances_nested', 'patron_id', 'owed')$$, '42501',
                 'bind_balance: view vo.balances_nested runs function vo.owed_staff(bigint), owned by role "regress_vo_staff", neither the view''s owner nor a superuser',
                 'a view reading a view that calls a function of another role is refused');
SELECT throws_ok($$SELECT pals_privacy.bind_balance('vo.balances_operator', 'patron_id', 'owed')$$, '42501',
                 'bind_balance: view vo.balances_operator runs function vo.plus(numeric,numeric), owned by role "regress_vo_staff", neither the view''s owner nor a superuser',
                 'a view using an operator of another role is refused');
-- 6. a view of PostgreSQL's own functions only, of the ILS's operational role: binds, read as its owner
SET ROLE regress_vo_ils;
CREATE VIEW vo.balances_plain AS SELECT patron_id, sum(amount) AS owed FROM vo.fines GROUP BY patron_id;
RESET ROLE;
SELECT lives_ok($$SELECT pals_privacy.bind_balance('vo.balances_plain', 'patron_id', 'owed')$$,
                'a view of PostgreSQL''s own functions only binds');
SET SESSION AUTHORIZATION regress_vo_coll;
SELECT results_eq('SELECT id FROM vo.patrons ORDER BY 1', ARRAY[51]::bigint[],
                  'and collections read its debtors');
RESET SESSION AUTHORIZATION;
SELECT is((SELECT ok FROM pals_privacy.health() WHERE check_name = 'bound views read as their owner'), true,
          'health: fine');
SELECT is_empty('SELECT FROM vo.spy_log', 'control: the spy never ran since');

SELECT * FROM finish();
ROLLBACK;
