-- The patron session (issue 4, item 4): set_pin / login / logout /
-- session_patron, the settings pin_iterations, max_failed_logins and lockout,
-- brute-force lockout (the failure count lives in shared memory and survives
-- rollbacks), the audit entries for failures and lockouts (never a PIN or a
-- card), and that only login() can set the session patron.  The functions
-- judge the caller by session_user, so roles are taken on with SET SESSION
-- AUTHORIZATION.
--
-- Failure counts survive ROLLBACK, so every scenario uses its own card.  The
-- first part runs in one transaction and is rolled back; DISCARD ALL cannot
-- run in a transaction block, so the second part (DISCARD ALL, RESET ALL,
-- logout) runs outside one, on its own small bound table that it removes.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pals_privacy;

-- The last audit entry before this test: everything after it is ours.
CREATE TEMP TABLE se_mark AS SELECT coalesce(max(id), 0) AS id FROM pals_privacy.audit_log;

BEGIN;
SELECT plan(103);

CREATE ROLE regress_se_staff;
CREATE ROLE regress_se_ils;
CREATE ROLE regress_se_opac;
CREATE ROLE regress_se_aud;
CREATE ROLE regress_se_coll;
CREATE ROLE regress_se_other;          -- unclassified: default_class (staff)
SELECT pals_privacy.classify_role('regress_se_staff', 'staff');
SELECT pals_privacy.classify_role('regress_se_ils', 'operational');
SELECT pals_privacy.classify_role('regress_se_opac', 'patron');
SELECT pals_privacy.classify_role('regress_se_aud', 'auditor');
SELECT pals_privacy.classify_role('regress_se_coll', 'collections');

