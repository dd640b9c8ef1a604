-- Redaction for the patron class (the online catalogue acting for a patron):
-- nothing of any bound relation before login(), only the patron's own rows
-- (every column) after it, nothing again after logout(), DISCARD ALL or
-- RESET ALL; another login switches whose rows are seen, prepared statements
-- included; a locked card shows nothing.
--
-- Patrons P1-P4 (text ids).  P1 and P2 have PINs, P3 has a PIN but its card
-- is locked by wrong PINs below, P4 has none.  The first part runs in one
-- transaction that is rolled back; DISCARD ALL cannot run in a transaction
-- block (and would drop pgTAP's state), so the last part runs outside one, as
-- plain statements checked by the expected output, and cleans up after
-- itself.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pals_privacy;

BEGIN;
SELECT plan(70);

CREATE ROLE regress_rp_opac;
DO $$ BEGIN PERFORM pals_privacy.classify_role('regress_rp_opac', 'patron'); END $$;

CREATE SCHEMA rp;
CREATE TABLE rp.patrons (id text PRIMARY KEY, name text NOT NULL, card text UNIQUE, email text,
                         expires date NOT NULL DEFAULT 'infinity');
INSERT INTO rp.patrons (id, name, card, email) VALUES
    ('P1', 'Ada One', 'RP-0001', 'ada@example.org'),
    ('P2', 'Ben Two', 'RP-0002', 'ben@example.org'),
    ('P3', 'Cat Three', 'RP-0003', 'cat@example.org'),
    ('P4', 'Dan Four', 'RP-0004', 'dan@example.org');
CREATE TABLE rp.cards (card text PRIMARY KEY, patron_id text NOT NULL);
INSERT INTO rp.cards VALUES ('RPX-1', 'P1'), ('RPX-2', 'P2');
CREATE TABLE rp.fines (id int PRIMARY KEY, patron_id text NOT NULL, amount numeric(8,2) NOT NULL);
INSERT INTO rp.fines VALUES (1, 'P1', 2.50), (2, 'P2', 7.00), (3, 'P2', 1.00);
CREATE TABLE rp.loans (id int PRIMARY KEY, patron_id text, item_id int NOT NULL, returned date, paid date);
INSERT INTO rp.loans VALUES
    (1, 'P1', 1, NULL, NULL),                       -- open
    (2, 'P1', 2, '2024-01-10', '2024-01-10'),       -- P1's history
    (3, 'P2', 2, '2024-02-10', '2024-02-10'),       -- P2's history (item 2 again)
    (4, 'P2', 3, NULL, NULL),
    (5, 'P3', 4, NULL, NULL),
    (6, NULL, 2, '2023-01-10', '2023-01-10');       -- severed long ago: nobody's
CREATE TABLE rp.holds (id int PRIMARY KEY, patron_id text, title_id int NOT NULL, fulfilled date);
INSERT INTO rp.holds VALUES (1, 'P1', 10, NULL), (2, 'P2', 10, NULL), (3, 'P2', 11, '2024-01-01');
CREATE TABLE rp.searches (id int PRIMARY KEY, patron_id text NOT NULL, query text);
INSERT INTO rp.searches VALUES (1, 'P1', 'gardening'), (2, 'P2', 'divorce'), (3, 'P2', 'bankruptcy');
CREATE TABLE rp.addresses (patron_id text PRIMARY KEY, street text, phone text);
INSERT INTO rp.addresses VALUES ('P1', '1 One St', '555-0001'), ('P2', '2 Two St', '555-0002'), ('P3', '3 Three St', '555-0003');

DO $$ BEGIN
    PERFORM pals_privacy.bind_patrons('rp.patrons', 'id', 'expires', card_column => 'card');
    PERFORM pals_privacy.bind_cards('rp.cards', 'card', 'patron_id');
    PERFORM pals_privacy.bind_balance('rp.fines', 'patron_id', 'amount');
    PERFORM pals_privacy.bind_loans('rp.loans', 'patron_id', 'item_id', ARRAY['returned'], 'paid');
    PERFORM pals_privacy.bind_loans('rp.holds', 'patron_id', 'title_id', ARRAY['fulfilled'], keep_last_borrower => false);
    PERFORM pals_privacy.bind_private_history('rp.searches', 'patron_id');
    PERFORM pals_privacy.bind_contact('rp.patrons', 'email', 'id', 'email');
    PERFORM pals_privacy.bind_contact('rp.addresses', 'phone', 'patron_id', 'phone');
END $$;
SET pals_privacy.pin_iterations = 10000;
DO $$ BEGIN
    PERFORM pals_privacy.set_pin('P1', '1111');
    PERFORM pals_privacy.set_pin('P2', '2222');
    PERFORM pals_privacy.set_pin('P3', '3333');
END $$;

-- an ILS view (owned by the table owner), an invoker view, functions
CREATE VIEW rp.loan_list AS
    SELECT l.id, l.item_id, l.patron_id, p.name FROM rp.loans l JOIN rp.patrons p ON p.id = l.patron_id;
CREATE VIEW rp.loan_list_invoker WITH (security_invoker = true) AS
    SELECT l.id, l.item_id, l.patron_id, p.name FROM rp.loans l JOIN rp.patrons p ON p.id = l.patron_id;
CREATE FUNCTION rp.loan_count() RETURNS bigint LANGUAGE plpgsql STABLE AS $$
DECLARE n bigint;
BEGIN
    SELECT count(*) INTO n FROM rp.loans;
    RETURN n;
END $$;
CREATE TABLE rp.leaks (v text);
CREATE FUNCTION rp.leak(v text) RETURNS boolean LANGUAGE plpgsql COST 0.0001 AS $$
BEGIN
    INSERT INTO rp.leaks VALUES (coalesce(v, '-'));
    RETURN true;
END $$;
CREATE FUNCTION rp.loan_ids() RETURNS SETOF int LANGUAGE sql STABLE AS $$ SELECT id FROM rp.loans ORDER BY id $$;
GRANT USAGE ON SCHEMA rp TO regress_rp_opac;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA rp TO regress_rp_opac;
ANALYZE rp.patrons, rp.loans, rp.holds, rp.searches;

CREATE FUNCTION pg_temp.nrows(sql text) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE n bigint;
BEGIN
    EXECUTE sql;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END $$;
-- rows of every bound relation, as one line
CREATE FUNCTION pg_temp.counts() RETURNS text LANGUAGE sql AS $$
    SELECT format('patrons %s cards %s fines %s loans %s holds %s searches %s addresses %s',
                  (SELECT count(*) FROM rp.patrons), (SELECT count(*) FROM rp.cards), (SELECT count(*) FROM rp.fines),
                  (SELECT count(*) FROM rp.loans), (SELECT count(*) FROM rp.holds), (SELECT count(*) FROM rp.searches),
                  (SELECT count(*) FROM rp.addresses))
$$;

------------------------------------------------------------------------------
-- Before login: nothing
------------------------------------------------------------------------------
SET SESSION AUTHORIZATION regress_rp_opac;
SELECT is(pals_privacy.current_class(), 'patron', 'regress_rp_opac is of class patron');
SELECT is(pals_privacy.session_patron(), NULL, 'no session patron yet');
SELECT is((SELECT count(*) FROM rp.patrons), 0::bigint, 'before login: no patron row');
SELECT is((SELECT count(*) FROM rp.cards), 0::bigint, 'before login: no card');
SELECT is((SELECT count(*) FROM rp.fines), 0::bigint, 'before login: no balance row');
SELECT is((SELECT count(*) FROM rp.loans), 0::bigint, 'before login: no loan');
SELECT is((SELECT count(*) FROM rp.holds), 0::bigint, 'before login: no hold');
SELECT is((SELECT count(*) FROM rp.searches), 0::bigint, 'before login: no private history');
SELECT is((SELECT count(*) FROM rp.addresses), 0::bigint, 'before login: no contact row');
SELECT is((SELECT count(*) FROM rp.loan_list), 0::bigint, 'before login: nothing through an ILS view');
SELECT is(rp.loan_count(), 0::bigint, 'before login: nothing through a function');
SELECT is_empty('SELECT id FROM rp.patrons WHERE card = ''RP-0001''', 'before login: WHERE card = ...');
SELECT throws_ok('EXPLAIN ANALYZE SELECT * FROM rp.loans', '42501', NULL, 'before login: EXPLAIN ANALYZE');
SELECT is((SELECT count(*) FROM pg_stats WHERE schemaname = 'rp'), 0::bigint, 'before login: pg_stats');
SELECT throws_ok($$SET pals_privacy.session_patron = 'P1'$$, '42602', NULL, 'the session patron cannot be SET');
SELECT is((SELECT count(*) FROM rp.loans), 0::bigint, 'still nothing after the attempt');

------------------------------------------------------------------------------
-- Logged in as P1: own rows, every column; nobody else's
------------------------------------------------------------------------------
SELECT ok(pals_privacy.login('RP-0001', '1111'), 'P1 logs in');
SELECT throws_ok($$SELECT pals_privacy._contact_visible('2', 'notices', 'email')$$, '42501', NULL,
    'a patron cannot ask the purpose filter about another patron''s consent');
SELECT throws_ok($$SELECT pals_privacy._collectible('2')$$, '42501', NULL,
    'nor the collections filter about another patron''s debts');
SELECT results_eq('SELECT id, name, card, email FROM rp.patrons',
    $$VALUES ('P1'::text, 'Ada One'::text, 'RP-0001'::text, 'ada@example.org'::text)$$, 'P1: own patron row, every column');
SELECT results_eq('SELECT card FROM rp.cards', ARRAY['RPX-1'], 'P1: own cards');
SELECT results_eq('SELECT id, amount FROM rp.fines', $$VALUES (1, 2.50::numeric(8,2))$$, 'P1: own balance');
SELECT results_eq('SELECT id, patron_id FROM rp.loans ORDER BY id', $$VALUES (1, 'P1'::text), (2, 'P1')$$,
    'P1: own loans, the returned one included, with the patron column');
SELECT results_eq('SELECT id FROM rp.holds', ARRAY[1], 'P1: own holds');
SELECT results_eq('SELECT query FROM rp.searches', ARRAY['gardening'], 'P1: own private history');
SELECT results_eq('SELECT patron_id, street, phone FROM rp.addresses',
    $$VALUES ('P1'::text, '1 One St'::text, '555-0001'::text)$$, 'P1: own contact row');
SELECT is_empty('SELECT id FROM rp.loans WHERE patron_id = ''P2''', 'P1: WHERE patron_id = ''P2''');
SELECT is_empty('SELECT id FROM rp.patrons WHERE name = ''Ben Two''', 'P1: another patron by name');
SELECT is((SELECT count(*) FROM rp.loans WHERE item_id = 2), 1::bigint, 'P1: item 2 was lent to P1 once (P2''s loan is not seen)');
SELECT results_eq('SELECT p.name FROM rp.loans l JOIN rp.patrons p ON p.id = l.patron_id ORDER BY l.id',
    ARRAY['Ada One', 'Ada One'], 'P1: JOIN loans to patrons');
SELECT is((SELECT count(*) FROM rp.patrons WHERE id IN (SELECT patron_id FROM rp.holds WHERE title_id = 10)), 1::bigint,
    'P1: IN (subquery): only P1 holds title 10');
SELECT ok(NOT EXISTS (SELECT 1 FROM rp.loans WHERE patron_id <> 'P1'), 'P1: EXISTS another patron''s loan: no');
SELECT is((SELECT count(DISTINCT patron_id) FROM rp.searches), 1::bigint, 'P1: one patron in the private history');
SELECT results_eq('SELECT id FROM rp.loan_list ORDER BY id', ARRAY[1, 2], 'P1: an ILS view');
SELECT results_eq('SELECT id FROM rp.loan_list_invoker ORDER BY id', ARRAY[1, 2], 'P1: a security_invoker view');
SELECT is(rp.loan_count(), 2::bigint, 'P1: a PL/pgSQL function');
SELECT is((SELECT count(*) FROM rp.searches WHERE rp.leak(query)), 1::bigint, 'P1: a leaky function in WHERE');
SELECT is((SELECT string_agg(v, ',' ORDER BY v) FROM rp.leaks), 'gardening', 'P1: it was shown P1''s rows only');
SELECT results_eq('SELECT * FROM rp.loan_ids()', ARRAY[1, 2], 'P1: an SQL function');
SELECT is(pg_temp.nrows($$UPDATE rp.patrons SET email = 'x@example.org' WHERE id = 'P2'$$), 0::bigint,
    'P1: UPDATE of another patron''s row: nothing');
SELECT is(pg_temp.nrows($$DELETE FROM rp.searches WHERE patron_id = 'P2'$$), 0::bigint,
    'P1: DELETE of another patron''s private history: nothing');
SELECT throws_ok('EXPLAIN ANALYZE SELECT * FROM rp.loans', '42501', NULL, 'P1: EXPLAIN ANALYZE');
SELECT is((SELECT count(*) FROM pg_stats WHERE schemaname = 'rp'), 0::bigint, 'P1: pg_stats');
DECLARE rp_c1 CURSOR FOR SELECT id FROM rp.loans ORDER BY id;
SELECT results_eq('rp_c1'::refcursor, ARRAY[1, 2], 'P1: a cursor');
CLOSE rp_c1;
-- parallel plans and COPY (checked by the expected output)
SET parallel_setup_cost = 0; SET parallel_tuple_cost = 0; SET min_parallel_table_scan_size = 0;
-- force_parallel_mode was renamed debug_parallel_query in PostgreSQL 16
SELECT CASE WHEN current_setting('server_version_num')::int >= 160000 THEN 'debug_parallel_query'
            ELSE 'force_parallel_mode' END AS debug_parallel \gset
SET max_parallel_workers_per_gather = 2; SET :debug_parallel = on;
SELECT string_agg(id || ':' || coalesce(patron_id, '-'), ' ' ORDER BY id) AS parallel_loans FROM rp.loans;
SELECT count(*) AS parallel_searches FROM rp.searches;
RESET parallel_setup_cost; RESET parallel_tuple_cost; RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather; RESET :debug_parallel;
COPY rp.loans TO STDOUT;
COPY (SELECT p.name, s.query FROM rp.patrons p JOIN rp.searches s ON s.patron_id = p.id) TO STDOUT;
PREPARE rp_q1 AS SELECT id FROM rp.loans ORDER BY id;
SELECT results_eq('rp_q1', ARRAY[1, 2], 'P1: a prepared statement');
SET plan_cache_mode = force_generic_plan;
PREPARE rp_q2(text) AS SELECT count(*) FROM rp.searches WHERE patron_id = $1;
SELECT results_eq($$EXECUTE rp_q2('P2')$$, ARRAY[0::bigint], 'P1: a generic plan asking for P2''s history');

------------------------------------------------------------------------------
-- Logged in as P2: the same statements now show P2's rows
------------------------------------------------------------------------------
SELECT ok(pals_privacy.login('RP-0002', '2222'), 'P2 logs in on the same connection');
SELECT is(pals_privacy.session_patron(), 'P2', 'the session patron is P2');
SELECT results_eq('rp_q1', ARRAY[3, 4], 'P2: the prepared statement shows P2''s loans');
SELECT results_eq($$EXECUTE rp_q2('P2')$$, ARRAY[2::bigint], 'P2: the generic plan finds P2''s history');
SELECT results_eq($$EXECUTE rp_q2('P1')$$, ARRAY[0::bigint], 'P2: and not P1''s');
RESET plan_cache_mode;
SELECT is(pg_temp.counts(), 'patrons 1 cards 1 fines 2 loans 2 holds 2 searches 2 addresses 1', 'P2: own rows of every relation');
SELECT results_eq('SELECT name FROM rp.patrons', ARRAY['Ben Two'], 'P2: own patron row');
SELECT is(rp.loan_count(), 2::bigint, 'P2: the PL/pgSQL function (its plan was cached for P1)');
SELECT results_eq('SELECT id FROM rp.loan_list ORDER BY id', ARRAY[3, 4], 'P2: the ILS view');
SELECT is_empty('SELECT id FROM rp.loans WHERE patron_id = ''P1''', 'P2: WHERE patron_id = ''P1''');

------------------------------------------------------------------------------
-- Wrong PINs, a locked card, a card without a PIN
------------------------------------------------------------------------------
RESET SESSION AUTHORIZATION;
SET pals_privacy.max_failed_logins = 2;
SET SESSION AUTHORIZATION regress_rp_opac;
SELECT ok(NOT pals_privacy.login('RP-0003', '0000'), 'a wrong PIN for P3');
SELECT is_empty('SELECT id FROM rp.loans WHERE patron_id = ''P3''', 'shows nothing of P3');
SELECT ok(NOT pals_privacy.login('RP-0003', '0001'), 'a second wrong PIN for P3 locks the card');
SELECT ok(NOT pals_privacy.login('RP-0003', '3333'), 'the right PIN for the locked card');
SELECT is((SELECT count(*) FROM rp.patrons WHERE id = 'P3') + (SELECT count(*) FROM rp.loans WHERE patron_id = 'P3')
          + (SELECT count(*) FROM rp.addresses WHERE patron_id = 'P3'), 0::bigint, 'a locked card shows nothing of P3');
SELECT ok(NOT pals_privacy.login('RP-0004', '4444'), 'P4 has no PIN');
SELECT is((SELECT count(*) FROM rp.patrons WHERE id = 'P4'), 0::bigint, 'nothing of P4');
RESET SESSION AUTHORIZATION;
RESET pals_privacy.max_failed_logins;
SET SESSION AUTHORIZATION regress_rp_opac;

------------------------------------------------------------------------------
-- logout: nothing again
------------------------------------------------------------------------------
SELECT ok(pals_privacy.login('RP-0001', '1111'), 'P1 logs in again');
SELECT results_eq('rp_q1', ARRAY[1, 2], 'P1 again: own loans');
SELECT lives_ok('SELECT pals_privacy.logout()', 'logout');
SELECT is(pals_privacy.session_patron(), NULL, 'no session patron after logout');
SELECT is(pg_temp.counts(), 'patrons 0 cards 0 fines 0 loans 0 holds 0 searches 0 addresses 0',
    'after logout: no row of any bound relation');
SELECT is_empty('rp_q1', 'after logout: the prepared statement shows nothing');
SELECT is(rp.loan_count(), 0::bigint, 'after logout: the PL/pgSQL function shows nothing');
RESET SESSION AUTHORIZATION;
DEALLOCATE rp_q1; DEALLOCATE rp_q2;

SELECT * FROM finish();
ROLLBACK;

------------------------------------------------------------------------------
-- DISCARD ALL and RESET ALL end the session's patron (outside a transaction
-- block).  Cleaned up at the end.
------------------------------------------------------------------------------
SET pals_privacy.pin_iterations = 10000;
CREATE ROLE regress_rp2_opac;
SELECT pals_privacy.classify_role('regress_rp2_opac', 'patron');
CREATE SCHEMA rp2;
CREATE TABLE rp2.patrons (id text PRIMARY KEY, card text UNIQUE, expires date NOT NULL DEFAULT 'infinity');
INSERT INTO rp2.patrons (id, card) VALUES ('Q1', 'RQ-0001'), ('Q2', 'RQ-0002');
CREATE TABLE rp2.loans (id int PRIMARY KEY, patron_id text, item_id int NOT NULL, returned date);
INSERT INTO rp2.loans VALUES (1, 'Q1', 1, NULL), (2, 'Q1', 2, NULL), (3, 'Q2', 3, NULL);
SELECT pals_privacy.bind_patrons('rp2.patrons', 'id', 'expires', card_column => 'card');
SELECT pals_privacy.bind_loans('rp2.loans', 'patron_id', 'item_id', ARRAY['returned']);
SELECT pals_privacy.set_pin('Q1', '1212');
GRANT USAGE ON SCHEMA rp2 TO regress_rp2_opac;
GRANT SELECT ON ALL TABLES IN SCHEMA rp2 TO regress_rp2_opac;

