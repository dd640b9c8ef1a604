-- One-time staff PINs, the patron's own PIN change, and audit entries that
-- survive the caller's rollback (issue 13, items 12, 13 and 14).
--
-- Part 1 (one transaction, rolled back): a PIN set by staff or the ILS is a
-- one-time PIN; login() with it leaves the session without a patron (no
-- private history) until change_pin(); the patron then logs in with the PIN
-- they chose.  A staff reset of a patron's PIN locks the patron out of
-- their own PIN (they notice) and gives staff nothing to read.  A patron id
-- longer than a memory chunk survives login() (the use-after-free of SPI
-- memory, item 14).
-- Part 2 (committed, cleaned up at the end): failed logins, lockouts, first
-- logins, staff PIN resets, legal orders and disclosures stay in the audit
-- log when the caller rolls back, whether or not the caller's transaction
-- already holds the audit chain; the chain still verifies.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pals_privacy;
SET pals_privacy.pin_iterations = 10000;

BEGIN;
SELECT plan(38);

CREATE ROLE regress_sp_staff;
CREATE ROLE regress_sp_ils;
CREATE ROLE regress_sp_opac;
SELECT pals_privacy.classify_role('regress_sp_staff', 'staff');
SELECT pals_privacy.classify_role('regress_sp_ils', 'operational');
SELECT pals_privacy.classify_role('regress_sp_opac', 'patron');

CREATE SCHEMA sp;
CREATE TABLE sp.patrons (id text PRIMARY KEY, card text UNIQUE, expires date NOT NULL DEFAULT 'infinity');
INSERT INTO sp.patrons (id, card) VALUES ('P1', 'SP-1'), ('P2', 'SP-2'), ('P3', 'SP-3'),
                                         (repeat('L', 20000), 'SP-LONG');
CREATE TABLE sp.searches (id int PRIMARY KEY, patron_id text NOT NULL, query text NOT NULL);
INSERT INTO sp.searches VALUES (1, 'P1', 'divorce lawyers'), (2, 'P2', 'gardening');
SELECT pals_privacy.bind_patrons('sp.patrons', 'id', 'expires', card_column => 'card');
SELECT pals_privacy.bind_private_history('sp.searches', 'patron_id');
GRANT USAGE ON SCHEMA sp TO PUBLIC;
GRANT SELECT ON ALL TABLES IN SCHEMA sp TO PUBLIC;

-- a patron id longer than a memory chunk: copied out of SPI before SPI_finish
SELECT pals_privacy.set_pin(repeat('L', 20000), '4321');
SET SESSION AUTHORIZATION regress_sp_opac;
SELECT is(pals_privacy.login('SP-LONG', '4321'), true, 'login with a 20000-character patron id');
SELECT is(pals_privacy.session_patron(), repeat('L', 20000), 'the session patron is the whole id, intact');
SELECT lives_ok('SELECT pals_privacy.logout()', 'logout');
RESET SESSION AUTHORIZATION;

-- staff reset P1's PIN: a one-time PIN
SET SESSION AUTHORIZATION regress_sp_staff;
SELECT lives_ok($$SELECT pals_privacy.set_pin('P1', '1111')$$, 'staff set a PIN');
RESET SESSION AUTHORIZATION;
SELECT is((SELECT must_change FROM pals_privacy.patron_pins WHERE patron = 'P1'), true, 'a PIN set by staff is one-time');
SET SESSION AUTHORIZATION regress_sp_ils;
SELECT lives_ok($$SELECT pals_privacy.set_pin('P2', '2222')$$, 'the ILS sets a PIN');
RESET SESSION AUTHORIZATION;
SELECT is((SELECT must_change FROM pals_privacy.patron_pins WHERE patron = 'P2'), true, 'a PIN set by the ILS is one-time');
SELECT pals_privacy.set_pin('P3', '3333');
SELECT is((SELECT must_change FROM pals_privacy.patron_pins WHERE patron = 'P3'), false,
    'a PIN set by a superuser is not (superusers read the history anyway)');

