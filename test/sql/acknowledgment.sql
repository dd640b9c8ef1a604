-- pals_privacy.require_acknowledgment: with it on, a staff role whose session
-- user has not acknowledged the policy within a year (acknowledge_policy(),
-- which records session_user) reads every patron column of the bound
-- relations masked: the patron table's columns but the id, the card column,
-- contact columns and the patron column of loans.  The rows stay.  It gets a
-- NOTICE saying why, once per transaction.  Other classes are not affected,
-- and with the setting off nothing is masked on that account.
--
-- The fixture: patrons 41-43.  Loan 1 (patron 41) is open, loan 2 (42) closed
-- and settled before bind_loans (masked for staff anyway: not a tracked last
-- borrower), loan 3 (43) closed but unsettled.  So staff normally read the
-- loans' patrons as 41, NULL, 43.
--
-- Everything runs in one transaction that is rolled back.  The NOTICE comes
-- once per transaction, so the first statement that reads a masked column
-- runs with client_min_messages = notice and the expected output shows it.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pals_privacy;
BEGIN;
SELECT plan(26);

CREATE ROLE regress_ack_staff;
CREATE ROLE regress_ack_clerk;
CREATE ROLE regress_ack_ils;
DO $$ BEGIN
    PERFORM pals_privacy.classify_role('regress_ack_staff', 'staff');
    PERFORM pals_privacy.classify_role('regress_ack_clerk', 'staff');
    PERFORM pals_privacy.classify_role('regress_ack_ils', 'operational');
END $$;

CREATE SCHEMA ak;
CREATE TABLE ak.patrons (id bigint PRIMARY KEY, name text NOT NULL, card text UNIQUE, email text,
                         expires date NOT NULL DEFAULT 'infinity');
INSERT INTO ak.patrons (id, name, card, email) VALUES
    (41, 'Tom Ash',   'AK-0041', 'tom@example.org'),
    (42, 'Sue Birch', 'AK-0042', 'sue@example.org'),
    (43, 'Ray Cedar', 'AK-0043', 'ray@example.org');
CREATE TABLE ak.cards (card text PRIMARY KEY, patron_id bigint NOT NULL);
INSERT INTO ak.cards VALUES ('AKX-4101', 41), ('AKX-4201', 42);
CREATE TABLE ak.addresses (patron_id bigint PRIMARY KEY, street text, phone text);
INSERT INTO ak.addresses VALUES (41, '1 Ash St', '555-0141'), (42, '2 Birch St', '555-0142');
CREATE TABLE ak.loans (id int PRIMARY KEY, patron_id bigint, item_id int NOT NULL, returned date, paid date);
INSERT INTO ak.loans VALUES
    (1, 41, 1, NULL, NULL),                        -- open
    (2, 42, 2, '2024-01-10', '2024-01-10'),        -- closed and settled, before binding
    (3, 43, 3, '2024-02-10', NULL);                -- closed, unsettled
DO $$ BEGIN
    PERFORM pals_privacy.bind_patrons('ak.patrons', 'id', 'expires', card_column => 'card');
    PERFORM pals_privacy.bind_cards('ak.cards', 'card', 'patron_id');
    PERFORM pals_privacy.bind_contact('ak.patrons', 'email', 'id', 'email');
    PERFORM pals_privacy.bind_contact('ak.addresses', 'phone', 'patron_id', 'phone');
    PERFORM pals_privacy.bind_loans('ak.loans', 'patron_id', 'item_id', ARRAY['returned'], 'paid', build_tracker => false);
END $$;
GRANT USAGE ON SCHEMA ak TO regress_ack_staff, regress_ack_clerk, regress_ack_ils;
GRANT SELECT ON ALL TABLES IN SCHEMA ak TO regress_ack_staff, regress_ack_clerk, regress_ack_ils;

------------------------------------------------------------------------------
-- Off (the default): staff read what staff read
------------------------------------------------------------------------------
SELECT is(current_setting('pals_privacy.require_acknowledgment'), 'off', 'require_acknowledgment defaults to off');
SET SESSION AUTHORIZATION regress_ack_staff;
SELECT throws_ok('SET pals_privacy.require_acknowledgment = off', '42501', NULL,
    'staff cannot change require_acknowledgment');
SELECT results_eq('SELECT name, card, email FROM ak.patrons ORDER BY id',
    $$VALUES ('Tom Ash'::text, 'AK-0041'::text, 'tom@example.org'::text),
             ('Sue Birch', 'AK-0042', 'sue@example.org'), ('Ray Cedar', 'AK-0043', 'ray@example.org')$$,
    'off: staff without an acknowledgment read patron names, cards and e-mail');
SELECT is((SELECT count(card) + count(phone) FROM ak.cards FULL JOIN ak.addresses USING (patron_id)), 4::bigint,
    'off: and card numbers and phone numbers');
PREPARE ak_loans AS SELECT patron_id FROM ak.loans ORDER BY id;
SELECT results_eq('ak_loans', ARRAY[41, NULL, 43]::bigint[],
    'off: and the patrons of the open and the unsettled loan (a prepared statement)');
RESET SESSION AUTHORIZATION;

------------------------------------------------------------------------------
-- On, no acknowledgment: masked, with a NOTICE once per transaction
------------------------------------------------------------------------------
SET pals_privacy.require_acknowledgment = on;
SET SESSION AUTHORIZATION regress_ack_staff;
SET client_min_messages = notice;
SELECT id, name, card, email, expires FROM ak.patrons ORDER BY id;
-- the same transaction: no second NOTICE
SELECT id, patron_id, item_id FROM ak.loans ORDER BY id;
SET client_min_messages = warning;
SELECT results_eq('ak_loans', ARRAY[NULL, NULL, NULL]::bigint[],
    'on: the prepared statement is re-planned, the open loan''s patron is masked too');
