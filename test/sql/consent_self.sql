-- A logged-in patron grants and withdraws their own consent, and only their
-- own; the evidence a purpose requires is required of them too.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pals_privacy;
BEGIN;
SELECT plan(11);
CREATE SCHEMA cs;
CREATE TABLE cs.patrons (id bigint PRIMARY KEY, expires date NOT NULL, card text UNIQUE);
INSERT INTO cs.patrons VALUES (1, 'infinity', 'CS-0001'), (2, 'infinity', 'CS-0002');
SELECT pals_privacy.bind_patrons('cs.patrons', 'id', 'expires', card_column => 'card');
SET pals_privacy.pin_iterations = 10000;
SELECT pals_privacy.set_pin('1', '4321');
CREATE ROLE regress_cs_opac;
SELECT pals_privacy.classify_role('regress_cs_opac', 'patron');
GRANT USAGE ON SCHEMA cs TO regress_cs_opac;

SET SESSION AUTHORIZATION regress_cs_opac;
SELECT throws_ok($$SELECT pals_privacy.grant_consent('1', 'notices', 'sms')$$, '42501', NULL,
                 'before login a patron-class role records nothing');
SELECT ok(pals_privacy.login('CS-0001', '4321'), 'the patron logs in');
SELECT lives_ok($$SELECT pals_privacy.grant_consent('1', 'notices', 'sms')$$, 'and grants their own consent');
SELECT ok(pals_privacy.has_consent('1', 'notices', 'sms'), 'which is recorded');
SELECT throws_ok($$SELECT pals_privacy.has_consent('2', 'notices', 'email')$$, '42501', NULL,
                 'a patron cannot ask about another patron''s consent');
SELECT throws_ok($$SELECT pals_privacy.grant_consent('1', 'newsletter', 'email')$$, '22023', NULL,
                 'the newsletter needs evidence from the patron too');
SELECT throws_ok($$SELECT pals_privacy.grant_consent('2', 'notices', 'sms')$$, '42501', NULL,
                 'but not anybody else''s');
SELECT lives_ok($$SELECT pals_privacy.withdraw_consent('1', 'notices', 'sms')$$, 'they withdraw their own');
SELECT pals_privacy.logout();
SELECT throws_ok($$SELECT pals_privacy.grant_consent('1', 'notices', 'sms')$$, '42501', NULL,
                 'after logout nothing again');
SELECT throws_ok($$SELECT pals_privacy.has_consent('1', 'notices', 'sms')$$, '42501', NULL,
                 'nor may it ask about consent');
RESET SESSION AUTHORIZATION;
SET ROLE regress_cs_opac;
SELECT throws_ok($$SELECT pals_privacy.has_consent('2', 'notices', 'email')$$, '42501', NULL,
                 'SET ROLE to a patron-class role: the same');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