-- the catalogue: login with the one-time PIN gives a session without a patron
SET SESSION AUTHORIZATION regress_sp_opac;
SELECT is(pals_privacy.login('SP-1', '1111'), true, 'login with the one-time PIN: the card and PIN are right');
SELECT is(pals_privacy.pin_change_required(), true, 'pin_change_required() says so');
SELECT is(pals_privacy.session_patron(), NULL, 'but the session has no patron');
SELECT is_empty('SELECT * FROM sp.searches', 'and reads no private history');
SELECT is_empty('SELECT * FROM sp.patrons', 'nor the patron row');
SELECT throws_ok($$SELECT pals_privacy.change_pin('1111', '1111')$$, '22023', NULL, 'change_pin: the same PIN again');
SELECT throws_ok($$SELECT pals_privacy.change_pin('1111', '12')$$, '22023', NULL, 'change_pin: a PIN too short');
SELECT is(pals_privacy.change_pin('9999', '5678'), false, 'change_pin: a wrong current PIN');
SELECT is(pals_privacy.pin_change_required(), true, 'still to be changed');
SELECT is(pals_privacy.change_pin('1111', '5678'), true, 'change_pin: the patron chooses a PIN');
SELECT is(pals_privacy.pin_change_required(), false, 'nothing left to change');
SELECT is(pals_privacy.session_patron(), NULL, 'the session still has no patron: log in with the new PIN');
SELECT is(pals_privacy.login('SP-1', '1111'), false, 'the one-time PIN no longer works');
SELECT is(pals_privacy.login('SP-1', '5678'), true, 'the chosen PIN does');
SELECT is(pals_privacy.session_patron(), 'P1', 'and the session is the patron''s');
SELECT results_eq('SELECT query FROM sp.searches', ARRAY['divorce lawyers'], 'who reads their own private history');
SELECT is(pals_privacy.change_pin('5678', '8765'), true, 'a logged-in patron changes their own PIN');
SELECT is(pals_privacy.session_patron(), 'P1', 'and stays logged in');
RESET SESSION AUTHORIZATION;
SELECT is((SELECT must_change FROM pals_privacy.patron_pins WHERE patron = 'P1'), false, 'a PIN the patron chose is not one-time');

-- the back door of the issue: staff reset the PIN and log in as the patron
SET SESSION AUTHORIZATION regress_sp_staff;
SELECT pals_privacy.set_pin('P1', '0000');
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_sp_opac;
SELECT is(pals_privacy.login('SP-1', '0000'), true, 'staff log in with the PIN they set');
SELECT is_empty('SELECT * FROM sp.searches', 'and read nothing of the patron''s private history');
SELECT is(pals_privacy.session_patron(), NULL, 'the session is not the patron''s');
SELECT is(pals_privacy.login('SP-1', '8765'), false, 'the patron''s own PIN no longer works: the patron notices');
SELECT lives_ok('SELECT pals_privacy.logout()', 'logout');
SELECT is(pals_privacy.pin_change_required(), false, 'logout ends the one-time state too');
SELECT throws_ok($$SELECT pals_privacy.change_pin('0000', '4444')$$, '28000', NULL, 'change_pin needs a login');
SELECT is(pals_privacy.login('SP-1', '0000'), true, 'the one-time PIN again');
DISCARD PLANS;
SELECT is(pals_privacy.pin_change_required(), true, 'pending');
RESET SESSION AUTHORIZATION;
SELECT throws_ok($$SELECT pals_privacy.set_pin('P1', '9090') FROM (SELECT 1) x WHERE pals_privacy.change_pin('x', 'y') IS NULL$$,
    '22023', NULL, 'the pending state is the session''s, not the role''s: nothing to bypass');
SELECT lives_ok('SELECT pals_privacy.logout()', 'logout');

SELECT * FROM finish();
ROLLBACK;

------------------------------------------------------------------------------
-- Part 2: durable audit entries
------------------------------------------------------------------------------
CREATE ROLE regress_sd_staff;
CREATE ROLE regress_sd_opac;
CREATE ROLE regress_sd_aud;
SELECT pals_privacy.classify_role('regress_sd_staff', 'staff');
SELECT pals_privacy.classify_role('regress_sd_opac', 'patron');
SELECT pals_privacy.classify_role('regress_sd_aud', 'auditor');
CREATE SCHEMA sd;
CREATE TABLE sd.patrons (id text PRIMARY KEY, card text UNIQUE, expires date NOT NULL DEFAULT 'infinity');
INSERT INTO sd.patrons (id, card) VALUES ('D1', 'SD-1'), ('D2', 'SD-2');
CREATE TABLE sd.loans (id int PRIMARY KEY, patron_id text, item_id int NOT NULL, returned_at timestamptz);
INSERT INTO sd.loans VALUES (1, 'D1', 10, now()), (2, 'D1', 11, NULL);
SELECT pals_privacy.bind_patrons('sd.patrons', 'id', 'expires', card_column => 'card');
SELECT pals_privacy.bind_loans('sd.loans', 'patron_id', 'item_id', '{returned_at}');
SELECT pals_privacy.set_pin('D1', '1234');
CREATE TEMP TABLE sd_mark AS SELECT max(id) AS id FROM pals_privacy.audit_log;
-- the entries since the mark, as 'event patron'
CREATE FUNCTION pg_temp.since_mark() RETURNS text LANGUAGE sql AS $$
    SELECT coalesce(string_agg(event || coalesce(' ' || (details ->> 'patron'), ''), ', ' ORDER BY id), '')
      FROM pals_privacy.audit_log WHERE id > (SELECT id FROM sd_mark)
