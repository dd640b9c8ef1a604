-- my_data() (issue 19, item 3): a logged-in patron-class session gets one
-- JSON document with every row about that patron in every bound relation
-- and in the extension's own tables; it must equal a superuser's own query
-- per relation, name nobody else, say nothing of a legal order concerning
-- the patron, and be refused for every other class, before login and after
-- logout.  Everything is rolled back.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pals_privacy;

BEGIN;
SELECT plan(46);

CREATE ROLE regress_md_opac;
CREATE ROLE regress_md_ils;
CREATE ROLE regress_md_staff;
CREATE ROLE regress_md_coll;
CREATE ROLE regress_md_aud;
CREATE ROLE regress_md_nobody;          -- unclassified: default_class
DO $$ BEGIN
    PERFORM pals_privacy.classify_role('regress_md_opac', 'patron');
    PERFORM pals_privacy.classify_role('regress_md_ils', 'operational');
    PERFORM pals_privacy.classify_role('regress_md_staff', 'staff');
    PERFORM pals_privacy.classify_role('regress_md_coll', 'collections');
    PERFORM pals_privacy.classify_role('regress_md_aud', 'auditor');
END $$;

-- Patron 1 (Ann) is the one who asks; 2 (Bob) borrows after her; 3 is Ann's
-- ward, 4 is Bob's ward.  Values of the others are distinctive strings, so a
-- leak shows as text.
CREATE SCHEMA md;
CREATE TABLE md.patrons (id bigint PRIMARY KEY, name text NOT NULL, card text UNIQUE, email text,
                         expires date NOT NULL DEFAULT 'infinity', keep_history boolean NOT NULL DEFAULT false);
INSERT INTO md.patrons VALUES (1, 'Ann Alpha', 'MD-0001', 'ann@example.org', 'infinity', true),
                              (2, 'Bob Bravo-Other', 'MD-0002', 'bob-other@example.org', 'infinity', false),
                              (3, 'Cyd Charlie-Other', 'MD-0003', NULL, 'infinity', false),
                              (4, 'Dee Delta-Other', 'MD-0004', NULL, 'infinity', false);
CREATE TABLE md.cards (card text PRIMARY KEY, patron_id bigint NOT NULL);
INSERT INTO md.cards VALUES ('MDX-1', 1), ('MDX-2-other', 2);
CREATE TABLE md.fines (id int PRIMARY KEY, patron_id bigint NOT NULL, amount numeric(8,2) NOT NULL);
INSERT INTO md.fines VALUES (1, 1, 2.50), (2, 2, 7.00);
CREATE TABLE md.loans (id int PRIMARY KEY, patron_id bigint, item_id int NOT NULL, returned date, paid date);
INSERT INTO md.loans VALUES (1, 1, 10, NULL, NULL),   -- Ann's open loan
                            (2, 2, 11, NULL, NULL),   -- Bob's open loan
                            (3, 1, 12, NULL, NULL),   -- Ann's, returned below, then Bob borrows it
                            (4, 1, 13, '2024-01-10', NULL);   -- Ann's, fine unpaid: stays hers
CREATE TABLE md.holds (id int PRIMARY KEY, patron_id bigint, title_id int NOT NULL, fulfilled date);
INSERT INTO md.holds VALUES (1, 1, 100, NULL), (2, 2, 100, NULL);
CREATE TABLE md.searches (id int PRIMARY KEY, patron_id bigint NOT NULL, query text);
INSERT INTO md.searches VALUES (1, 1, 'gardening'), (2, 2, 'other-secret-search');
CREATE TABLE md.addresses (patron_id bigint PRIMARY KEY, street text, phone text);
INSERT INTO md.addresses VALUES (1, '1 One St', '555-0001'), (2, '2 Other St', '555-0002');
CREATE TABLE md.notices (id int PRIMARY KEY, patron_id bigint NOT NULL, channel text NOT NULL, body text);
CREATE TABLE md.guardians (minor_id bigint NOT NULL, guardian_id bigint NOT NULL, since date);
INSERT INTO md.guardians VALUES (3, 1, '2020-01-01'), (4, 2, '2021-01-01');
CREATE TABLE md.signups (patron_id bigint, at timestamptz NOT NULL DEFAULT now());

