-- The compliance report (issue 19, item 1): compliance_report() rows against
-- the catalog on a small ILS with one finding of each kind, who may run it
-- (auditors by login role, superusers), and that it names no patron.  The
-- HTML page is rendered in a browser by test/t/050_compliance_report.pl.
-- Everything is rolled back.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pals_privacy;

BEGIN;
SELECT plan(38);

CREATE ROLE regress_cr_aud LOGIN;
CREATE ROLE regress_cr_staff LOGIN;
CREATE ROLE regress_cr_ils LOGIN;
CREATE ROLE regress_cr_opac LOGIN;
CREATE ROLE regress_cr_coll LOGIN;
DO $$ BEGIN
    PERFORM pals_privacy.classify_role('regress_cr_aud', 'auditor');
    PERFORM pals_privacy.classify_role('regress_cr_staff', 'staff');
    PERFORM pals_privacy.classify_role('regress_cr_ils', 'operational');
    PERFORM pals_privacy.classify_role('regress_cr_opac', 'patron');
    PERFORM pals_privacy.classify_role('regress_cr_coll', 'collections');
END $$;

-- The rows of the report as 'measure=value' text, for one section and relation.
CREATE FUNCTION pg_temp.report(s text, r text) RETURNS text LANGUAGE sql AS $$
    SELECT string_agg(measure || '=' || coalesce(value::text, 'NULL'), ' ' ORDER BY n)
      FROM pals_privacy.compliance_report() WITH ORDINALITY x(section, relation, measure, value, ok, detail, n)
     WHERE section = s AND relation IS NOT DISTINCT FROM r AND measure <> 'pending_reason'
$$;
CREATE FUNCTION pg_temp.val(s text, r text, m text) RETURNS numeric LANGUAGE sql AS $$
    SELECT value FROM pals_privacy.compliance_report() x
     WHERE section = s AND relation IS NOT DISTINCT FROM r AND measure = m
$$;

CREATE SCHEMA cr;
CREATE TABLE cr.patrons (id int PRIMARY KEY, name text NOT NULL, card text NOT NULL, expires date NOT NULL,
                         keep_history boolean NOT NULL DEFAULT false);
INSERT INTO cr.patrons VALUES
    (1, 'Pat Secretname', 'CR-CARD-0001', 'infinity', false),
    (2, 'Bo Hiddenname', 'CR-CARD-0002', 'infinity', false),
    (3, 'Cy Expiredowes', 'CR-CARD-0003', current_date - 400, false),    -- expired, owes
    (4, 'Di Expiredloan', 'CR-CARD-0004', current_date - 400, true),     -- expired, open loan; opted in
    (5, 'Ed Expiredfree', 'CR-CARD-0005', current_date - 400, false),    -- expired, nothing: eligible
    (6, 'Fay Justexpired', 'CR-CARD-0006', current_date - 10, false);    -- within the grace period
CREATE TABLE cr.fines (patron_id int NOT NULL, amount numeric NOT NULL);
INSERT INTO cr.fines VALUES (3, 5.00);
CREATE TABLE cr.loans (id int PRIMARY KEY, patron_id int, item_id int NOT NULL, returned timestamptz, paid timestamptz);
CREATE TABLE cr.bookings (id int PRIMARY KEY, patron_id int, item_id int NOT NULL, ended timestamptz);
CREATE TABLE cr.contacts (patron_id int PRIMARY KEY, email text, phone text);
INSERT INTO cr.contacts VALUES (1, 'pat@example.org', NULL), (2, 'bo@example.org', '555-0102'), (4, NULL, '555-0104');
CREATE TABLE cr.signups (id int PRIMARY KEY, patron_id int, at timestamptz NOT NULL);
INSERT INTO cr.signups VALUES (1, 1, now() - interval '10 days'), (2, 2, now() - interval '1 hour');
DO $$ BEGIN
    PERFORM pals_privacy.bind_patrons('cr.patrons', 'id', 'expires', card_column => 'card',
                                      keep_history_column => 'keep_history', name_columns => '{name}');
    PERFORM pals_privacy.bind_balance('cr.fines', 'patron_id', 'amount');
    PERFORM pals_privacy.bind_loans('cr.loans', 'patron_id', 'item_id', ARRAY['returned'], 'paid');
    PERFORM pals_privacy.bind_loans('cr.bookings', 'patron_id', 'item_id', ARRAY['ended'], keep_last_borrower => false,
                                    history_mode => 'in_place');
    PERFORM pals_privacy.bind_contact('cr.contacts', 'email', 'patron_id', 'email');
    PERFORM pals_privacy.bind_contact('cr.contacts', 'phone', 'patron_id', 'phone');
    PERFORM pals_privacy.retain('cr.signups', 'at', interval '3 days');
    PERFORM pals_privacy.grant_consent('1', 'notices', 'email');
