-- The collections class's balance read (_collectible, src/redact_runtime.c)
-- reads the bound balances as the extension owner under the safe search
-- path, which names pg_temp last on PostgreSQL 17 and later.  A bound
-- balance view whose function names its table without a schema (the ILS's
-- own search path finds it) then found a relation of the caller's
-- temporary schema: on 18 the collections role's temporary view "fines"
-- made patron 52 a debtor of 1000 and its function pg_temp.spy() ran as the
-- extension owner (tried before the fix).  The read now refuses to run while
-- the session's temporary schema holds a relation or type of a role below
-- superuser and a bound balance runs code of the ILS's (owner_code_guard.c;
-- on every version: before 17 the path leaves pg_temp out).  A balance view
-- of PostgreSQL's own functions names its tables by their oids: it is read.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pals_privacy;

BEGIN;
SELECT plan(8);
CREATE ROLE regress_cb_coll;
DO $$ BEGIN PERFORM pals_privacy.classify_role('regress_cb_coll', 'collections'); END $$;
CREATE SCHEMA cb;
CREATE TABLE cb.patrons (id bigint PRIMARY KEY, expires date NOT NULL DEFAULT 'infinity');
INSERT INTO cb.patrons (id) VALUES (51), (52), (53);
CREATE TABLE cb.fines (patron_id bigint, amount numeric);
INSERT INTO cb.fines VALUES (51, 40), (53, 5);
-- the ILS's function names its table without the schema (its roles have cb on their path)
SET search_path = cb, public;
CREATE FUNCTION cb.owed(p bigint) RETURNS numeric LANGUAGE sql STABLE AS 'SELECT coalesce(sum(amount), 0) FROM fines WHERE patron_id = p';
RESET search_path;
CREATE VIEW cb.balances AS SELECT id AS patron_id, cb.owed(id) AS owed FROM cb.patrons;
-- and a balance view whose function names its table with the schema
CREATE FUNCTION cb.owed_safe(p bigint) RETURNS numeric LANGUAGE sql STABLE
    AS 'SELECT coalesce(sum(amount), 0) FROM cb.fines WHERE patron_id = p';
CREATE VIEW cb.balances_safe AS SELECT id AS patron_id, cb.owed_safe(id) AS owed FROM cb.patrons;
GRANT USAGE ON SCHEMA cb TO regress_cb_coll;
GRANT SELECT ON ALL TABLES IN SCHEMA cb TO regress_cb_coll;
DO $$ BEGIN
    PERFORM pals_privacy.bind_patrons('cb.patrons', 'id', 'expires');
    PERFORM pals_privacy.bind_balance('cb.balances_safe', 'patron_id', 'owed');
END $$;
SET pals_privacy.collections_threshold = 25;

SET SESSION AUTHORIZATION regress_cb_coll;
SELECT results_eq('SELECT patron_id FROM cb.balances_safe ORDER BY 1', ARRAY[51]::bigint[],
                  'control: collections read the debtors of a balance view whose function names its schema');
-- the attacker's temporary view "fines", calling its own function
CREATE FUNCTION pg_temp.spy() RETURNS boolean LANGUAGE plpgsql AS $f$
BEGIN
    IF current_user <> 'regress_cb_coll' THEN RAISE EXCEPTION 'spy ran as %', current_user; END IF;
    RETURN true;
END $f$;
CREATE TEMP TABLE fines_src (patron_id bigint, amount numeric);
INSERT INTO fines_src VALUES (52, 1000);
CREATE TEMP VIEW fines AS SELECT patron_id, amount FROM fines_src WHERE pg_temp.spy();
SELECT results_eq('SELECT patron_id FROM fines', ARRAY[52]::bigint[], 'control: the spy runs for the attacker''s own read');
RESET SESSION AUTHORIZATION;
DO $$ BEGIN PERFORM pals_privacy.bind_balance('cb.balances', 'patron_id', 'owed'); END $$;
SET SESSION AUTHORIZATION regress_cb_coll;
SELECT throws_ok('SELECT patron_id FROM cb.balances ORDER BY 1', '42501',
                 'the collections read of bound balances would run code of the ILS as the extension owner in a session with temporary objects',
                 'the balance read refuses to run with the caller''s temporary relations there (the spy would run as the owner)');
SELECT throws_ok('SELECT patron_id FROM cb.balances_safe ORDER BY 1', '42501',
                 'the collections read of bound balances would run code of the ILS as the extension owner in a session with temporary objects',
                 'whichever bound balance is read');
RESET SESSION AUTHORIZATION;
-- a balance of PostgreSQL's own functions only: nothing the session can swap runs
CREATE VIEW cb.balances_plain AS SELECT patron_id, sum(amount) AS owed FROM cb.fines GROUP BY patron_id;
GRANT SELECT ON cb.balances_plain TO regress_cb_coll;
DO $$ BEGIN
    PERFORM pals_privacy.unbind('cb.balances');
    PERFORM pals_privacy.unbind('cb.balances_safe');
    PERFORM pals_privacy.bind_balance('cb.balances_plain', 'patron_id', 'owed');
END $$;
SET SESSION AUTHORIZATION regress_cb_coll;
SELECT results_eq('SELECT patron_id FROM cb.balances_plain ORDER BY 1', ARRAY[51]::bigint[],
                  'a balance view of PostgreSQL''s own functions is read beside the temporary view "fines" (not the attacker''s 52)');
SELECT results_eq('SELECT count(*) FROM fines', ARRAY[1]::bigint[],
                  'control: the temporary view is still there');
RESET SESSION AUTHORIZATION;
DO $$ BEGIN
    PERFORM pals_privacy.unbind('cb.balances_plain');
    PERFORM pals_privacy.bind_balance('cb.balances_safe', 'patron_id', 'owed');
    PERFORM pals_privacy.bind_balance('cb.balances', 'patron_id', 'owed');
END $$;
SET SESSION AUTHORIZATION regress_cb_coll;
DROP VIEW fines;
DROP TABLE fines_src;
SELECT throws_ok('SELECT patron_id FROM cb.balances_safe ORDER BY 1', '42P01', 'relation "fines" does not exist',
                 'the temporary relations gone: a view whose function names its table without the schema finds no table at all');
RESET SESSION AUTHORIZATION;
DO $$ BEGIN PERFORM pals_privacy.unbind('cb.balances'); END $$;
SET SESSION AUTHORIZATION regress_cb_coll;
SELECT results_eq('SELECT patron_id FROM cb.balances_safe ORDER BY 1', ARRAY[51]::bigint[],
                  'that view unbound, the read runs again');
RESET SESSION AUTHORIZATION;

SELECT * FROM finish();
ROLLBACK;