DO $$ BEGIN
    PERFORM pals_privacy.bind_patrons('md.patrons', 'id', 'expires', card_column => 'card',
                                      keep_history_column => 'keep_history');
    PERFORM pals_privacy.bind_cards('md.cards', 'card', 'patron_id');
    PERFORM pals_privacy.bind_balance('md.fines', 'patron_id', 'amount');
    PERFORM pals_privacy.bind_loans('md.loans', 'patron_id', 'item_id', ARRAY['returned'], 'paid');
    PERFORM pals_privacy.bind_loans('md.holds', 'patron_id', 'title_id', ARRAY['fulfilled'], keep_last_borrower => false);
    PERFORM pals_privacy.bind_private_history('md.searches', 'patron_id');
    PERFORM pals_privacy.bind_contact('md.patrons', 'email', 'id', 'email');
    PERFORM pals_privacy.bind_contact('md.addresses', 'phone', 'patron_id', 'phone');
    PERFORM pals_privacy.bind_outbox('md.notices', 'patron_id', 'channel', 'notices');
    PERFORM pals_privacy.bind_guardians('md.guardians', 'minor_id', 'guardian_id');
    PERFORM pals_privacy.retain('md.signups', 'at', interval '3 days');
END $$;

-- Ann returns item 12 (history copied: she opted in), Bob borrows and
-- returns it: Ann's row is severed, Bob is the last borrower.
UPDATE md.loans SET returned = '2024-02-01', paid = '2024-02-01' WHERE id = 3;
INSERT INTO md.loans VALUES (5, 2, 12, NULL, NULL);
UPDATE md.loans SET returned = '2024-03-01', paid = '2024-03-01' WHERE id = 5;
SET pals_privacy.pin_iterations = 10000;
DO $$ BEGIN
    PERFORM pals_privacy.set_pin('1', '1111');
    PERFORM pals_privacy.set_pin('2', '2222');
    PERFORM pals_privacy.grant_consent('1', 'notices', 'email', evidence => 'desk form');
    PERFORM pals_privacy.grant_consent('2', 'notices', 'email', evidence => 'other-evidence');
    PERFORM pals_privacy.grant_consent('1', 'newsletter', 'email', evidence => 'signed form');
    PERFORM pals_privacy.withdraw_consent('1', 'newsletter', 'email');
END $$;
INSERT INTO md.notices VALUES (1, 1, 'email', 'Your hold is ready'), (2, 2, 'email', 'other-notice');
-- a legal order about Ann, opened by a superuser (auditor rights)
SELECT pals_privacy.open_legal_order('CV-MD-SECRET-77', 'Secret Court', '1', now() + interval '1 day') IS NOT NULL AS order_opened;

SELECT is((SELECT patron_id FROM md.loans WHERE id = 3), NULL, 'setup: Ann''s returned loan of item 12 was severed');
SELECT is((SELECT count(*) FROM pals_privacy.private_history WHERE patron = '1'), 1::bigint,
          'setup: and copied to her private history');

CREATE TEMP TABLE md_doc (doc jsonb);
GRANT INSERT, SELECT, DELETE ON md_doc TO PUBLIC;

------------------------------------------------------------------------------
-- Refused for every other class, and before login
------------------------------------------------------------------------------
SELECT throws_ok($$SELECT pals_privacy.my_data()$$, '42501', 'permission denied for my_data',
                 'refused for a superuser');
SET ROLE regress_md_ils;
SELECT throws_ok($$SELECT pals_privacy.my_data()$$, '42501', 'permission denied for my_data', 'refused for operational');
SET ROLE regress_md_staff;
SELECT throws_ok($$SELECT pals_privacy.my_data()$$, '42501', 'permission denied for my_data', 'refused for staff');
SET ROLE regress_md_coll;
SELECT throws_ok($$SELECT pals_privacy.my_data()$$, '42501', 'permission denied for my_data', 'refused for collections');
SET ROLE regress_md_aud;
SELECT throws_ok($$SELECT pals_privacy.my_data()$$, '42501', 'permission denied for my_data', 'refused for auditor');
SET ROLE regress_md_nobody;
SELECT throws_ok($$SELECT pals_privacy.my_data()$$, '42501', 'permission denied for my_data',
                 'refused for an unclassified role (default class)');
SET ROLE regress_md_opac;
SELECT throws_ok($$SELECT pals_privacy.my_data()$$, '42501', 'my_data: no patron is logged in in this session',
                 'refused for a patron-class session before login');
SELECT is(pals_privacy.login('MD-0001', '1111'), true, 'Ann logs in');
SELECT lives_ok($$INSERT INTO md_doc SELECT pals_privacy.my_data()$$, 'my_data() answers her session');
-- a logged-in patron who becomes another class loses it at once
RESET ROLE;
SET ROLE regress_md_staff;
SELECT throws_ok($$SELECT pals_privacy.my_data()$$, '42501', 'permission denied for my_data',
                 'refused for staff even with a patron logged in in the session');