SET SESSION AUTHORIZATION regress_rp2_opac;
SELECT count(*) AS before_login FROM rp2.loans;
SELECT pals_privacy.login('RQ-0001', '1212') AS logged_in;
SELECT string_agg(id || ':' || patron_id, ' ' ORDER BY id) AS own_loans FROM rp2.loans;
PREPARE rp2_q AS SELECT count(*) FROM rp2.loans;
EXECUTE rp2_q;
DISCARD ALL;
SET client_min_messages = warning;
SET SESSION AUTHORIZATION regress_rp2_opac;
SELECT pals_privacy.session_patron() IS NULL AS ended_by_discard_all;
SELECT count(*) AS after_discard_all FROM rp2.loans;

SELECT pals_privacy.login('RQ-0001', '1212') AS logged_in;
PREPARE rp2_q AS SELECT count(*) FROM rp2.loans;
EXECUTE rp2_q;
RESET ALL;
SET client_min_messages = warning;
SELECT pals_privacy.session_patron() IS NULL AS ended_by_reset_all;
SELECT count(*) AS after_reset_all FROM rp2.loans;
EXECUTE rp2_q;

SELECT pals_privacy.login('RQ-0001', '1212') AS logged_in;
EXECUTE rp2_q;
SELECT pals_privacy.logout();
EXECUTE rp2_q;
SELECT count(*) AS after_logout FROM rp2.loans;
RESET SESSION AUTHORIZATION;
DEALLOCATE rp2_q;

-- clean up
DELETE FROM pals_privacy.patron_pins WHERE patron = 'Q1';
SELECT pals_privacy.unbind('rp2.loans');
SELECT pals_privacy.unbind('rp2.patrons');
DROP SCHEMA rp2 CASCADE;
SELECT pals_privacy.unclassify_role('regress_rp2_opac');
DROP ROLE regress_rp2_opac;
