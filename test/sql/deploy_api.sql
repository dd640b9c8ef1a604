-- The API in the caller's habits (issue 15): patron ids in their natural
-- type, procedures refused in a transaction block with a message that says
-- what to do, a purge function named without its argument types.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pals_privacy;
BEGIN;
SELECT plan(17);

CREATE SCHEMA api;
CREATE TABLE api.patrons (id bigint PRIMARY KEY, card text, expires date NOT NULL DEFAULT 'infinity');
INSERT INTO api.patrons VALUES (4711, 'C4711'), (4712, 'C4712');
CREATE TABLE api.loans (patron_id bigint, item_id int NOT NULL, returned date);
INSERT INTO api.loans VALUES (4711, 1, '2024-01-01'), (4712, 1, '2024-02-01');
-- a purge function named without its signature (checked below)
CREATE FUNCTION api.purge_patron(bigint) RETURNS void LANGUAGE sql AS 'DELETE FROM api.patrons WHERE id = $1';
SELECT pals_privacy.bind_patrons('api.patrons', 'id', 'expires', card_column => 'card', purge_function => 'api.purge_patron');
SELECT pals_privacy.bind_loans('api.loans', 'patron_id', 'item_id', '{returned}');

-- patron ids as numbers
SELECT lives_ok($$SELECT pals_privacy.set_pin(4711, '1234')$$, 'set_pin(4711, ...) with an integer id');
SELECT is((SELECT count(*) FROM pals_privacy.patron_pins WHERE patron = '4711'), 1::bigint, '... sets the PIN of patron 4711');
SELECT lives_ok($$SELECT pals_privacy.grant_consent(4711, 'notices', 'sms')$$, 'grant_consent with an integer id');
SELECT is(pals_privacy.has_consent(4711, 'notices', 'sms'), true, 'has_consent with an integer id');
SELECT is(pals_privacy.has_consent(4711::bigint, 'notices', 'email'), false, '... and a bigint id');
SELECT lives_ok($$SELECT pals_privacy.withdraw_consent(4711::smallint + 0, 'notices', 'sms')$$, 'withdraw_consent with an integer id');
SELECT is(pals_privacy.has_consent('4711', 'notices', 'sms'), false, '... withdrawn (the text version agrees)');
SELECT ok(pals_privacy.open_legal_order('CV-1', 'County Court', 4712, now() + interval '1 day') > 0,
          'open_legal_order with an integer patron id');
SELECT throws_ok($$SELECT pals_privacy.grant_consent(9999, 'notices', 'sms')$$, '23503', 'grant_consent: patron ''9999'' does not exist',
                 'an unknown numeric id gets the text version''s error');
SELECT is((SELECT count(*) FROM pals_privacy.consents WHERE patron = '9999'), 0::bigint, '... and nothing is recorded');

-- procedures that commit, in a transaction block
SELECT throws_ok($$CALL pals_privacy.run_maintenance()$$, '2D000',
                 'run_maintenance must be called outside a transaction block',
                 'run_maintenance in a transaction block: says to call it outside one');
SELECT throws_ok($$CALL pals_privacy.sever_backlog()$$, '2D000',
                 'sever_backlog must be called outside a transaction block', 'sever_backlog too');
SELECT throws_ok($$CALL pals_privacy.purge_expired(dry_run => true)$$, '2D000',
                 'purge_expired must be called outside a transaction block', 'purge_expired too');
SELECT is((SELECT count(*) FROM pals_privacy.maintenance_runs WHERE started_at >= now()), 0::bigint,
          '... and none of them started a run');
SELECT is((SELECT count(*) FROM api.loans WHERE patron_id IS NULL), 0::bigint, '... or severed anything');

-- a purge function without its signature
SELECT is((SELECT purge_function::text FROM pals_privacy.patron_binding WHERE relation = 'api.patrons'::regclass),
          'api.purge_patron(bigint)', 'bind_patrons finds a purge function named without its argument type when it is the only one');
CREATE FUNCTION api.purge_patron(text) RETURNS void LANGUAGE sql AS 'DELETE FROM api.patrons WHERE id::text = $1';
SELECT throws_ok($$SELECT pals_privacy.bind_patrons('api.patrons', 'id', 'expires', card_column => 'card',
                                                   purge_function => 'api.purge_patron')$$, '42883',
                 'bind_patrons: purge function api.purge_patron is ambiguous', 'two of that name: ambiguous, and it says so');

SELECT * FROM finish();
ROLLBACK;