RESET ROLE;
SELECT throws_ok($$SELECT pals_privacy.my_data()$$, '42501', 'permission denied for my_data',
                 'refused for a superuser with a patron logged in in the session');
SET ROLE regress_md_opac;
SELECT pals_privacy.logout();
SELECT throws_ok($$SELECT pals_privacy.my_data()$$, '42501', 'my_data: no patron is logged in in this session',
                 'refused after logout');
SELECT is(pals_privacy.login('MD-0001', '9999'), false, 'a wrong PIN');
SELECT throws_ok($$SELECT pals_privacy.my_data()$$, '42501', 'my_data: no patron is logged in in this session',
                 'refused after a failed login');
RESET ROLE;

------------------------------------------------------------------------------
-- Exactly Ann's rows, relation by relation, as a superuser reads them
------------------------------------------------------------------------------
CREATE FUNCTION pg_temp.entry(rel text, col text) RETURNS jsonb LANGUAGE sql AS $$
    SELECT e -> 'rows' FROM md_doc, jsonb_array_elements(doc -> 'relations') e
     WHERE e ->> 'relation' = rel AND e ->> 'patron_column' = col
$$;
SELECT is((SELECT doc ->> 'patron' FROM md_doc), '1', 'the document is Ann''s');
SELECT is((SELECT jsonb_array_length(doc -> 'relations') FROM md_doc), 10,
          'one entry per bound relation and patron column (guardians: as minor and as guardian)');
SELECT is(pg_temp.entry('md.patrons', 'id'),
          (SELECT jsonb_agg(to_jsonb(x) ORDER BY to_jsonb(x)) FROM md.patrons x WHERE id = 1), 'md.patrons: her row');
SELECT is(pg_temp.entry('md.cards', 'patron_id'),
          (SELECT jsonb_agg(to_jsonb(x) ORDER BY to_jsonb(x)) FROM md.cards x WHERE patron_id = 1), 'md.cards: her cards');
SELECT is(pg_temp.entry('md.fines', 'patron_id'),
          (SELECT jsonb_agg(to_jsonb(x) ORDER BY to_jsonb(x)) FROM md.fines x WHERE patron_id = 1), 'md.fines: her fines');
SELECT is(pg_temp.entry('md.loans', 'patron_id'),
          (SELECT jsonb_agg(to_jsonb(x) ORDER BY to_jsonb(x)) FROM md.loans x WHERE patron_id = 1),
          'md.loans: her open loan and her unsettled returned loan, not the severed one');
SELECT is(jsonb_array_length(pg_temp.entry('md.loans', 'patron_id')), 2, 'md.loans: two rows');
SELECT is(pg_temp.entry('md.holds', 'patron_id'),
          (SELECT jsonb_agg(to_jsonb(x) ORDER BY to_jsonb(x)) FROM md.holds x WHERE patron_id = 1), 'md.holds: her hold');
SELECT is(pg_temp.entry('md.searches', 'patron_id'),
          (SELECT jsonb_agg(to_jsonb(x) ORDER BY to_jsonb(x)) FROM md.searches x WHERE patron_id = 1),
          'md.searches (private history): hers');
SELECT is(pg_temp.entry('md.addresses', 'patron_id'),
          (SELECT jsonb_agg(to_jsonb(x) ORDER BY to_jsonb(x)) FROM md.addresses x WHERE patron_id = 1),
          'md.addresses (contact): her row');
SELECT is(pg_temp.entry('md.notices', 'patron_id'),
          (SELECT jsonb_agg(to_jsonb(x) ORDER BY to_jsonb(x)) FROM md.notices x WHERE patron_id = 1),
          'md.notices (outbox): her notice');
SELECT is(pg_temp.entry('md.guardians', 'guardian_id'),
          (SELECT jsonb_agg(to_jsonb(x) - 'minor_id' ORDER BY to_jsonb(x) - 'minor_id') FROM md.guardians x WHERE guardian_id = 1),
          'md.guardians as guardian: her guardianship, without the minor''s id');
SELECT is(pg_temp.entry('md.guardians', 'minor_id'), '[]', 'md.guardians as minor: none');
SELECT is((SELECT doc -> 'pals_privacy' -> 'private_history' FROM md_doc),
          (SELECT jsonb_agg(to_jsonb(h) ORDER BY h.id) FROM pals_privacy.private_history h WHERE patron = '1'),
          'pals_privacy.private_history: her copied loan');