SELECT results_eq('SELECT id FROM ak.patrons ORDER BY id', ARRAY[41, 42, 43]::bigint[],
    'on: every patron row is still there, with its id');
SELECT is((SELECT count(*) FROM ak.patrons WHERE num_nonnulls(name, card, email, expires) > 0), 0::bigint,
    'on: every other column of the patron table is masked');
SELECT is_empty('SELECT id FROM ak.patrons WHERE name = ''Tom Ash'' OR card = ''AK-0041''',
    'on: WHERE on a masked patron column matches nothing');
SELECT results_eq('SELECT card FROM ak.cards ORDER BY patron_id', ARRAY[NULL, NULL]::text[],
    'on: card numbers of the bound cards relation are masked');
SELECT results_eq('SELECT street, phone FROM ak.addresses ORDER BY patron_id',
    $$VALUES ('1 Ash St'::text, NULL::text), ('2 Birch St', NULL)$$,
    'on: contact columns are masked, other columns are not');
SELECT is((SELECT count(*) FROM ak.loans), 3::bigint, 'on: loan rows are still counted');
SELECT is_empty('SELECT id FROM ak.loans WHERE patron_id = 41',
    'on: WHERE patron_id = 41 matches nothing, not even the open loan');
RESET SESSION AUTHORIZATION;

------------------------------------------------------------------------------
-- Other classes and superusers are not affected
------------------------------------------------------------------------------
SET SESSION AUTHORIZATION regress_ack_ils;
SELECT results_eq('SELECT name, card, email FROM ak.patrons WHERE id = 42',
    $$VALUES ('Sue Birch'::text, 'AK-0042'::text, 'sue@example.org'::text)$$,
    'on: an operational role that never acknowledged reads patrons');
SELECT results_eq('SELECT patron_id FROM ak.loans ORDER BY id', ARRAY[41, 42, 43]::bigint[],
    'on: and every loan''s patron');
RESET SESSION AUTHORIZATION;
SELECT results_eq('SELECT p.card, c.card, a.phone FROM ak.patrons p JOIN ak.cards c ON c.patron_id = p.id
                     JOIN ak.addresses a ON a.patron_id = p.id WHERE p.id = 41',
    $$VALUES ('AK-0041'::text, 'AKX-4101'::text, '555-0141'::text)$$,
    'on: the superuser reads everything');

------------------------------------------------------------------------------
-- An acknowledgment older than a year counts as none
------------------------------------------------------------------------------
INSERT INTO pals_privacy.policy_acknowledgments (role, version, acknowledged_at)
    VALUES ('regress_ack_clerk', '2023-1', now() - interval '13 months');
SET SESSION AUTHORIZATION regress_ack_clerk;
SELECT results_eq('SELECT role, version FROM pals_privacy.acknowledgments WHERE role LIKE ''regress\_ack\_%''',
    $$VALUES ('regress_ack_clerk'::text, '2023-1'::text)$$,
    'the acknowledgments view shows the old acknowledgment');
SELECT is((SELECT count(name) + count(card) + count(email) FROM ak.patrons), 0::bigint,
    'on: a staff role whose acknowledgment is 13 months old reads patron columns masked');
SELECT is((SELECT count(patron_id) FROM ak.loans), 0::bigint, 'and loans without patrons');
RESET SESSION AUTHORIZATION;

------------------------------------------------------------------------------
-- Acknowledging: the next statement reads the columns again
------------------------------------------------------------------------------
SET SESSION AUTHORIZATION regress_ack_staff;
SELECT lives_ok($$SELECT pals_privacy.acknowledge_policy('2025-1')$$, 'staff acknowledge the policy');
SELECT results_eq('SELECT name, card, email FROM ak.patrons ORDER BY id',
    $$VALUES ('Tom Ash'::text, 'AK-0041'::text, 'tom@example.org'::text),
             ('Sue Birch', 'AK-0042', 'sue@example.org'), ('Ray Cedar', 'AK-0043', 'ray@example.org')$$,
    'acknowledged: patron names, cards and e-mail again');
SELECT is((SELECT count(card) + count(phone) FROM ak.cards FULL JOIN ak.addresses USING (patron_id)), 4::bigint,
    'acknowledged: card numbers and phone numbers again');
SELECT results_eq('ak_loans', ARRAY[41, NULL, 43]::bigint[],
    'acknowledged: the open loan shows its patron (the settled one stays masked as for all staff)');
SELECT results_eq('SELECT role, version FROM pals_privacy.acknowledgments WHERE role LIKE ''regress\_ack\_%'' ORDER BY role',
    $$VALUES ('regress_ack_clerk'::text, '2023-1'::text), ('regress_ack_staff', '2025-1')$$,
    'the acknowledgments view shows the staff role and its version');
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_ack_clerk;
SELECT is((SELECT count(name) FROM ak.patrons), 0::bigint,
    'another staff role''s acknowledgment does not count for the clerk');
RESET SESSION AUTHORIZATION;

------------------------------------------------------------------------------
-- Off again: the clerk, still without a current acknowledgment, reads
------------------------------------------------------------------------------
SET pals_privacy.require_acknowledgment = off;
SET SESSION AUTHORIZATION regress_ack_clerk;
SELECT results_eq('ak_loans', ARRAY[41, NULL, 43]::bigint[],
    'off again: a staff role with only an old acknowledgment reads loans'' patrons');
RESET SESSION AUTHORIZATION;
DEALLOCATE ak_loans;

SELECT * FROM finish();
ROLLBACK;
