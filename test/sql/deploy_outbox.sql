-- Binding an outbox over existing patrons warns how many have no consent;
-- backfill_consent() records consent with evidence, in bulk, audited,
-- never over a withdrawal.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pals_privacy;
BEGIN;
SELECT plan(15);
CREATE SCHEMA ob;
CREATE TABLE ob.patrons (id bigint PRIMARY KEY, expires date NOT NULL DEFAULT 'infinity');
INSERT INTO ob.patrons SELECT g FROM generate_series(0, 10) g;
CREATE TABLE ob.loans (id int, patron_id bigint NOT NULL, item_id int NOT NULL, returned date);
CREATE TABLE ob.notices (patron_id bigint, channel text NOT NULL, body text);
SELECT pals_privacy.bind_patrons('ob.patrons', 'id', 'expires');
SELECT pals_privacy.bind_loans('ob.loans', 'patron_id', 'item_id', '{returned}', sever_with => 'patron:0');
SELECT pals_privacy.grant_consent('1', 'notices', 'email');
SELECT pals_privacy.grant_consent('2', 'notices', 'email');
SELECT pals_privacy.withdraw_consent('2', 'notices', 'email');
-- the warning (in the expected output): 8 of 10 patrons, placeholder 0 aside
SELECT pals_privacy.bind_outbox('ob.notices', 'patron_id', 'channel', 'notices');
SELECT throws_ok($$INSERT INTO ob.notices VALUES (3, 'email', 'due')$$, '23514', NULL, 'patron 3 has no consent: rejected');

-- refusals change nothing
CREATE TEMP TABLE c0 AS SELECT (SELECT count(*) FROM pals_privacy.consents) AS consents,
                               (SELECT count(*) FROM pals_privacy.audit_log) AS audit;
SELECT throws_ok($$SELECT pals_privacy.backfill_consent('notices', 'email', '  ')$$, '22023',
                 'backfill_consent: a back-fill needs the evidence the consent rests on', 'no evidence: refused');
SELECT throws_ok($$SELECT pals_privacy.backfill_consent('notices', 'email', NULL)$$, '22004', NULL, 'NULL evidence: refused');
SELECT throws_ok($$SELECT pals_privacy.backfill_consent('notices', 'pigeon', 'form')$$, '22023',
                 'backfill_consent: unknown channel ''pigeon''', 'unknown channel: refused');
SELECT throws_ok($$SELECT pals_privacy.backfill_consent('notices', 'email', 'form', ARRAY['3', '99'])$$, '23503',
                 'backfill_consent: 1 of the given patrons do not exist', 'an unknown patron in the list: refused');
SELECT is((SELECT count(*) FROM pals_privacy.consents), (SELECT consents FROM c0), '... nothing recorded');
SELECT is((SELECT count(*) FROM pals_privacy.audit_log), (SELECT audit FROM c0), '... nothing audited');

SELECT is(pals_privacy.backfill_consent('notices', 'email', 'registration form 2019-2026', dry_run => true), 8::bigint,
          'dry run: 8 patrons would be recorded');
SELECT is((SELECT count(*) FROM pals_privacy.consents), (SELECT consents FROM c0), '... and nothing is');
SELECT is(pals_privacy.backfill_consent('notices', 'email', 'registration form 2019-2026'), 8::bigint,
          'the back-fill records 8 consents');
SELECT is(pals_privacy.has_consent('2', 'notices', 'email'), false, 'the patron who withdrew keeps the withdrawal');
SELECT is(pals_privacy.has_consent('0', 'notices', 'email'), false, 'the placeholder patron gets nothing');
SELECT is((SELECT count(*) FROM pals_privacy.consent_history WHERE evidence = 'registration form 2019-2026'), 8::bigint,
          'each grant is in consent_history with its evidence');
SELECT is((SELECT details - 'evidence' FROM pals_privacy.audit_log WHERE event = 'consent.backfill'),
          '{"channel": "email", "purpose": "notices", "recorded": 8, "patrons_given": false, "left_as_recorded": 2}'::jsonb,
          'one audit entry for the back-fill');
SELECT lives_ok($$INSERT INTO ob.notices VALUES (3, 'email', 'due')$$, 'patron 3''s notice now goes in');

SELECT * FROM finish();
ROLLBACK;