SELECT is((SELECT doc -> 'pals_privacy' -> 'consents' FROM md_doc),
          (SELECT jsonb_agg(to_jsonb(c) ORDER BY c.purpose, c.channel) FROM pals_privacy.consents c WHERE patron = '1'),
          'pals_privacy.consents: hers, with evidence');
SELECT is((SELECT jsonb_array_length(doc -> 'pals_privacy' -> 'consent_history') FROM md_doc), 3,
          'consent history: grant, grant, withdraw');
SELECT is((SELECT doc -> 'pals_privacy' -> 'consent_history' FROM md_doc),
          (SELECT jsonb_agg(to_jsonb(c) ORDER BY c.id) FROM pals_privacy.consent_history c WHERE patron = '1'),
          'pals_privacy.consent_history: hers');
SELECT is((SELECT (doc -> 'pals_privacy' -> 'pin' ->> 'set_at')::timestamptz FROM md_doc),
          (SELECT set_at FROM pals_privacy.patron_pins WHERE patron = '1'), 'the date her PIN was set');
SELECT is((SELECT doc -> 'pals_privacy' -> 'pin' ? 'hash' OR doc -> 'pals_privacy' -> 'pin' ? 'salt' FROM md_doc), false,
          'but not its hash or salt');
SELECT ok((SELECT doc -> 'not_searched' @> '[{"relation": "md.signups"}]' FROM md_doc),
          'a relation bound by retain() only is named as not searched');

------------------------------------------------------------------------------
-- Nobody else, and no legal order
------------------------------------------------------------------------------
SELECT is((SELECT count(*) FROM md_doc, jsonb_array_elements(doc -> 'relations') e, jsonb_array_elements(e -> 'rows') r
            WHERE r ->> (e ->> 'patron_column') IS DISTINCT FROM '1'), 0::bigint,
          'every row''s patron column is Ann''s');
SELECT is((SELECT array_agg(w ORDER BY w) FROM md_doc,
                  unnest(ARRAY['Other', 'other', 'MD-0002', 'MDX-2', '555-0002', 'Bravo', 'Charlie', 'Delta']) w
            WHERE doc::text LIKE '%' || w || '%'), NULL,
          'no value of another patron anywhere in the document');
SELECT is((SELECT doc::text ~* 'CV-MD-SECRET|Secret Court|legal' FROM md_doc), false,
          'nothing about the legal order concerning her');
SELECT is((SELECT count(*) FROM md_doc, jsonb_array_elements(doc -> 'pals_privacy' -> 'audit') a
            WHERE a ->> 'event' LIKE 'legal%'), 0::bigint, 'no legal-order audit entry');
-- (entries of this transaction only: earlier tests' durable entries about a
-- patron '1', such as a rolled-back set_pin, stay in the log; this
-- transaction's own pin.set is durable too, written once it has ended)
SELECT is((SELECT string_agg(a ->> 'event', ', ') FROM md_doc, jsonb_array_elements(doc -> 'pals_privacy' -> 'audit') a
            WHERE (a ->> 'at')::timestamptz >= now()),
          'consent.grant, consent.grant, consent.withdraw', 'her audit entries, in order');
SELECT is((SELECT count(*) FROM pals_privacy.audit_log WHERE event = 'patron.my_data' AND details ->> 'patron' = '1'),
          1::bigint, 'the request is in the audit log');

-- Bob's document, in the same session after logout and a new login: his rows only
SET ROLE regress_md_opac;
SELECT is(pals_privacy.login('MD-0002', '2222'), true, 'Bob logs in');
DELETE FROM md_doc;
INSERT INTO md_doc SELECT pals_privacy.my_data();
SELECT pals_privacy.logout();
RESET ROLE;
SELECT is(pg_temp.entry('md.loans', 'patron_id'),
          (SELECT jsonb_agg(to_jsonb(x) ORDER BY to_jsonb(x)) FROM md.loans x WHERE patron_id = 2),
          'Bob''s document has his loans (his open loan, item 12 as last borrower)');
SELECT is(pg_temp.entry('md.guardians', 'guardian_id'),
          (SELECT jsonb_agg(to_jsonb(x) - 'minor_id' ORDER BY to_jsonb(x) - 'minor_id') FROM md.guardians x WHERE guardian_id = 2),
          'and his guardianship');
SELECT is((SELECT doc::text ~ 'Ann|MD-0001|ann@|gardening' FROM md_doc), false, 'and nothing of Ann''s');

SELECT * FROM finish();
ROLLBACK;