END $$;

-- Item 10: borrowed by 1, then 2, then 1 again (the last borrower); each
-- return severs the earlier rows.  Item 11: returned by 2 with a fine owed,
-- then by 1 (its last borrower).  Item 12: open loan of patron 4.
INSERT INTO cr.loans VALUES (1, 1, 10, NULL, NULL);
UPDATE cr.loans SET returned = now() - interval '400 days', paid = now() - interval '400 days' WHERE id = 1;
INSERT INTO cr.loans VALUES (2, 2, 10, NULL, NULL);
UPDATE cr.loans SET returned = now() - interval '100 days', paid = now() - interval '100 days' WHERE id = 2;
INSERT INTO cr.loans VALUES (3, 1, 10, NULL, NULL);
UPDATE cr.loans SET returned = now() - interval '2 days', paid = now() - interval '2 days' WHERE id = 3;
INSERT INTO cr.loans VALUES (4, 2, 11, NULL, NULL);
UPDATE cr.loans SET returned = now() - interval '40 days' WHERE id = 4;
INSERT INTO cr.loans VALUES (5, 4, 12, NULL, NULL);
INSERT INTO cr.loans VALUES (6, 1, 11, NULL, NULL);
UPDATE cr.loans SET returned = now() - interval '5 days', paid = now() - interval '5 days' WHERE id = 6;
-- Bookings, in place: patron 4 opted in (kept, masked), patron 2 did not (severed).
INSERT INTO cr.bookings VALUES (1, 4, 20, NULL), (2, 2, 21, NULL);
UPDATE cr.bookings SET ended = now() - interval '3 hours';
SELECT is((SELECT string_agg(id || ':' || coalesce(patron_id::text, '-'), ' ' ORDER BY id) FROM cr.loans),
          '1:- 2:- 3:1 4:2 5:4 6:1', 'setup: items keep their last borrowers, the unsettled loan keeps its patron');
SELECT is((SELECT string_agg(id || ':' || coalesce(patron_id::text, '-'), ' ' ORDER BY id) FROM cr.bookings),
          '1:4 2:-', 'setup: the opted-in booking is kept in place');

SELECT is(pg_temp.report('identified_closed', 'cr.loans'),
          'identified_closed=3 last_borrower=2 unsettled=1 opted_in=0 pending=0 not_severed=0 should_be_gone=0',
          'loans: the last borrower and the unsettled loan, nothing that should be gone');
SELECT is(pg_temp.report('identified_closed', 'cr.bookings'),
          'identified_closed=1 last_borrower=0 unsettled=0 opted_in=1 pending=0 not_severed=0 should_be_gone=0',
          'bookings: one kept in place for a patron who opted in');

-- Findings: a row a restore brought back identified (no trigger ran), and a
-- sever left pending (its reason names a patron id: it must be masked).
SET session_replication_role = replica;
UPDATE cr.loans SET patron_id = 2 WHERE id = 1;
UPDATE cr.loans SET patron_id = 1 WHERE id = 2;
RESET session_replication_role;
INSERT INTO pals_privacy.sever_pending (binding, row_relid, row_tid, item, reason)
SELECT 'cr.loans'::regclass, 'cr.loans'::regclass, ctid, '10', 'trigger of patron 4711 refused it' FROM cr.loans WHERE id = 2;