$$;
-- wait (up to 20 s) until n entries are there
CREATE FUNCTION pg_temp.wait_for(n int) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    FOR i IN 1..400 LOOP
        EXIT WHEN (SELECT count(*) FROM pals_privacy.audit_log WHERE id > (SELECT id FROM sd_mark)) >= n;
        PERFORM pg_sleep(0.05);
    END LOOP;
END $$;

-- a failed login and a lockout, rolled back
SET pals_privacy.max_failed_logins = 2;
SET SESSION AUTHORIZATION regress_sd_opac;
BEGIN;
SELECT pals_privacy.login('SD-1', '0000') AS first_failure;
SELECT pals_privacy.login('SD-1', '0000') AS locking_failure;
ROLLBACK;
RESET SESSION AUTHORIZATION;
RESET pals_privacy.max_failed_logins;
SELECT pg_temp.since_mark() AS after_rolled_back_failures;

-- a staff reset, rolled back; a first login with the one-time PIN, rolled back
SET SESSION AUTHORIZATION regress_sd_staff;
BEGIN;
SELECT pals_privacy.set_pin('D2', '2222');
ROLLBACK;
BEGIN;
SELECT pals_privacy.set_pin('D2', '2222');
COMMIT;
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_sd_opac;
BEGIN;
SELECT pals_privacy.login('SD-2', '2222') AS one_time_login;
ROLLBACK;
SELECT pals_privacy.logout();
RESET SESSION AUTHORIZATION;
SELECT pg_temp.since_mark() AS after_rolled_back_reset_and_first_login;

-- an auditor opens an order, discloses and rolls back
SET SESSION AUTHORIZATION regress_sd_aud;
BEGIN;
SELECT pals_privacy.open_legal_order('CV-1', 'County Court', 'D1', now() + interval '1 day') AS order_id \gset
SELECT count(*) AS rows_disclosed FROM pals_privacy.disclose_history(:order_id);
ROLLBACK;
RESET SESSION AUTHORIZATION;
SELECT pg_temp.since_mark() AS after_rolled_back_disclosure;
SELECT count(*) AS orders_left FROM pals_privacy.legal_orders WHERE reference = 'CV-1';
SELECT details -> 'rows' AS disclosed_rows FROM pals_privacy.audit_log
 WHERE id > (SELECT id FROM sd_mark) AND event = 'legal_order.disclose';

-- a transaction that already holds the audit chain (it acknowledged the
-- policy) fails a login and rolls back: the failure is written after it ends
SET SESSION AUTHORIZATION regress_sd_opac;
BEGIN;
SELECT pals_privacy.acknowledge_policy('2026');
SELECT pals_privacy.login('SD-1', '9999') AS failure_in_chain_holder;
ROLLBACK;
RESET SESSION AUTHORIZATION;
SELECT pg_temp.wait_for(9);
SELECT pg_temp.since_mark() AS after_rollback_of_chain_holder;
-- and once more, committed: both entries, in commit order
SET SESSION AUTHORIZATION regress_sd_opac;
BEGIN;
SELECT pals_privacy.acknowledge_policy('2026');
SELECT pals_privacy.login('SD-1', '9999') AS failure_in_chain_holder;
COMMIT;
RESET SESSION AUTHORIZATION;
SELECT pg_temp.wait_for(11);
SELECT pg_temp.since_mark() AS after_commit_of_chain_holder;
SELECT pals_privacy.verify_audit() AS first_bad_entry;

-- clean up
DELETE FROM pals_privacy.patron_pins WHERE patron IN ('D1', 'D2');
DELETE FROM pals_privacy.policy_acknowledgments WHERE role = 'regress_sd_opac';
SELECT pals_privacy.unbind('sd.loans');
SELECT pals_privacy.unbind('sd.patrons');
DROP SCHEMA sd CASCADE;
SELECT pals_privacy.unclassify_role(r::regrole) FROM unnest(ARRAY['regress_sd_staff', 'regress_sd_opac', 'regress_sd_aud']) r;
DROP ROLE regress_sd_staff, regress_sd_opac, regress_sd_aud;
