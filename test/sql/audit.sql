-- The audit log (issue 7): entries for binding and classification changes,
-- the hash chain and verify_audit() (an edited, a deleted and an inserted
-- entry are each detected), who may read the log, legal orders and
-- disclose_history(), and policy acknowledgments.  The audit functions judge
-- the caller by session_user, so roles are taken on with SET SESSION
-- AUTHORIZATION.  Everything is rolled back.  Entry ids depend on what other
-- tests appended before, so ids are never printed: only compared.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pals_privacy;

-- durable entries (legal orders) are written after this transaction: they
-- are checked after it, from this mark on
CREATE TEMP TABLE au_durable_mark AS SELECT coalesce(max(id), 0) AS id FROM pals_privacy.audit_log;

BEGIN;
SELECT plan(71);

CREATE ROLE regress_au_staff;
CREATE ROLE regress_au_aud;

-- The last entry before this test: everything after it is ours.
CREATE TEMP TABLE au_mark AS SELECT coalesce(max(id), 0) AS id FROM pals_privacy.audit_log;
GRANT SELECT ON au_mark TO PUBLIC;

-- The rows of a query as text, '(a,b) | (c,d)', in the query's order
-- (pgTAP's set comparison fails on these text columns: "could not determine
-- which collation to use").
CREATE FUNCTION pg_temp.rows(query text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE result text;
BEGIN
    EXECUTE format('SELECT string_agg(t, '' | '' ORDER BY n) FROM (SELECT row_number() OVER () AS n, q::text AS t FROM (%s) q) s', query)
        INTO result;
    RETURN coalesce(result, '(none)');
END $$;

-- A small ILS: patron 7 keeps a reading history, patron 8 does not.
CREATE SCHEMA au;
CREATE TABLE au.patrons (id bigint PRIMARY KEY, name text NOT NULL, expires date NOT NULL DEFAULT 'infinity',
                         keep_history boolean NOT NULL DEFAULT false);
INSERT INTO au.patrons (id, name, keep_history) VALUES (7, 'Gus', true), (8, 'Hal', false);
CREATE TABLE au.loans (id int PRIMARY KEY, patron_id bigint REFERENCES au.patrons, item_id int NOT NULL,
                       checked_out timestamptz NOT NULL, returned timestamptz);
CREATE TABLE au.reading (patron_id bigint, title text);
GRANT USAGE ON SCHEMA au TO PUBLIC;

------------------------------------------------------------------------------
-- Entries for binding and classification changes
------------------------------------------------------------------------------
SELECT lives_ok($$SELECT pals_privacy.bind_patrons('au.patrons', 'id', 'expires', keep_history_column => 'keep_history')$$,
                'bind_patrons');
SELECT is(pg_temp.rows(
    $$SELECT role, class, event, details ->> 'table', details -> 'row' ->> 'relation'
        FROM pals_privacy.audit_log WHERE id > (SELECT id FROM au_mark) ORDER BY id$$),
    format('(%s,operational,binding.insert,patron_binding,au.patrons)', session_user),
    'bind_patrons appends one entry: role, class, event, table and row');
SELECT lives_ok($$SELECT pals_privacy.bind_loans('au.loans', 'patron_id', 'item_id', '{returned}')$$, 'bind_loans');
SELECT lives_ok($$SELECT pals_privacy.bind_private_history('au.reading', 'patron_id')$$, 'bind_private_history');
SELECT lives_ok($$SELECT pals_privacy.classify_role('regress_au_staff', 'staff')$$, 'classify a role staff');
SELECT lives_ok($$SELECT pals_privacy.classify_role('regress_au_aud', 'auditor')$$, 'classify a role auditor');
SELECT is(pg_temp.rows(
    $$SELECT event, details ->> 'table', coalesce(details -> 'row' ->> 'relation', details -> 'row' ->> 'role')
        FROM pals_privacy.audit_log WHERE id > (SELECT id FROM au_mark) ORDER BY id$$),
    '(binding.insert,patron_binding,au.patrons) | (binding.insert,loan_binding,au.loans) | '
    '(binding.insert,private_history_binding,au.reading) | '
    '(binding.insert,role_class,regress_au_staff) | (binding.insert,role_class,regress_au_aud)',
    'each bind call and each classify_role appends its entry, in order');
SELECT lives_ok($$SELECT pals_privacy.classify_role('regress_au_staff', 'collections')$$, 'reclassify a role');
SELECT lives_ok($$SELECT pals_privacy.classify_role('regress_au_staff', 'staff')$$, 'and back');
SELECT is((SELECT string_agg(event, ' ' ORDER BY id) FROM pals_privacy.audit_log WHERE id > (SELECT id + 5 FROM au_mark)),
          'binding.update binding.update', 'a reclassification is a binding.update entry');
SELECT is((SELECT count(*) FROM pals_privacy.audit_log WHERE id > (SELECT id FROM au_mark)),
          (SELECT max(id) - min(id) + 1 FROM pals_privacy.audit_log WHERE id > (SELECT id FROM au_mark)),
          'the ids of the entries are consecutive');
SELECT is((SELECT count(*) FROM pals_privacy.audit_log a LEFT JOIN pals_privacy.audit_log p ON p.id = a.id - 1
            WHERE a.id > (SELECT id FROM au_mark) AND a.prev_hash IS NOT DISTINCT FROM p.hash AND length(a.hash) = 32),
          7::bigint, 'each entry links to the hash of the one before, and has a SHA-256');

------------------------------------------------------------------------------
-- verify_audit(): intact, then each kind of tampering (as superuser)
------------------------------------------------------------------------------
SELECT is(pals_privacy.verify_audit(), NULL, 'verify_audit() is NULL on an intact chain');
SELECT is((SELECT id FROM pals_privacy.audit_head()), (SELECT max(id) FROM pals_privacy.audit_log), 'audit_head(): the last id');
SELECT is((SELECT hash FROM pals_privacy.audit_head()),
          (SELECT encode(hash, 'hex') FROM pals_privacy.audit_log ORDER BY id DESC LIMIT 1), 'audit_head(): its hex hash');

SAVEPOINT tamper;
UPDATE pals_privacy.audit_log SET details = jsonb_set(details, '{row,relation}', '"au.other"')
 WHERE id = (SELECT id + 3 FROM au_mark);
SELECT is(pals_privacy.verify_audit(), (SELECT id + 3 FROM au_mark), 'an edited entry (details) is found');
ROLLBACK TO tamper;
UPDATE pals_privacy.audit_log SET at = at - interval '1 day' WHERE id = (SELECT id + 2 FROM au_mark);
SELECT is(pals_privacy.verify_audit(), (SELECT id + 2 FROM au_mark), 'an edited entry (time) is found');
ROLLBACK TO tamper;
UPDATE pals_privacy.audit_log SET role = 'someone_else' WHERE id = (SELECT id + 4 FROM au_mark);
UPDATE pals_privacy.audit_log SET event = 'binding.delete' WHERE id = (SELECT id + 6 FROM au_mark);
SELECT is(pals_privacy.verify_audit(), (SELECT id + 4 FROM au_mark), 'of two edited entries, the first is found');
ROLLBACK TO tamper;
UPDATE pals_privacy.audit_log SET prev_hash = sha256('x') WHERE id = (SELECT id + 3 FROM au_mark);
SELECT is(pals_privacy.verify_audit(), (SELECT id + 3 FROM au_mark), 'an edited link (prev_hash) is found');
ROLLBACK TO tamper;
UPDATE pals_privacy.audit_log SET hash = sha256('x') WHERE id = (SELECT max(id) FROM pals_privacy.audit_log);
SELECT is(pals_privacy.verify_audit(), (SELECT max(id) FROM pals_privacy.audit_log), 'an edited hash of the last entry is found');
ROLLBACK TO tamper;
DELETE FROM pals_privacy.audit_log WHERE id = (SELECT id + 3 FROM au_mark);
SELECT is(pals_privacy.verify_audit(), (SELECT id + 4 FROM au_mark), 'a deleted entry: the one after it is found');
ROLLBACK TO tamper;
-- a forged entry at the end, linked to the real head
INSERT INTO pals_privacy.audit_log (id, at, role, class, event, details, prev_hash, hash)
SELECT id + 1, at, role, class, 'binding.delete', details, hash, sha256('forged') FROM pals_privacy.audit_log
 ORDER BY id DESC LIMIT 1;
SELECT is(pals_privacy.verify_audit(), (SELECT max(id) FROM pals_privacy.audit_log), 'an inserted entry is found');
ROLLBACK TO tamper;
-- a forged entry in the middle: the entries after it moved up by one
UPDATE pals_privacy.audit_log SET id = -id WHERE id > (SELECT id + 3 FROM au_mark);
UPDATE pals_privacy.audit_log SET id = -id + 1 WHERE id < 0;
INSERT INTO pals_privacy.audit_log (id, at, role, class, event, details, prev_hash, hash)
SELECT id + 1, at, role, class, 'binding.delete', details, hash, sha256('forged') FROM pals_privacy.audit_log
 WHERE id = (SELECT id + 3 FROM au_mark);
SELECT is(pals_privacy.verify_audit(), (SELECT id + 4 FROM au_mark), 'an entry inserted in the middle is found');
ROLLBACK TO tamper;
SELECT is(pals_privacy.verify_audit(), NULL, 'undone: the chain verifies again');

------------------------------------------------------------------------------
-- Who may read and change the log
------------------------------------------------------------------------------
SET SESSION AUTHORIZATION regress_au_staff;
SELECT throws_ok('SELECT * FROM pals_privacy.audit_log', '42501', NULL, 'staff cannot read audit_log');
SELECT throws_ok('SELECT pals_privacy.verify_audit()', '42501', NULL, 'staff cannot call verify_audit()');
SELECT throws_ok('SELECT * FROM pals_privacy.audit_search()', '42501', NULL, 'staff cannot call audit_search()');
SELECT throws_ok('SELECT * FROM pals_privacy.audit_head()', '42501', NULL, 'staff cannot call audit_head()');
SELECT throws_ok('UPDATE pals_privacy.audit_log SET details = NULL', '42501', NULL, 'staff cannot update audit_log');
SELECT throws_ok('DELETE FROM pals_privacy.audit_log', '42501', NULL, 'staff cannot delete from audit_log');
SELECT throws_ok('TRUNCATE pals_privacy.audit_log', '42501', NULL, 'staff cannot truncate audit_log');
SELECT throws_ok($$INSERT INTO pals_privacy.audit_log VALUES (0, now(), 'x', 'staff', 'forged', NULL, NULL, '\x00')$$,
                 '42501', NULL, 'staff cannot insert into audit_log');
SELECT throws_ok($$SELECT pals_privacy._audit('forged', '{}')$$, '42501', NULL, 'staff cannot call the append function');
RESET SESSION AUTHORIZATION;

SET SESSION AUTHORIZATION regress_au_aud;
SELECT throws_ok('SELECT * FROM pals_privacy.audit_log', '42501', NULL, 'an auditor reads the log only through the functions');
SELECT throws_ok('DELETE FROM pals_privacy.audit_log', '42501', NULL, 'an auditor cannot delete from audit_log');
SELECT is(pals_privacy.verify_audit(), NULL, 'an auditor calls verify_audit()');
SELECT is((SELECT id FROM pals_privacy.audit_head()) > (SELECT id FROM au_mark), true, 'an auditor calls audit_head()');
SELECT is((SELECT count(*) FROM pals_privacy.audit_search(event_like => 'binding.%') WHERE id > (SELECT id FROM au_mark)),
          7::bigint, 'an auditor calls audit_search(): event_like');
SELECT is((SELECT count(*) FROM pals_privacy.audit_search(from_time => now(), role_name => session_user::text)
            WHERE id > (SELECT id FROM au_mark)),
          0::bigint, 'audit_search(): role_name (the auditor appended nothing yet)');
SELECT is((SELECT count(*) FROM pals_privacy.audit_search(from_time => now(), until_time => now() + interval '1 minute')
            WHERE id > (SELECT id FROM au_mark)),
          7::bigint, 'audit_search(): from_time and until_time around the entries');
SELECT is((SELECT count(*) FROM pals_privacy.audit_search(until_time => now() - interval '1 second')
            WHERE id > (SELECT id FROM au_mark)),
          0::bigint, 'audit_search(): until_time before the entries');
RESET SESSION AUTHORIZATION;

------------------------------------------------------------------------------
-- Legal orders and disclose_history()
------------------------------------------------------------------------------
-- 7 borrowed item 100 then 8 did: 7's row is copied to private_history and
-- severed; 7 is the last borrower of 300 and has 400 out.
INSERT INTO au.loans VALUES (1, 7, 100, '2024-01-01', '2024-01-10');
INSERT INTO au.loans VALUES (2, 8, 100, '2024-02-01', '2024-02-10');
INSERT INTO au.loans VALUES (3, 7, 300, '2024-01-01', '2024-01-10');
INSERT INTO au.loans VALUES (4, 7, 400, '2024-03-01', NULL);
INSERT INTO au.reading VALUES (7, 'a'), (7, 'b'), (8, 'c');
SELECT is((SELECT string_agg(id || ':' || coalesce(patron_id::text, '-'), ' ' ORDER BY id) FROM au.loans),
          '1:- 2:8 3:7 4:7', 'set-up: 7''s first loan is severed');
SELECT is((SELECT count(*) FROM pals_privacy.private_history WHERE patron = '7'), 1::bigint,
          'set-up: and copied to private_history');

SET SESSION AUTHORIZATION regress_au_staff;
SELECT throws_ok($$SELECT pals_privacy.open_legal_order('CR-1', 'Court', '7', now() + interval '1 day')$$,
                 '42501', NULL, 'staff cannot open a legal order');
RESET SESSION AUTHORIZATION;

SET SESSION AUTHORIZATION regress_au_aud;
SELECT throws_ok($$SELECT pals_privacy.open_legal_order(NULL, 'Court', '7', now() + interval '1 day')$$,
                 '22004', NULL, 'no reference');
SELECT throws_ok($$SELECT pals_privacy.open_legal_order('', 'Court', '7', now() + interval '1 day')$$,
                 '22023', NULL, 'an empty reference');
SELECT throws_ok($$SELECT pals_privacy.open_legal_order('CR-1', NULL, '7', now() + interval '1 day')$$,
                 '22004', NULL, 'no issuer');
SELECT throws_ok($$SELECT pals_privacy.open_legal_order('CR-1', 'Court', NULL, now() + interval '1 day')$$,
                 '22004', NULL, 'no patron');
SELECT throws_ok($$SELECT pals_privacy.open_legal_order('CR-1', 'Court', '', now() + interval '1 day')$$,
                 '22023', NULL, 'an empty patron');
SELECT throws_ok($$SELECT pals_privacy.open_legal_order('CR-1', 'Court', '7', NULL)$$,
                 '22004', NULL, 'no expiry');
SELECT throws_ok($$SELECT pals_privacy.open_legal_order('CR-1', 'Court', '7', now() - interval '1 day')$$,
                 '22023', NULL, 'an expiry in the past');
SELECT throws_ok($$SELECT pals_privacy.open_legal_order('CR-1', 'Court', '999', now() + interval '1 day')$$,
                 '23503', NULL, 'an unknown patron');
SELECT throws_ok('SELECT * FROM pals_privacy.disclose_history(-1)', '42704', NULL, 'disclose under an unknown order');
SELECT lives_ok($$SELECT pals_privacy.open_legal_order('CR-1', 'County Court', '7', now() + interval '1 day', 'subpoena')$$,
                'an auditor opens a legal order');
SELECT lives_ok($$SELECT pals_privacy.open_legal_order('CR-2', 'County Court', '7', now() + interval '1 hour')$$,
                'and a second one, to expire');
SELECT lives_ok($$SELECT pals_privacy.open_legal_order('CR-3', 'County Court', '7', now() + interval '1 hour')$$,
                'and a third one, to close');
RESET SESSION AUTHORIZATION;
SELECT id AS order1 FROM pals_privacy.legal_orders WHERE reference = 'CR-1' \gset
SELECT id AS order2 FROM pals_privacy.legal_orders WHERE reference = 'CR-2' \gset
SELECT id AS order3 FROM pals_privacy.legal_orders WHERE reference = 'CR-3' \gset
SELECT id AS hist_id FROM pals_privacy.private_history WHERE patron = '7' \gset
-- (the legal_order.* entries survive the caller's rollback: they are checked
-- after this transaction, at the end of the file)
UPDATE pals_privacy.legal_orders SET expires = now() - interval '1 minute' WHERE id = :order2;

SET SESSION AUTHORIZATION regress_au_staff;
SELECT throws_ok('SELECT * FROM pals_privacy.disclose_history(' || :order1 || ')', '42501', NULL,
                 'staff cannot disclose, even under an open order');
SELECT throws_ok('SELECT pals_privacy.close_legal_order(' || :order3 || ')', '42501', NULL, 'staff cannot close an order');
RESET SESSION AUTHORIZATION;

SET SESSION AUTHORIZATION regress_au_aud;
SELECT is(pg_temp.rows(
    'SELECT relation::text, coalesce(row_data ->> ''id'', '''') || '':'' || coalesce(row_data ->> ''title'', row_data -> ''row_data'' ->> ''item_id'', '''')
       FROM pals_privacy.disclose_history(' || :order1 || ') ORDER BY 1, 2'),
    '(au.loans,3:) | (au.loans,4:) | (au.reading,:a) | (au.reading,:b) | (pals_privacy.private_history,'
    || :hist_id || ':100)',
    'disclose_history(): the patron''s loans (closed and open), private history relation and severed copy');
SELECT lives_ok('SELECT pals_privacy.close_legal_order(' || :order3 || ')', 'an auditor closes an order');
SELECT throws_ok('SELECT pals_privacy.close_legal_order(' || :order3 || ')', '55000', NULL, 'closing it again');
SELECT throws_ok('SELECT * FROM pals_privacy.disclose_history(' || :order3 || ')', '55000', NULL, 'disclose under a closed order');
SELECT throws_ok('SELECT * FROM pals_privacy.disclose_history(' || :order2 || ')', '55000', NULL, 'disclose under an expired order');
SELECT throws_ok('SELECT pals_privacy.close_legal_order(-1)', '42704', NULL, 'close an unknown order');
RESET SESSION AUTHORIZATION;
-- A disclosure whose transaction (here: savepoint) is rolled back has still
-- returned its rows to the client: it must stay logged.
SET SESSION AUTHORIZATION regress_au_aud;
SAVEPOINT undo;
SELECT count(*) AS disclosed FROM pals_privacy.disclose_history(:order1);
ROLLBACK TO undo;
RESET SESSION AUTHORIZATION;
SELECT is(pals_privacy.verify_audit(), NULL, 'the chain still verifies');

------------------------------------------------------------------------------
-- Policy acknowledgment
------------------------------------------------------------------------------
SET SESSION AUTHORIZATION regress_au_staff;
SELECT throws_ok($$SELECT pals_privacy.acknowledge_policy(NULL)$$, '22004', NULL, 'acknowledge: no version');
SELECT lives_ok($$SELECT pals_privacy.acknowledge_policy('2024.1')$$, 'staff acknowledge the policy');
SELECT lives_ok($$SELECT pals_privacy.acknowledge_policy('2025.1')$$, 'and a newer version');
SELECT is(pg_temp.rows(
    $$SELECT role::text, version, acknowledged_at BETWEEN now() AND clock_timestamp() AS now FROM pals_privacy.acknowledgments WHERE role::text LIKE 'regress_au_%'$$),
    '(regress_au_staff,2025.1,t)',
    'acknowledgments: the role''s last acknowledgment, one row');
RESET SESSION AUTHORIZATION;
SELECT is(pg_temp.rows(
    $$SELECT role, class, details ->> 'version' FROM pals_privacy.audit_log
       WHERE id > (SELECT id FROM au_mark) AND event = 'policy.acknowledge' ORDER BY id$$),
    '(regress_au_staff,staff,2024.1) | (regress_au_staff,staff,2025.1)',
    'each acknowledgment is logged');
SELECT is(pals_privacy.verify_audit(), NULL, 'and the chain verifies at the end');

SELECT * FROM finish();
ROLLBACK;

------------------------------------------------------------------------------
-- Legal orders are audited with entries that survive the caller's rollback
-- (issue 13, item 13): the transaction above held the audit chain, so a
-- background worker wrote them once it had ended, rolled back as it was.
-- The orders themselves are gone; the entries name the reference and, for
-- a disclosure, the patron and the rows returned.
------------------------------------------------------------------------------
BEGIN;
SELECT plan(5);
CREATE FUNCTION pg_temp.rows(query text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE result text;
BEGIN
    EXECUTE format('SELECT string_agg(t, '' | '' ORDER BY n) FROM (SELECT row_number() OVER () AS n, q::text AS t FROM (%s) q) s', query)
        INTO result;
    RETURN coalesce(result, '(none)');
END $$;
DO $$
BEGIN
    FOR i IN 1..400 LOOP
        EXIT WHEN (SELECT count(*) FROM pals_privacy.audit_log
                    WHERE id > (SELECT id FROM au_durable_mark) AND event LIKE 'legal_order.%') >= 6;
        PERFORM pg_sleep(0.05);
    END LOOP;
END $$;
SELECT is((SELECT count(*) FROM pals_privacy.legal_orders WHERE reference LIKE 'CR-%'), 0::bigint,
    'the orders were rolled back');
SELECT is(pg_temp.rows(
    $$SELECT event, details ->> 'reference', role, class FROM pals_privacy.audit_log
       WHERE id > (SELECT id FROM au_durable_mark) AND event = 'legal_order.open' ORDER BY id$$),
    '(legal_order.open,CR-1,regress_au_aud,auditor) | (legal_order.open,CR-2,regress_au_aud,auditor) | '
    '(legal_order.open,CR-3,regress_au_aud,auditor)',
    'each opened order is an entry, by the auditor, kept after the rollback');
SELECT is(pg_temp.rows(
    format($$SELECT event, details ->> 'order' = %L AS right_order, details ->> 'reference', details ->> 'patron', details -> 'rows'
               FROM pals_privacy.audit_log
              WHERE id > (SELECT id FROM au_durable_mark) AND event IN ('legal_order.disclose', 'legal_order.close')
              ORDER BY id$$, :'order1')),
    '(legal_order.disclose,t,CR-1,7,"{""au.loans"": 2, ""au.reading"": 2, ""pals_privacy.private_history"": 1}") | '
    '(legal_order.close,f,,,) | '
    '(legal_order.disclose,t,CR-1,7,"{""au.loans"": 2, ""au.reading"": 2, ""pals_privacy.private_history"": 1}")',
    'each disclosure is logged with the patron and its counts per relation, also the one rolled back to a savepoint; the close is logged; refusals log nothing');
SELECT is((SELECT details ->> 'order' FROM pals_privacy.audit_log
            WHERE id > (SELECT id FROM au_durable_mark) AND event = 'legal_order.close'), :'order3',
    'the close names its order');
SELECT is(pals_privacy.verify_audit(), NULL, 'the chain verifies with the entries written after the rollback');
SELECT * FROM finish();
ROLLBACK;