SELECT is(pg_temp.report('identified_closed', 'cr.loans'),
          'identified_closed=5 last_borrower=2 unsettled=1 opted_in=0 pending=1 not_severed=1 should_be_gone=2',
          'loans: a pending sever and a row never severed are counted as should be gone');
SELECT is((SELECT ok FROM pals_privacy.compliance_report() WHERE section = 'identified_closed' AND relation = 'cr.loans'
              AND measure = 'should_be_gone'), false, 'and the check fails');
SELECT is(pg_temp.val('identified_closed', 'cr.loans', 'identified_closed'),
          (SELECT count(*)::numeric FROM cr.loans WHERE returned IS NOT NULL AND patron_id IS NOT NULL),
          'identified closed loans: as the catalog counts them');
SELECT is((SELECT detail || '=' || value FROM pals_privacy.compliance_report()
            WHERE section = 'identified_closed' AND relation = 'cr.loans' AND measure = 'pending_reason'),
          'trigger of patron # refused it=1', 'the pending reason, with numbers masked');
SELECT is(pg_temp.report('identified_closed', 'total'),
          'identified_closed=6 last_borrower=2 unsettled=1 opted_in=1 pending=1 not_severed=1 should_be_gone=2',
          'totals over both bindings');
SELECT is((SELECT ok FROM pals_privacy.compliance_report() WHERE section = 'identified_closed' AND relation = 'total'
              AND measure = 'should_be_gone'), false, 'the total check fails too');

-- Ages, from the closed column: 400, 100, 40, 5 and 2 days, and 3 hours.
SELECT is(pg_temp.report('age', 'cr.loans'),
          'under 1 day=0 1-7 days=2 7-30 days=0 30-90 days=1 90-365 days=1 1-2 years=1 over 2 years=0 unknown=0',
          'ages of identified closed loans');
SELECT is(pg_temp.report('age', 'total'),
          'under 1 day=1 1-7 days=2 7-30 days=0 30-90 days=1 90-365 days=1 1-2 years=1 over 2 years=0 unknown=0',
          'ages over both bindings');
SELECT is((SELECT sum(value) FROM pals_privacy.compliance_report() WHERE section = 'age' AND relation = 'total'),
          pg_temp.val('identified_closed', 'total', 'identified_closed'), 'every identified closed row has an age');

-- Expired patrons (grace 90 days): 3 owes, 4 has an open loan, 5 is eligible; 6 is within grace.
SELECT is(pg_temp.report('expired_patrons', 'cr.patrons'),
          'expired_beyond_grace=3 kept_owing=1 kept_open_loan_or_hold=1 eligible_not_purged=1',
          'expired patrons kept, by reason');
SELECT is((SELECT ok FROM pals_privacy.compliance_report() WHERE measure = 'eligible_not_purged'), false,
          'an eligible patron left behind fails the check');

-- Contact fields: 2 e-mails (1 with notices consent), 2 phones (none).
SELECT is(pg_temp.report('contact', 'cr.contacts'),
          'email (email): filled=2 email (email): no newsletter consent=2 email (email): no notices consent=1 '
          'phone (phone): filled=2 phone (phone): no newsletter consent=2 phone (phone): no notices consent=2',
          'contact fields without consent, per field and purpose');

-- Retention: one sign-up older than 3 days.
SELECT is(pg_temp.report('retention', 'cr.signups'), 'past_retention=1', 'rows past their retention rule');

-- Audit chain and head.
SELECT is(pg_temp.val('audit', NULL, 'head_entry'), (SELECT max(id)::numeric FROM pals_privacy.audit_log), 'audit head entry');
SELECT is((SELECT detail FROM pals_privacy.compliance_report() WHERE section = 'audit' AND measure = 'head_entry'),
          (SELECT encode(hash, 'hex') FROM pals_privacy.audit_log ORDER BY id DESC LIMIT 1), 'audit head hash');