-- login() as text: its result, or the error's SQLSTATE.
CREATE FUNCTION pg_temp.try_login(card text, pin text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    RETURN coalesce(pals_privacy.login(card, pin)::text, 'NULL');
EXCEPTION WHEN OTHERS THEN
    RETURN 'ERROR ' || SQLSTATE;
END $$;

-- A small ILS.  Patron P2 also has a second card in a bind_cards table.
CREATE SCHEMA se;
CREATE TABLE se.patrons (id text PRIMARY KEY, name text NOT NULL, card text UNIQUE,
                         expires date NOT NULL DEFAULT 'infinity');
INSERT INTO se.patrons (id, name, card)
SELECT 'P' || i, 'Patron ' || i, 'SE-' || (1000 + i) FROM generate_series(1, 10) i;
-- two long cards that differ only after their 63rd character
INSERT INTO se.patrons (id, name, card) VALUES ('P11', 'Patron 11', repeat('7', 63) || 'A'),
                                                ('P12', 'Patron 12', repeat('7', 63) || 'B');
CREATE TABLE se.cards (card text PRIMARY KEY, patron_id text NOT NULL REFERENCES se.patrons);
INSERT INTO se.cards VALUES ('LC-2002', 'P2');
GRANT USAGE ON SCHEMA se TO PUBLIC;
SELECT pals_privacy.bind_patrons('se.patrons', 'id', 'expires', card_column => 'card');
SELECT pals_privacy.bind_cards('se.cards', 'card', 'patron_id');

------------------------------------------------------------------------------
-- Settings
------------------------------------------------------------------------------
SELECT is(current_setting('pals_privacy.pin_iterations'), '100000', 'pin_iterations defaults to 100000');
SELECT is(current_setting('pals_privacy.max_failed_logins'), '5', 'max_failed_logins defaults to 5');
SELECT is(current_setting('pals_privacy.lockout'), '15min', 'lockout defaults to 15min');
SELECT throws_ok($$SET pals_privacy.pin_iterations = 9999$$, '22023', NULL, 'pin_iterations: at least 10000');
SELECT throws_ok($$SET pals_privacy.max_failed_logins = 0$$, '22023', NULL, 'max_failed_logins: at least 1');
SELECT throws_ok($$SET pals_privacy.lockout = 0$$, '22023', NULL, 'lockout: at least 1s');
SET SESSION AUTHORIZATION regress_se_staff;
SELECT throws_ok($$SET pals_privacy.pin_iterations = 20000$$, '42501', NULL, 'pin_iterations: superuser only');
SELECT throws_ok($$SET pals_privacy.max_failed_logins = 100$$, '42501', NULL, 'max_failed_logins: superuser only');
SELECT throws_ok($$SET pals_privacy.lockout = '1s'$$, '42501', NULL, 'lockout: superuser only');
RESET SESSION AUTHORIZATION;
SET pals_privacy.pin_iterations = 10000;     -- keep the test fast

------------------------------------------------------------------------------
-- set_pin: salted hash, no clear PIN; argument checks; who may call it
------------------------------------------------------------------------------
SELECT is(pals_privacy.session_patron(), NULL, 'no session patron before any login');
SELECT lives_ok($$SELECT pals_privacy.set_pin('P10', 'my:secret!pin~')$$, 'set_pin as superuser');
SELECT is((SELECT count(*) FROM pals_privacy.patron_pins WHERE patron = 'P10'), 1::bigint, 'set_pin stores one row');
SELECT is((SELECT count(*) FROM pals_privacy.patron_pins p WHERE strpos(p::text, 'my:secret!pin~') > 0), 0::bigint,
    'the clear PIN appears nowhere in patron_pins');
SELECT is((SELECT count(*) FROM pals_privacy.patron_pins p
            WHERE strpos(p::text, encode(sha256('my:secret!pin~'), 'hex')) > 0
               OR strpos(p::text, encode(sha256('my:secret!pin~'), 'base64')) > 0), 0::bigint,
    'the stored hash is not an unsalted SHA-256 of the PIN');
SELECT is((SELECT iterations FROM pals_privacy.patron_pins WHERE patron = 'P10')::int, 10000,
    'the iteration count in effect is stored with the hash');
SELECT is((SELECT set_by::text FROM pals_privacy.patron_pins WHERE patron = 'P10'), session_user::text,
    'set_by is the session role');
SELECT ok((SELECT salt IS NOT NULL AND hash IS NOT NULL AND set_at IS NOT NULL
             FROM pals_privacy.patron_pins WHERE patron = 'P10'), 'salt, hash and set_at are filled');

SELECT lives_ok($$SELECT pals_privacy.set_pin('P1', '2468')$$, 'set_pin P1');
SELECT lives_ok($$SELECT pals_privacy.set_pin('P2', '2468')$$, 'set_pin P2, the same PIN');
SELECT isnt((SELECT salt::text FROM pals_privacy.patron_pins WHERE patron = 'P1'),
            (SELECT salt::text FROM pals_privacy.patron_pins WHERE patron = 'P2'), 'the same PIN: different salts');
SELECT isnt((SELECT hash::text FROM pals_privacy.patron_pins WHERE patron = 'P1'),
            (SELECT hash::text FROM pals_privacy.patron_pins WHERE patron = 'P2'), 'the same PIN: different hashes');
CREATE TEMP TABLE se_p1_before AS SELECT salt::text AS salt FROM pals_privacy.patron_pins WHERE patron = 'P1';
SELECT lives_ok($$SELECT pals_privacy.set_pin('P1', '2468')$$, 'set_pin P1 again, the same PIN');
SELECT is((SELECT count(*) FROM pals_privacy.patron_pins WHERE patron = 'P1'), 1::bigint,
    'setting a PIN again replaces the row');
SELECT isnt((SELECT salt::text FROM pals_privacy.patron_pins WHERE patron = 'P1'), (SELECT salt FROM se_p1_before),
    'setting a PIN again draws a new salt');

SELECT throws_ok($$SELECT pals_privacy.set_pin('P1', '123')$$, '22023', NULL, 'set_pin: a PIN of 3 characters');
SELECT throws_ok($$SELECT pals_privacy.set_pin('P1', '')$$, '22023', NULL, 'set_pin: an empty PIN');
SELECT throws_ok($$SELECT pals_privacy.set_pin('P999', '2468')$$, '23503', NULL, 'set_pin: an unknown patron');
SELECT throws_ok($$SELECT pals_privacy.set_pin(NULL, '2468')$$, '22004', NULL, 'set_pin: NULL patron');
SELECT throws_ok($$SELECT pals_privacy.set_pin('P1', NULL)$$, '22004', NULL, 'set_pin: NULL PIN');
SELECT is((SELECT count(*) FROM pals_privacy.patron_pins WHERE patron IN ('P999') OR patron IS NULL), 0::bigint,
    'refused calls stored nothing');

SET SESSION AUTHORIZATION regress_se_staff;
SELECT lives_ok($$SELECT pals_privacy.set_pin('P5', '5555')$$, 'set_pin by a staff role');
SELECT throws_ok($$SELECT * FROM pals_privacy.patron_pins$$, '42501', NULL, 'staff cannot read patron_pins');
SELECT throws_ok($$INSERT INTO pals_privacy.patron_pins (patron, salt, hash, iterations)
                   SELECT 'P3', salt, hash, iterations FROM pals_privacy.patron_pins WHERE false$$,
    '42501', NULL, 'staff cannot insert into patron_pins');
SELECT throws_ok($$UPDATE pals_privacy.patron_pins SET patron = patron$$, '42501', NULL,
    'staff cannot update patron_pins');
SELECT throws_ok($$DELETE FROM pals_privacy.patron_pins$$, '42501', NULL, 'staff cannot delete from patron_pins');
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_se_ils;
SELECT lives_ok($$SELECT pals_privacy.set_pin('P6', '6666')$$, 'set_pin by an operational role');
SELECT throws_ok($$SELECT * FROM pals_privacy.patron_pins$$, '42501', NULL, 'operational cannot read patron_pins');
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_se_other;
SELECT lives_ok($$SELECT pals_privacy.set_pin('P7', '7777')$$, 'set_pin by an unclassified role (default class staff)');
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_se_opac;
SELECT throws_ok($$SELECT pals_privacy.set_pin('P1', '0000')$$, '42501', NULL, 'set_pin by a patron-class role: refused');
SELECT throws_ok($$SELECT * FROM pals_privacy.patron_pins$$, '42501', NULL, 'a patron-class role cannot read patron_pins');
SELECT throws_ok($$UPDATE pals_privacy.patron_pins SET patron = patron$$, '42501', NULL,
    'a patron-class role cannot update patron_pins');
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_se_aud;
SELECT throws_ok($$SELECT pals_privacy.set_pin('P1', '0000')$$, '42501', NULL, 'set_pin by an auditor: refused');
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_se_coll;
SELECT throws_ok($$SELECT pals_privacy.set_pin('P1', '0000')$$, '42501', NULL, 'set_pin by a collections role: refused');
RESET SESSION AUTHORIZATION;

------------------------------------------------------------------------------
-- login / logout / session_patron
------------------------------------------------------------------------------
SET SESSION AUTHORIZATION regress_se_opac;
SELECT is(pals_privacy.login('SE-1001', '2468'), true, 'login: the right PIN');
SELECT is(pals_privacy.session_patron(), 'P1', 'session_patron after login');
SELECT is(pals_privacy.login('SE-1002', '2468'), true, 'login as another patron');
SELECT is(pals_privacy.session_patron(), 'P2', 'session_patron is the last patron logged in');
SELECT lives_ok($$SELECT pals_privacy.logout()$$, 'logout');
SELECT is(pals_privacy.session_patron(), NULL, 'no session patron after logout');
SELECT is(pals_privacy.login('SE-1001', '8642'), false, 'login: a wrong PIN');
SELECT is(pals_privacy.session_patron(), NULL, 'no session patron after a failed login');
SELECT is(pals_privacy.login('SE-9999', '2468'), false, 'login: an unknown card');
SELECT is(pals_privacy.login('SE-1003', '2468'), false, 'login: a patron without a PIN');
SELECT ok(pg_temp.try_login(NULL, '2468') IN ('false', 'NULL', 'ERROR 22004'), 'login: a NULL card does not log in');
SELECT ok(pg_temp.try_login('SE-1001', NULL) IN ('false', 'NULL', 'ERROR 22004'), 'login: a NULL PIN does not log in');
SELECT is(pals_privacy.session_patron(), NULL, 'no session patron after the NULL logins');
SELECT is(pals_privacy.login('SE-1001', '2468 '), false, 'login: the PIN with a trailing space');
SELECT is(pals_privacy.login('SE-1001', '246'), false, 'login: a prefix of the PIN');
SELECT is(pals_privacy.login('SE-1010', 'my:secret!pin~'), true, 'login: a PIN with punctuation');
SELECT is(pals_privacy.session_patron(), 'P10', 'session_patron P10');
SELECT is(pals_privacy.login('LC-2002', '2468'), true, 'login with a card of a bind_cards relation');
SELECT is(pals_privacy.session_patron(), 'P2', 'session_patron through bind_cards');
SELECT is(pals_privacy.login('SE-1005', '5555'), true, 'login with the PIN a staff role set');
RESET SESSION AUTHORIZATION;
SET pals_privacy.pin_iterations = 20000;
SELECT is(pals_privacy.login('SE-1006', '6666'), true,
    'login checks with the stored iteration count, not the current setting');
SET pals_privacy.pin_iterations = 10000;
SELECT lives_ok($$SELECT pals_privacy.logout()$$, 'logout');
SELECT lives_ok($$SELECT pals_privacy.logout()$$, 'logout without a session patron');
SELECT is(pals_privacy.session_patron(), NULL, 'still no session patron');

-- Nothing but login() sets the session patron.
SELECT throws_ok($$SET pals_privacy.session_patron = 'P1'$$, '42602', NULL,
    'SET pals_privacy.session_patron: the prefix is reserved');
SELECT throws_ok($$SELECT set_config('pals_privacy.session_patron', 'P1', false)$$, '42602', NULL,
    'set_config(pals_privacy.session_patron): the prefix is reserved');
SELECT throws_ok($$SET pals_privacy.patron = 'P1'$$, '42602', NULL, 'SET pals_privacy.patron: refused');
SELECT is(pals_privacy.session_patron(), NULL, 'still no session patron after the attempts');

------------------------------------------------------------------------------
-- Brute force
------------------------------------------------------------------------------
-- P4: max_failed_logins (5) wrong PINs lock the card, the right PIN then fails.
SELECT lives_ok($$SELECT pals_privacy.set_pin('P4', '4444')$$, 'set_pin P4');
SELECT is((SELECT count(*) FILTER (WHERE l) FROM (SELECT pals_privacy.login('SE-1004', '1357') AS l
                                                   FROM generate_series(1, 5)) s), 0::bigint,
    'P4: 5 wrong PINs, all refused');
SELECT is(pals_privacy.login('SE-1004', '4444'), false, 'P4: locked: the right PIN is refused');
SELECT is(pals_privacy.session_patron(), NULL, 'P4: locked: no session patron');
SELECT is(pals_privacy.login('SE-1001', '2468'), true, 'another card is not locked');
SELECT lives_ok($$SELECT pals_privacy.logout()$$, 'logout');

-- P5: the failures must be consecutive: a success resets the count.
SELECT is((SELECT count(*) FILTER (WHERE l) FROM (SELECT pals_privacy.login('SE-1005', '1357') AS l
                                                   FROM generate_series(1, 4)) s), 0::bigint,
    'P5: 4 wrong PINs');
SELECT is(pals_privacy.login('SE-1005', '5555'), true, 'P5: the right PIN, before the limit');
SELECT is((SELECT count(*) FILTER (WHERE l) FROM (SELECT pals_privacy.login('SE-1005', '1357') AS l
                                                   FROM generate_series(1, 4)) s), 0::bigint,
    'P5: 4 more wrong PINs');
SELECT is(pals_privacy.login('SE-1005', '5555'), true, 'P5: the right PIN: a success reset the count');
SELECT lives_ok($$SELECT pals_privacy.logout()$$, 'logout');

-- P6: failures in a rolled-back savepoint still count (shared memory).
-- (No pgTAP inside the savepoint: its results would be rolled back too.)
SAVEPOINT se_attack;
SELECT pals_privacy.login('SE-1006', '1357') AS failed_in_savepoint FROM generate_series(1, 3);
ROLLBACK TO SAVEPOINT se_attack;
SAVEPOINT se_attack2;
SELECT pals_privacy.login('SE-1006', '1357') AS failed_before_error FROM generate_series(1, 2);
SELECT 1 / 0;
ROLLBACK TO SAVEPOINT se_attack2;
SELECT is(pals_privacy.login('SE-1006', '6666'), false,
    'P6: 5 failures, all rolled back (one with an error), still lock the card');

-- P7: set_pin resets the failure count.
SELECT is((SELECT count(*) FILTER (WHERE l) FROM (SELECT pals_privacy.login('SE-1007', '1357') AS l
                                                   FROM generate_series(1, 4)) s), 0::bigint,
    'P7: 4 wrong PINs');
SELECT lives_ok($$SELECT pals_privacy.set_pin('P7', '7070')$$, 'P7: a new PIN');
SELECT is(pals_privacy.login('SE-1007', '1357'), false, 'P7: one more wrong PIN (1 since the new PIN)');
SELECT is(pals_privacy.login('SE-1007', '7070'), true, 'P7: the new PIN: set_pin reset the count');
SELECT is(pals_privacy.login('SE-1007', '7777'), false, 'P7: the old PIN no longer works');
SELECT lives_ok($$SELECT pals_privacy.logout()$$, 'logout');

-- P11 and P12: long cards that share their first 63 characters are different cards.
SELECT lives_ok($$SELECT pals_privacy.set_pin('P11', '1111')$$, 'set_pin P11');
SELECT lives_ok($$SELECT pals_privacy.set_pin('P12', '1212')$$, 'set_pin P12');
SELECT is((SELECT count(*) FILTER (WHERE l) FROM (SELECT pals_privacy.login(repeat('7', 63) || 'A', '1357') AS l
                                                   FROM generate_series(1, 5)) s), 0::bigint,
    'P11: 5 wrong PINs');
SELECT is(pals_privacy.login(repeat('7', 63) || 'B', '1212'), true,
    'P12: not locked by the failures on a card that only shares its first 63 characters');
SELECT lives_ok($$SELECT pals_privacy.logout()$$, 'logout');

-- P8: max_failed_logins = 2.
SET pals_privacy.max_failed_logins = 2;
SELECT lives_ok($$SELECT pals_privacy.set_pin('P8', '8888')$$, 'set_pin P8');
SELECT is((SELECT count(*) FILTER (WHERE l) FROM (SELECT pals_privacy.login('SE-1008', '1357') AS l
                                                   FROM generate_series(1, 2)) s), 0::bigint,
    'P8: 2 wrong PINs');
SELECT is(pals_privacy.login('SE-1008', '8888'), false, 'P8: max_failed_logins = 2: locked after 2');
RESET pals_privacy.max_failed_logins;

-- P9: the lock expires after pals_privacy.lockout.
SET pals_privacy.lockout = '1s';
SELECT lives_ok($$SELECT pals_privacy.set_pin('P9', '9999')$$, 'set_pin P9');
SELECT is((SELECT count(*) FILTER (WHERE l) FROM (SELECT pals_privacy.login('SE-1009', '1357') AS l
                                                   FROM generate_series(1, 5)) s), 0::bigint,
    'P9: 5 wrong PINs');
SELECT is(pals_privacy.login('SE-1009', '9999'), false, 'P9: locked');
SELECT pg_sleep(1.1);
SELECT is(pals_privacy.login('SE-1009', '9999'), true, 'P9: the lock expired after lockout (1s)');
SELECT is(pals_privacy.session_patron(), 'P9', 'P9: session_patron');
SELECT lives_ok($$SELECT pals_privacy.logout()$$, 'logout');
RESET pals_privacy.lockout;

SELECT * FROM finish();
ROLLBACK;

------------------------------------------------------------------------------
-- Audit: failures and lockouts, with the patron id only: no PIN, no card.
-- They survive the rollback above: a background worker writes them once
-- the transaction (which held the audit chain) has ended.
------------------------------------------------------------------------------
BEGIN;
SELECT plan(7);
DO $$
BEGIN
    FOR i IN 1..400 LOOP
        EXIT WHEN (SELECT count(*) FROM pals_privacy.audit_log
                    WHERE id > (SELECT id FROM se_mark) AND event = 'login.lockout') >= 2;
        PERFORM pg_sleep(0.05);
    END LOOP;
END $$;
CREATE TEMP TABLE se_audit AS
SELECT id, role, class, event, details FROM pals_privacy.audit_log
 WHERE id > (SELECT id FROM se_mark) AND event LIKE 'login.%';
SELECT ok((SELECT count(*) FROM se_audit WHERE event = 'login.failed' AND strpos(details::text, '"P4"') > 0) >= 5,
    'at least 5 login.failed entries for P4');
SELECT ok((SELECT count(*) FROM se_audit WHERE event = 'login.lockout' AND strpos(details::text, '"P4"') > 0) >= 1,
    'a login.lockout entry for P4');
SELECT ok((SELECT count(*) FROM se_audit WHERE event = 'login.lockout' AND strpos(details::text, '"P8"') > 0) >= 1,
    'a login.lockout entry for P8');
SELECT ok((SELECT count(*) FROM se_audit WHERE event = 'login.failed' AND strpos(details::text, '"P1"') > 0) >= 1,
    'a login.failed entry for the wrong PIN of P1');
SELECT is((SELECT count(*) FROM se_audit
            WHERE concat_ws('|', role, class, event, details::text) ~ '2468|1357|4444|8642|5555|6666|7070|8888|9999|secret'),
    0::bigint, 'no login.* entry holds a PIN');
SELECT is((SELECT count(*) FROM se_audit WHERE concat_ws('|', role, class, event, details::text) ~ 'SE-|LC-'),
    0::bigint, 'no login.* entry holds a card number');
SELECT is((SELECT count(*) FROM se_audit WHERE (SELECT count(*) FROM jsonb_object_keys(coalesce(details, '{}'))) > 1),
    0::bigint, 'login.* details hold at most one key (the patron id)');

SELECT * FROM finish();
ROLLBACK;

------------------------------------------------------------------------------
-- DISCARD ALL, RESET ALL and logout end the session (outside a transaction
-- block: DISCARD ALL cannot run in one).  Cleaned up at the end.
------------------------------------------------------------------------------
SELECT pals_privacy.session_patron() IS NULL AS none_after_rollback;
SET pals_privacy.pin_iterations = 10000;
CREATE SCHEMA se2;
CREATE TABLE se2.patrons (id text PRIMARY KEY, card text UNIQUE, expires date NOT NULL DEFAULT 'infinity');
INSERT INTO se2.patrons (id, card) VALUES ('P31', 'SE-3001');
SELECT pals_privacy.bind_patrons('se2.patrons', 'id', 'expires', card_column => 'card');
SELECT pals_privacy.set_pin('P31', '3131');

SELECT pals_privacy.login('SE-3001', '3131') AS logged_in;
SELECT pals_privacy.session_patron() AS before_discard;
DISCARD ALL;
SET client_min_messages = warning;
SELECT pals_privacy.session_patron() IS NULL AS ended_by_discard_all;

SET pals_privacy.pin_iterations = 10000;
SELECT pals_privacy.login('SE-3001', '3131') AS logged_in;
SELECT pals_privacy.session_patron() AS before_reset_all;
RESET ALL;
SET client_min_messages = warning;
SELECT pals_privacy.session_patron() IS NULL AS ended_by_reset_all;

SELECT pals_privacy.login('SE-3001', '3131') AS logged_in;
RESET pals_privacy.pin_iterations;
SELECT pals_privacy.session_patron() AS kept_by_reset_of_one_setting;
SELECT pals_privacy.logout();
SELECT pals_privacy.session_patron() IS NULL AS ended_by_logout;

-- clean up
DELETE FROM pals_privacy.patron_pins WHERE patron = 'P31';
SELECT pals_privacy.unbind('se2.patrons');
DROP SCHEMA se2 CASCADE;