SELECT is((SELECT value IS NULL AND ok FROM pals_privacy.compliance_report() WHERE measure = 'first_bad_entry'), true,
          'the chain verifies');

-- Staff acknowledgments: regress_cr_staff never acknowledged; after it does, it is not counted.
SELECT ok(pg_temp.val('acknowledgments', NULL, 'never_acknowledged') >= 1, 'a staff login role that never acknowledged');
CREATE TEMP TABLE cr_never AS SELECT pg_temp.val('acknowledgments', NULL, 'never_acknowledged') AS n;
SET SESSION AUTHORIZATION regress_cr_staff;
SELECT pals_privacy.acknowledge_policy('2026');
RESET SESSION AUTHORIZATION;
SELECT is(pg_temp.val('acknowledgments', NULL, 'never_acknowledged'), (SELECT n - 1 FROM cr_never),
          'one fewer once it acknowledged');

-- Health.
SELECT is(pg_temp.val('health', NULL, 'preloaded'), 1::numeric, 'preloaded');
SELECT is(pg_temp.val('health', NULL, 'severs_pending'), (SELECT count(*)::numeric FROM pals_privacy.sever_pending),
          'severs pending');
SELECT is(pg_temp.val('health', NULL, 'backlog_not_done'),
          (SELECT count(*)::numeric FROM pals_privacy.loan_binding l WHERE NOT EXISTS (
              SELECT FROM pals_privacy.backlog_progress g WHERE g.binding = l.relation AND g.finished_at IS NOT NULL)),
          'loan bindings whose backlog has not finished');
SELECT is(pg_temp.val('health', NULL, 'bindings_invalid'), 0::numeric, 'no invalid binding');
ALTER TABLE cr.contacts RENAME COLUMN phone TO phone_old;   -- (dropping a bound column is refused)
SELECT is(pg_temp.val('health', NULL, 'bindings_invalid'), 1::numeric, 'a bound column renamed makes one binding invalid');
SELECT is(pg_temp.report('contact', 'cr.contacts'),
          'email (email): filled=2 email (email): no newsletter consent=2 email (email): no notices consent=1',
          'and the report goes on without it');

-- No identity anywhere in the report or the page.
SELECT is((SELECT count(*) FROM pals_privacy.compliance_report() r, cr.patrons p
            WHERE concat_ws(' ', r.relation, r.measure, r.detail) ~ (p.name || '|' || p.card)), 0::bigint,
          'no patron name or card in the report rows');
SELECT is((SELECT count(*) FROM cr.patrons p WHERE pals_privacy.compliance_report_html() ~ (p.name || '|' || p.card || '|4711')),
          0::bigint, 'nor in the HTML page');
SELECT ok(pals_privacy.compliance_report_html() !~* '<script|<link|src=|href=|url\(', 'the page loads and runs nothing');

-- Who may run it: auditors (by login role) and superusers.
SET SESSION AUTHORIZATION regress_cr_aud;
SELECT ok((SELECT count(*) FROM pals_privacy.compliance_report()) > 30, 'an auditor runs compliance_report()');
SELECT ok(pals_privacy.compliance_report_html() LIKE '<!DOCTYPE html>%', 'and compliance_report_html()');
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_cr_staff;
SELECT throws_ok($$SELECT * FROM pals_privacy.compliance_report()$$, '42501', 'permission denied for compliance_report', 'staff are refused');
SELECT throws_ok($$SELECT pals_privacy.compliance_report_html()$$, '42501', 'permission denied for compliance_report_html', 'staff are refused the page');
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_cr_ils;
SELECT throws_ok($$SELECT * FROM pals_privacy.compliance_report()$$, '42501', NULL, 'operational is refused');
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_cr_opac;
SELECT throws_ok($$SELECT * FROM pals_privacy.compliance_report()$$, '42501', NULL, 'patron is refused');
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_cr_coll;
SELECT throws_ok($$SELECT pals_privacy.compliance_report_html()$$, '42501', NULL, 'collections is refused');
RESET SESSION AUTHORIZATION;

SELECT * FROM finish();
ROLLBACK;
