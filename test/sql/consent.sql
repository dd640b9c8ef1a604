-- Consent (issue 6, core): purposes and add_purpose(), grant_consent /
-- withdraw_consent / has_consent with every error, who may record consent
-- (judged by session_user's class, so roles are taken on with SET SESSION
-- AUTHORIZATION), history and audit entries, the outbox check in its three
-- modes (reject, divert, drop with its counter), and the defaults a new patron
-- starts with (with and without a library column).  Everything is rolled back.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pals_privacy;

BEGIN;
SELECT plan(161);

-- The last audit entry and history row before this test: everything after is ours.
CREATE TEMP TABLE cn_mark AS
    SELECT coalesce((SELECT max(id) FROM pals_privacy.audit_log), 0) AS audit_id,
           coalesce((SELECT max(id) FROM pals_privacy.consent_history), 0) AS history_id;
GRANT SELECT ON cn_mark TO PUBLIC;

-- The rows of a query as text, '(a,b) | (c,d)', in the query's order.
CREATE FUNCTION pg_temp.rows(query text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE result text;
BEGIN
    EXECUTE format('SELECT string_agg(t, '' | '' ORDER BY n) FROM (SELECT row_number() OVER () AS n, q::text AS t FROM (%s) q) s', query)
        INTO result;
    RETURN coalesce(result, '(none)');
END $$;

-- Every part of an error (message, detail, hint, context) of a statement, so
-- that the text can be searched for a contact value.
CREATE TEMP TABLE cn_err (label text PRIMARY KEY, state text, msg text, detail text, hint text, context text);
GRANT ALL ON cn_err TO PUBLIC;
CREATE FUNCTION pg_temp.capture(label text, stmt text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE s text; m text; d text; h text; c text;
BEGIN
    BEGIN
        EXECUTE stmt;
        INSERT INTO cn_err VALUES (label, 'no error', NULL, NULL, NULL, NULL);
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS s = RETURNED_SQLSTATE, m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL,
                                h = PG_EXCEPTION_HINT, c = PG_EXCEPTION_CONTEXT;
        INSERT INTO cn_err VALUES (label, s, m, d, h, c);
    END;
END $$;

CREATE ROLE regress_cn_ils;      -- operational
CREATE ROLE regress_cn_staff;    -- staff
CREATE ROLE regress_cn_opac;     -- patron
CREATE ROLE regress_cn_coll;     -- collections
CREATE ROLE regress_cn_aud;      -- auditor
CREATE ROLE regress_cn_plain;    -- unclassified: pals_privacy.default_class (staff)
SELECT pals_privacy.classify_role('regress_cn_ils', 'operational');
SELECT pals_privacy.classify_role('regress_cn_staff', 'staff');
SELECT pals_privacy.classify_role('regress_cn_opac', 'patron');
SELECT pals_privacy.classify_role('regress_cn_coll', 'collections');
SELECT pals_privacy.classify_role('regress_cn_aud', 'auditor');

-- A small ILS.  Patrons 1-4 exist before the patron table is bound, so they
-- start with no consent at all.
CREATE SCHEMA cn;
GRANT USAGE ON SCHEMA cn TO PUBLIC;
CREATE TABLE cn.patrons (id bigint PRIMARY KEY, name text NOT NULL, email text, library text,
                         expires date NOT NULL DEFAULT 'infinity');
INSERT INTO cn.patrons (id, name, email, library) VALUES
    (1, 'Ada', 'ada@example.org', 'east'), (2, 'Bea', 'bea@example.org', 'west'),
    (3, 'Cy', 'cy@example.org', 'east'), (4, 'Di', 'di@example.org', NULL);
GRANT SELECT, INSERT ON cn.patrons TO regress_cn_ils, regress_cn_opac;
SELECT pals_privacy.bind_patrons('cn.patrons', 'id', 'expires');

------------------------------------------------------------------------------
-- Purposes
------------------------------------------------------------------------------
SELECT is(pg_temp.rows($$SELECT name, requires_evidence, builtin FROM pals_privacy.purposes ORDER BY name$$),
          '(newsletter,t,t) | (notices,f,t)', 'purposes: notices (no evidence) and newsletter (evidence) are built in');
SELECT lives_ok($$SELECT pals_privacy.add_purpose('reminders', 'Reminders about events')$$, 'add_purpose: a purpose');
SELECT lives_ok($$SELECT pals_privacy.add_purpose('surveys', 'Patron surveys', true)$$,
                'add_purpose: a purpose that requires evidence');
SELECT is(pg_temp.rows($$SELECT name, description, requires_evidence, builtin FROM pals_privacy.purposes
                         WHERE NOT builtin ORDER BY name$$),
          '(reminders,"Reminders about events",f,f) | (surveys,"Patron surveys",t,f)',
          'add_purpose: requires_evidence defaults to false; added purposes are not built in');
SELECT throws_ok($$SELECT pals_privacy.add_purpose('Bad-Name', 'x')$$, '22023', NULL, 'add_purpose: a bad name (capitals, dash)');
SELECT throws_ok($$SELECT pals_privacy.add_purpose('1st', 'x')$$, '22023', NULL, 'add_purpose: a bad name (leading digit)');
SELECT throws_ok($$SELECT pals_privacy.add_purpose('', 'x')$$, '22023', NULL, 'add_purpose: an empty name');
SELECT throws_ok($$SELECT pals_privacy.add_purpose('notices', 'again')$$, '42710', NULL, 'add_purpose: a built-in name again');
SELECT throws_ok($$SELECT pals_privacy.add_purpose('reminders', 'again')$$, '42710', NULL, 'add_purpose: an added name again');
SELECT throws_ok($$SELECT pals_privacy.add_purpose(NULL, 'x')$$, '22004', NULL, 'add_purpose: NULL name');
SELECT throws_ok($$SELECT pals_privacy.add_purpose('nulldesc', NULL)$$, '22004', NULL, 'add_purpose: NULL description');
SELECT throws_ok($$SELECT pals_privacy.add_purpose('nullev', 'x', NULL)$$, '22004', NULL, 'add_purpose: NULL requires_evidence');
SET SESSION AUTHORIZATION regress_cn_staff;
SELECT throws_ok($$SELECT pals_privacy.add_purpose('staffs', 'x')$$, '42501', NULL, 'add_purpose: staff may not');
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_cn_ils;
SELECT throws_ok($$SELECT pals_privacy.add_purpose('ils', 'x')$$, '42501', NULL, 'add_purpose: operational may not');
RESET SESSION AUTHORIZATION;
SELECT is((SELECT count(*) FROM pals_privacy.purposes), 4::bigint, 'failed add_purpose calls added nothing');

------------------------------------------------------------------------------
-- grant_consent / withdraw_consent / has_consent: the rules
------------------------------------------------------------------------------
SELECT is(pals_privacy.has_consent('1', 'notices', 'email'), false, 'a patron starts without consent');
SELECT lives_ok($$SELECT pals_privacy.grant_consent('1', 'notices', 'email')$$, 'grant notices by email, no evidence needed');
SELECT is(pals_privacy.has_consent('1', 'notices', 'email'), true, 'has_consent: granted');
SELECT is(pals_privacy.has_consent('1', 'notices', 'sms'), false, 'has_consent: per channel');
SELECT is(pals_privacy.has_consent('1', 'reminders', 'email'), false, 'has_consent: per purpose');
SELECT is(pals_privacy.has_consent('2', 'notices', 'email'), false, 'has_consent: per patron');

-- evidence
SELECT throws_ok($$SELECT pals_privacy.grant_consent('1', 'newsletter', 'email')$$, '22023', NULL,
                 'newsletter requires evidence: none given');
SELECT throws_ok($$SELECT pals_privacy.grant_consent('1', 'newsletter', 'email', NULL)$$, '22023', NULL,
                 'newsletter requires evidence: NULL');
SELECT throws_ok($$SELECT pals_privacy.grant_consent('1', 'newsletter', 'email', '')$$, '22023', NULL,
                 'newsletter requires evidence: empty');
SELECT throws_ok($$SELECT pals_privacy.grant_consent('1', 'newsletter', 'email', '   ')$$, '22023', NULL,
                 'newsletter requires evidence: blank');
SELECT throws_ok($$SELECT pals_privacy.grant_consent('1', 'newsletter', 'email', E'\t\n ')$$, '22023', NULL,
                 'newsletter requires evidence: tabs and newlines only');
SELECT throws_ok($$SELECT pals_privacy.grant_consent('1', 'surveys', 'email')$$, '22023', NULL,
                 'an added purpose that requires evidence: none given');
SELECT is(pals_privacy.has_consent('1', 'newsletter', 'email'), false, 'no consent recorded by the failed grants');
SELECT lives_ok($$SELECT pals_privacy.grant_consent('1', 'newsletter', 'email', 'signed form 2026-01-05')$$,
                'newsletter with evidence');
SELECT is(pals_privacy.has_consent('1', 'newsletter', 'email'), true, 'newsletter granted with evidence');
SELECT lives_ok($$SELECT pals_privacy.grant_consent('1', 'surveys', 'sms', 'web form')$$, 'an added purpose with evidence');
SELECT lives_ok($$SELECT pals_privacy.grant_consent('1', 'reminders', 'phone')$$, 'an added purpose without evidence');

-- errors
SELECT throws_ok($$SELECT pals_privacy.grant_consent('1', 'nope', 'email')$$, '22023', NULL, 'grant: unknown purpose');
SELECT throws_ok($$SELECT pals_privacy.grant_consent('1', 'notices', 'fax')$$, '22023', NULL, 'grant: unknown channel');
SELECT throws_ok($$SELECT pals_privacy.grant_consent('999', 'notices', 'email')$$, '23503', NULL, 'grant: unknown patron');
SELECT throws_ok($$SELECT pals_privacy.grant_consent(NULL, 'notices', 'email')$$, '22004', NULL, 'grant: NULL patron');
SELECT throws_ok($$SELECT pals_privacy.grant_consent('1', NULL, 'email')$$, '22004', NULL, 'grant: NULL purpose');
SELECT throws_ok($$SELECT pals_privacy.grant_consent('1', 'notices', NULL)$$, '22004', NULL, 'grant: NULL channel');
SELECT throws_ok($$SELECT pals_privacy.withdraw_consent('1', 'nope', 'email')$$, '22023', NULL, 'withdraw: unknown purpose');
SELECT throws_ok($$SELECT pals_privacy.withdraw_consent('1', 'notices', 'fax')$$, '22023', NULL, 'withdraw: unknown channel');
SELECT throws_ok($$SELECT pals_privacy.withdraw_consent('999', 'notices', 'email')$$, '23503', NULL, 'withdraw: unknown patron');
SELECT throws_ok($$SELECT pals_privacy.withdraw_consent(NULL, 'notices', 'email')$$, '22004', NULL, 'withdraw: NULL patron');
SELECT throws_ok($$SELECT pals_privacy.withdraw_consent('1', NULL, 'email')$$, '22004', NULL, 'withdraw: NULL purpose');
SELECT throws_ok($$SELECT pals_privacy.withdraw_consent('1', 'notices', NULL)$$, '22004', NULL, 'withdraw: NULL channel');

-- granting twice updates the evidence; one current row
SELECT lives_ok($$SELECT pals_privacy.grant_consent('1', 'notices', 'email', 'phoned in')$$, 'granting twice is fine');
SELECT is(pg_temp.rows($$SELECT granted, evidence FROM pals_privacy.consents
                         WHERE patron = '1' AND purpose = 'notices' AND channel = 'email'$$),
          '(t,"phoned in")', 'granting twice: one current row, with the new evidence');

-- withdraw, withdraw again (no-op), withdraw something never granted (no-op)
SELECT lives_ok($$SELECT pals_privacy.withdraw_consent('1', 'notices', 'email')$$, 'withdraw');
SELECT is(pals_privacy.has_consent('1', 'notices', 'email'), false, 'withdrawn: no consent');
SELECT is(pg_temp.rows($$SELECT granted FROM pals_privacy.consents
                         WHERE patron = '1' AND purpose = 'notices' AND channel = 'email'$$),
          '(f)', 'withdrawn: the current row says not granted');
CREATE TEMP TABLE cn_count AS SELECT count(*) AS n FROM pals_privacy.consent_history;
SELECT lives_ok($$SELECT pals_privacy.withdraw_consent('1', 'notices', 'email')$$, 'withdrawing again is fine');
SELECT lives_ok($$SELECT pals_privacy.withdraw_consent('2', 'notices', 'mail')$$, 'withdrawing what was never granted is fine');
SELECT is((SELECT count(*) FROM pals_privacy.consent_history), (SELECT n FROM cn_count),
          'withdrawing what is not granted is a no-op: no history row');
SELECT is(pals_privacy.has_consent('2', 'notices', 'mail'), false, 'a no-op withdrawal grants nothing');
SELECT lives_ok($$SELECT pals_privacy.grant_consent('1', 'notices', 'email')$$, 'grant again after withdrawal');
SELECT is(pals_privacy.has_consent('1', 'notices', 'email'), true, 'granted again');

-- history of patron 1, notices by email
SELECT is(pg_temp.rows($$SELECT action, evidence, recorded_by, recorded_at IS NOT NULL AS stamped
                         FROM pals_privacy.consent_history
                         WHERE patron = '1' AND purpose = 'notices' AND channel = 'email' ORDER BY id$$),
          format('(grant,,%1$s,t) | (grant,"phoned in",%1$s,t) | (withdraw,,%1$s,t) | (grant,,%1$s,t)', session_user),
          'history: every grant and withdrawal, with who and when');

------------------------------------------------------------------------------
-- Who may record consent (class of session_user)
------------------------------------------------------------------------------
SET SESSION AUTHORIZATION regress_cn_ils;
SELECT lives_ok($$SELECT pals_privacy.grant_consent('2', 'notices', 'sms')$$, 'operational may grant');
SELECT is(pals_privacy.has_consent('2', 'notices', 'sms'), true, 'operational: granted');
SELECT lives_ok($$SELECT pals_privacy.withdraw_consent('2', 'notices', 'sms')$$, 'operational may withdraw');
SELECT is(pals_privacy.has_consent('2', 'notices', 'sms'), false, 'operational: withdrawn');
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_cn_staff;
SELECT lives_ok($$SELECT pals_privacy.grant_consent('2', 'newsletter', 'email', 'signed form at the desk')$$,
                'staff may grant, with evidence');
SELECT throws_ok($$SELECT pals_privacy.grant_consent('2', 'newsletter', 'sms')$$, '22023', NULL,
                 'staff, too, cannot grant without the evidence required');
SELECT lives_ok($$SELECT pals_privacy.grant_consent('2', 'notices', 'email')$$, 'staff may grant notices');
SELECT lives_ok($$SELECT pals_privacy.withdraw_consent('2', 'notices', 'email')$$, 'staff may withdraw');
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_cn_plain;
SELECT lives_ok($$SELECT pals_privacy.grant_consent('2', 'reminders', 'mail')$$, 'an unclassified role (default class staff) may grant');
RESET SESSION AUTHORIZATION;
SELECT is(pg_temp.rows($$SELECT action, purpose, channel, evidence, recorded_by FROM pals_privacy.consent_history
                         WHERE patron = '2' ORDER BY id$$),
          '(grant,notices,sms,,regress_cn_ils) | (withdraw,notices,sms,,regress_cn_ils) | '
          '(grant,newsletter,email,"signed form at the desk",regress_cn_staff) | (grant,notices,email,,regress_cn_staff) | '
          '(withdraw,notices,email,,regress_cn_staff) | (grant,reminders,mail,,regress_cn_plain)',
          'history: recorded_by is the role that recorded it');
SELECT is(pg_temp.rows($$SELECT purpose, channel, granted, evidence, recorded_by FROM pals_privacy.consents
                         WHERE patron = '2' ORDER BY purpose, channel$$),
          '(newsletter,email,t,"signed form at the desk",regress_cn_staff) | (notices,email,f,,regress_cn_staff) | '
          '(notices,sms,f,,regress_cn_ils) | (reminders,mail,t,,regress_cn_plain)',
          'consents: the current state of each patron/purpose/channel');

SET SESSION AUTHORIZATION regress_cn_opac;
SELECT throws_ok($$SELECT pals_privacy.grant_consent('3', 'notices', 'email')$$, '42501', NULL, 'patron class may not grant');
SELECT throws_ok($$SELECT pals_privacy.withdraw_consent('2', 'newsletter', 'email')$$, '42501', NULL, 'patron class may not withdraw');
SELECT throws_ok($$SELECT pals_privacy.has_consent('2', 'newsletter', 'email')$$, '42501', NULL,
                 'patron class asks about its own logged-in patron only');
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_cn_coll;
SELECT throws_ok($$SELECT pals_privacy.grant_consent('3', 'notices', 'email')$$, '42501', NULL, 'collections may not grant');
SELECT throws_ok($$SELECT pals_privacy.withdraw_consent('2', 'newsletter', 'email')$$, '42501', NULL, 'collections may not withdraw');
SELECT is(pals_privacy.has_consent('2', 'newsletter', 'email'), true, 'collections may call has_consent');
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_cn_aud;
SELECT throws_ok($$SELECT pals_privacy.grant_consent('3', 'notices', 'email')$$, '42501', NULL, 'auditor may not grant');
SELECT throws_ok($$SELECT pals_privacy.withdraw_consent('2', 'newsletter', 'email')$$, '42501', NULL, 'auditor may not withdraw');
SELECT is(pals_privacy.has_consent('2', 'newsletter', 'email'), true, 'auditor may call has_consent');
RESET SESSION AUTHORIZATION;
SELECT is(pals_privacy.has_consent('3', 'notices', 'email'), false, 'the refused grants recorded nothing');
SELECT is(pals_privacy.has_consent('2', 'newsletter', 'email'), true, 'the refused withdrawals changed nothing');

------------------------------------------------------------------------------
-- Outbox, reject mode (the default)
------------------------------------------------------------------------------
CREATE TABLE cn.outbox (id serial PRIMARY KEY, patron_id bigint, channel text NOT NULL, address text, body text,
                        sent boolean NOT NULL DEFAULT false);
CREATE TABLE cn.outbox_div (LIKE cn.outbox INCLUDING ALL);
CREATE TABLE cn.outbox_drop (LIKE cn.outbox INCLUDING ALL);
CREATE TABLE cn.outbox_bad (LIKE cn.outbox INCLUDING ALL);
GRANT SELECT, INSERT, UPDATE ON cn.outbox TO regress_cn_ils;
GRANT USAGE ON SEQUENCE cn.outbox_id_seq TO regress_cn_ils;

SELECT throws_ok($$SELECT pals_privacy.bind_outbox('cn.outbox_bad', 'patron_id', 'channel', 'notices', 'bounce')$$,
                 '22023', NULL, 'bind_outbox: unknown on_missing_consent');
SELECT throws_ok($$SELECT pals_privacy.bind_outbox('cn.outbox_bad', 'patron_id', 'channel', 'nope')$$,
                 '22023', NULL, 'bind_outbox: unknown purpose');
SELECT lives_ok($$SELECT pals_privacy.bind_outbox('cn.outbox', 'patron_id', 'channel', 'notices')$$,
                'bind_outbox: reject by default');
SELECT lives_ok($$SELECT pals_privacy.bind_outbox('cn.outbox_div', 'patron_id', 'channel', 'notices', 'divert')$$,
                'bind_outbox: divert');
SELECT lives_ok($$SELECT pals_privacy.bind_outbox('cn.outbox_drop', 'patron_id', 'channel', 'newsletter', on_missing_consent => 'drop')$$,
                'bind_outbox: drop');

-- patron 1: notices by email granted; patron 2: none for notices
SELECT lives_ok($$INSERT INTO cn.outbox (patron_id, channel, address, body) VALUES (1, 'email', 'ada@example.org', 'due')$$,
                'reject: a consenting patron''s row is inserted');
SELECT throws_ok($$INSERT INTO cn.outbox (patron_id, channel, address, body) VALUES (2, 'email', 'bea@example.org', 'due')$$,
                 '23514', NULL, 'reject: a patron without consent');
SELECT throws_ok($$INSERT INTO cn.outbox (patron_id, channel, address, body) VALUES (1, 'sms', '+15555550101', 'due')$$,
                 '23514', NULL, 'reject: consent on another channel is not enough');
SELECT throws_ok($$INSERT INTO cn.outbox (patron_id, channel, address, body) VALUES (2, 'email', 'bea@example.org', 'due')$$,
                 '23514', NULL, 'reject: consent to another purpose (newsletter by email) is not enough');

SELECT pg_temp.capture('reject', $$INSERT INTO cn.outbox (patron_id, channel, address, body)
                                   VALUES (2, 'email', 'bea@example.org', 'due')$$);
SELECT is((SELECT state FROM cn_err WHERE label = 'reject'), '23514', 'reject message: SQLSTATE 23514');
SELECT ok((SELECT msg ~ '\m2\M' AND msg LIKE '%notices%' AND msg LIKE '%email%' FROM cn_err WHERE label = 'reject'),
          'reject message names the patron id, the purpose and the channel');
SELECT ok((SELECT concat_ws(' ', msg, detail, hint) NOT LIKE '%bea@example.org%' FROM cn_err WHERE label = 'reject'),
          'reject message, detail and hint do not contain the contact value');

SELECT lives_ok($$SELECT pals_privacy.grant_consent('3', 'notices', 'email')$$, 'patron 3 consents to notices by email');
SELECT lives_ok($$INSERT INTO cn.outbox (patron_id, channel, address, body) VALUES (3, 'email', 'cy@example.org', 'hold')$$,
                'reject: patron 3 row inserted once consent is granted');
SELECT lives_ok($$SELECT pals_privacy.withdraw_consent('3', 'notices', 'email')$$, 'patron 3 withdraws');
SELECT throws_ok($$INSERT INTO cn.outbox (patron_id, channel, address, body) VALUES (3, 'email', 'cy@example.org', 'hold 2')$$,
                 '23514', NULL, 'reject: a withdrawn consent stops the next row at once');
SELECT is(pg_temp.rows($$SELECT patron_id, channel, body FROM cn.outbox ORDER BY id$$),
          '(1,email,due) | (3,email,hold)', 'reject: only the consenting rows are in the outbox');

-- multi-row INSERT ... SELECT: checked row by row, one bad row fails the statement
SELECT lives_ok($$SELECT pals_privacy.grant_consent('3', 'notices', 'email')$$, 'patron 3 consents again');
SELECT throws_ok($$INSERT INTO cn.outbox (patron_id, channel, address, body)
                   SELECT p.id, 'email', p.email, 'overdue' FROM cn.patrons p WHERE p.id IN (1, 2, 3) ORDER BY p.id$$,
                 '23514', NULL, 'multi-row insert: one patron without consent fails the statement');
SELECT throws_ok($$INSERT INTO cn.outbox (patron_id, channel, address, body)
                   SELECT p.id, 'email', p.email, 'overdue' FROM cn.patrons p WHERE p.id IN (1, 3, 2) ORDER BY p.id DESC$$,
                 '23514', NULL, 'multi-row insert: the bad row first fails it too');
SELECT is((SELECT count(*) FROM cn.outbox WHERE body = 'overdue'), 0::bigint, 'multi-row insert: nothing of the failed statements');
SELECT lives_ok($$INSERT INTO cn.outbox (patron_id, channel, address, body)
                  SELECT p.id, 'email', p.email, 'overdue' FROM cn.patrons p WHERE p.id IN (1, 3)$$,
                'multi-row insert: all rows consenting');
SELECT is((SELECT count(*) FROM cn.outbox WHERE body = 'overdue'), 2::bigint, 'multi-row insert: every row inserted');

-- UPDATE of the channel or the patron is checked; other updates are not
SELECT throws_ok($$UPDATE cn.outbox SET channel = 'sms' WHERE patron_id = 1 AND body = 'due'$$,
                 '23514', NULL, 'update: to a channel without consent');
SELECT throws_ok($$UPDATE cn.outbox SET patron_id = 2 WHERE patron_id = 1 AND body = 'due'$$,
                 '23514', NULL, 'update: to a patron without consent');
SELECT lives_ok($$SELECT pals_privacy.grant_consent('1', 'notices', 'phone')$$, 'patron 1 consents to notices by phone');
SELECT lives_ok($$UPDATE cn.outbox SET channel = 'phone' WHERE patron_id = 1 AND body = 'due'$$,
                'update: to a channel with consent');
SELECT lives_ok($$SELECT pals_privacy.withdraw_consent('1', 'notices', 'phone')$$, 'patron 1 withdraws notices by phone');
SELECT lives_ok($$UPDATE cn.outbox SET sent = true WHERE patron_id = 1 AND body = 'due'$$,
                'update: marking a queued row sent is not a new message (no check)');
SELECT is(pg_temp.rows($$SELECT patron_id, channel, sent FROM cn.outbox WHERE body = 'due'$$),
          '(1,phone,t)', 'update: the row after the updates');

-- an ILS role with only INSERT/UPDATE on its outbox: the same checks, no permission errors
SET SESSION AUTHORIZATION regress_cn_ils;
SELECT lives_ok($$INSERT INTO cn.outbox (patron_id, channel, address, body) VALUES (1, 'email', 'ada@example.org', 'ils')$$,
                'reject, as the ILS role: a consenting row');
SELECT throws_ok($$INSERT INTO cn.outbox (patron_id, channel, address, body) VALUES (2, 'email', 'bea@example.org', 'ils')$$,
                 '23514', NULL, 'reject, as the ILS role: a row without consent');
RESET SESSION AUTHORIZATION;

------------------------------------------------------------------------------
-- Outbox, divert mode (notices): preference email, sms, phone, mail
------------------------------------------------------------------------------
SELECT lives_ok($$SELECT pals_privacy.grant_consent('4', 'notices', 'mail')$$, 'patron 4: notices by mail');
SELECT lives_ok($$SELECT pals_privacy.grant_consent('4', 'notices', 'phone')$$, 'patron 4: notices by phone');
SELECT lives_ok($$INSERT INTO cn.outbox_div (patron_id, channel, address, body) VALUES (4, 'email', 'di@example.org', 'd1')$$,
                'divert: a row on a channel without consent is inserted');
SELECT is((SELECT channel FROM cn.outbox_div WHERE body = 'd1'), 'phone', 'divert: to phone (before mail)');
SELECT lives_ok($$SELECT pals_privacy.grant_consent('4', 'notices', 'sms')$$, 'patron 4: notices by sms');
SELECT lives_ok($$INSERT INTO cn.outbox_div (patron_id, channel, address, body) VALUES (4, 'mail', '1 Main St', 'd2')$$,
                'divert: a row on a channel with consent');
SELECT is((SELECT channel FROM cn.outbox_div WHERE body = 'd2'), 'mail', 'divert: a consented channel is kept');
SELECT lives_ok($$INSERT INTO cn.outbox_div (patron_id, channel, address, body) VALUES (4, 'email', 'di@example.org', 'd3')$$,
                'divert: again');
SELECT is((SELECT channel FROM cn.outbox_div WHERE body = 'd3'), 'sms', 'divert: to sms (before phone and mail)');
SELECT throws_ok($$INSERT INTO cn.outbox_div (patron_id, channel, address, body) VALUES (2, 'email', 'bea@example.org', 'd4')$$,
                 '23514', NULL, 'divert: no channel consented for the purpose (newsletter consent does not count): rejected');
SELECT pg_temp.capture('divert', $$INSERT INTO cn.outbox_div (patron_id, channel, address, body)
                                   VALUES (2, 'email', 'bea@example.org', 'd4')$$);
SELECT ok((SELECT state = '23514' AND concat_ws(' ', msg, detail, hint) NOT LIKE '%bea@example.org%'
             AND msg ~ '\m2\M' AND msg LIKE '%notices%' FROM cn_err WHERE label = 'divert'),
          'divert rejection: names patron and purpose, no contact value');
SELECT lives_ok($$UPDATE cn.outbox_div SET channel = 'email' WHERE body = 'd2'$$, 'divert: update to a channel without consent');
SELECT is((SELECT channel FROM cn.outbox_div WHERE body = 'd2'), 'sms', 'divert: the update is diverted too');
SELECT lives_ok($$SELECT pals_privacy.withdraw_consent('4', 'notices', 'sms')$$, 'patron 4 withdraws sms');
SELECT lives_ok($$INSERT INTO cn.outbox_div (patron_id, channel, address, body) VALUES (4, 'sms', '+15555550104', 'd5')$$,
                'divert: after a withdrawal');
SELECT is((SELECT channel FROM cn.outbox_div WHERE body = 'd5'), 'phone', 'divert: the withdrawn channel is no longer used');

------------------------------------------------------------------------------
-- Outbox, drop mode (newsletter), with its counter
------------------------------------------------------------------------------
-- newsletter: patron 1 by email, patron 2 by email
SELECT lives_ok($$INSERT INTO cn.outbox_drop (patron_id, channel, address, body)
                  SELECT p.id, c.channel, p.email, 'news' FROM cn.patrons p,
                         (VALUES ('email'), ('sms')) c(channel) WHERE p.id <= 4$$,
                'drop: a multi-row insert with rows lacking consent succeeds');
SELECT is(pg_temp.rows($$SELECT patron_id, channel FROM cn.outbox_drop ORDER BY patron_id, channel$$),
          '(1,email) | (2,email)', 'drop: only the consenting rows are inserted');
SELECT is(pg_temp.rows($$SELECT relation, purpose, channel, dropped FROM pals_privacy.outbox_dropped
                         WHERE relation = 'cn.outbox_drop'::regclass ORDER BY channel$$),
          '(cn.outbox_drop,newsletter,email,2) | (cn.outbox_drop,newsletter,sms,4)', 'drop: counted per channel');
SELECT lives_ok($$INSERT INTO cn.outbox_drop (patron_id, channel, address, body) VALUES (3, 'email', 'cy@example.org', 'news2')$$,
                'drop: a single row lacking consent');
SELECT is((SELECT dropped FROM pals_privacy.outbox_dropped WHERE relation = 'cn.outbox_drop'::regclass AND channel = 'email'),
          3::bigint, 'drop: the counter goes up');
SELECT lives_ok($$SELECT pals_privacy.withdraw_consent('1', 'newsletter', 'email')$$, 'patron 1 withdraws the newsletter');
SELECT lives_ok($$INSERT INTO cn.outbox_drop (patron_id, channel, address, body) VALUES (1, 'email', 'ada@example.org', 'news3')$$,
                'drop: the withdrawn patron''s next row');
SELECT is((SELECT count(*) FROM cn.outbox_drop WHERE body = 'news3'), 0::bigint, 'drop: a withdrawn consent stops the next row');
SELECT is((SELECT dropped FROM pals_privacy.outbox_dropped WHERE relation = 'cn.outbox_drop'::regclass AND channel = 'email'),
          4::bigint, 'drop: counted');
SELECT is((SELECT count(*) FROM pals_privacy.outbox_dropped WHERE relation IN ('cn.outbox'::regclass, 'cn.outbox_div'::regclass)),
          0::bigint, 'drop: nothing counted for the reject and divert outboxes');

------------------------------------------------------------------------------
-- Defaults for new patrons, patron table bound without a library column
------------------------------------------------------------------------------
SELECT is(pg_temp.rows($$SELECT library, purpose, channel FROM pals_privacy.consent_defaults$$),
          '(,notices,email)', 'consent_defaults: notices by email for every library');
INSERT INTO cn.patrons (id, name, email, library) VALUES (10, 'Eve', 'eve@example.org', 'east');
SELECT is(pg_temp.rows($$SELECT purpose, channel, granted, evidence FROM pals_privacy.consents WHERE patron = '10'$$),
          '(notices,email,t,registration)', 'a new patron starts with notices by email, evidence registration');
SELECT is(pg_temp.rows($$SELECT action, purpose, channel, evidence FROM pals_privacy.consent_history WHERE patron = '10'$$),
          '(grant,notices,email,registration)', 'the default consent is in the history');
SELECT is(pals_privacy.has_consent('10', 'newsletter', 'email'), false, 'a new patron has no newsletter consent');
SELECT lives_ok($$INSERT INTO cn.outbox (patron_id, channel, address, body) VALUES (10, 'email', 'eve@example.org', 'welcome')$$,
                'the new patron''s notice by email is accepted');

INSERT INTO pals_privacy.consent_defaults (library, purpose, channel) VALUES (NULL, 'notices', 'sms'), ('east', 'newsletter', 'email');
SET SESSION AUTHORIZATION regress_cn_ils;
SELECT lives_ok($$INSERT INTO cn.patrons (id, name, library) VALUES (11, 'Fay', 'east')$$, 'a new patron, inserted by the ILS');
RESET SESSION AUTHORIZATION;
SELECT is(pg_temp.rows($$SELECT purpose, channel, granted, evidence FROM pals_privacy.consents WHERE patron = '11' ORDER BY 1, 2$$),
          '(notices,email,t,registration) | (notices,sms,t,registration)',
          'defaults: every library-NULL row; per-library rows do not apply without a library column');
SET SESSION AUTHORIZATION regress_cn_opac;
SELECT lives_ok($$INSERT INTO cn.patrons (id, name, library) VALUES (12, 'Gil', 'west')$$,
                'a new patron, self-registered through the OPAC (patron class)');
RESET SESSION AUTHORIZATION;
SELECT is(pg_temp.rows($$SELECT purpose, channel, granted, evidence FROM pals_privacy.consents WHERE patron = '12' ORDER BY 1, 2$$),
          '(notices,email,t,registration) | (notices,sms,t,registration)',
          'defaults are recorded for a self-registered patron too');
SET SESSION AUTHORIZATION regress_cn_staff;
SELECT throws_ok($$INSERT INTO pals_privacy.consent_defaults (library, purpose, channel) VALUES (NULL, 'newsletter', 'sms')$$,
                 '42501', NULL, 'staff cannot change consent_defaults');
SELECT throws_ok($$DELETE FROM pals_privacy.consent_defaults$$, '42501', NULL, 'staff cannot delete consent_defaults');
RESET SESSION AUTHORIZATION;
SELECT is(pals_privacy.has_consent('1', 'notices', 'sms'), false, 'changing the defaults does not touch existing patrons');

------------------------------------------------------------------------------
-- Defaults with a library column
------------------------------------------------------------------------------
SELECT pals_privacy.unbind('cn.outbox');
SELECT pals_privacy.unbind('cn.outbox_div');
SELECT pals_privacy.unbind('cn.outbox_drop');
SELECT pals_privacy.unbind('cn.patrons');
SELECT lives_ok($$SELECT pals_privacy.bind_patrons('cn.patrons', 'id', 'expires', library_column => 'library')$$,
                'rebind the patron table with a library column');
INSERT INTO cn.patrons (id, name, library) VALUES (20, 'Hal', 'east'), (21, 'Ivy', 'west'), (22, 'Jo', NULL);
SELECT is(pg_temp.rows($$SELECT purpose, channel, evidence FROM pals_privacy.consents WHERE patron = '20' AND granted ORDER BY 1, 2$$),
          '(newsletter,email,registration) | (notices,email,registration) | (notices,sms,registration)',
          'library column: an east patron gets the east row and the all-library rows');
SELECT is(pg_temp.rows($$SELECT purpose, channel, evidence FROM pals_privacy.consents WHERE patron = '21' AND granted ORDER BY 1, 2$$),
          '(notices,email,registration) | (notices,sms,registration)',
          'library column: a west patron gets only the all-library rows');
SELECT is(pg_temp.rows($$SELECT purpose, channel, evidence FROM pals_privacy.consents WHERE patron = '22' AND granted ORDER BY 1, 2$$),
          '(notices,email,registration) | (notices,sms,registration)',
          'library column: a patron with no library gets only the all-library rows');
DELETE FROM pals_privacy.consent_defaults;
INSERT INTO cn.patrons (id, name, library) VALUES (23, 'Kim', 'east');
SELECT is((SELECT count(*) FROM pals_privacy.consents WHERE patron = '23'), 0::bigint,
          'with consent_defaults emptied, a new patron starts with no consent');
SELECT is(pals_privacy.has_consent('23', 'notices', 'email'), false, 'has_consent agrees');

------------------------------------------------------------------------------
-- Audit: one entry per change, no contact values
------------------------------------------------------------------------------
SELECT is((SELECT string_agg(a.event, ' ' ORDER BY a.id) FROM pals_privacy.audit_log a
            WHERE a.id > (SELECT audit_id FROM cn_mark) AND a.event LIKE 'consent.%'),
          (SELECT string_agg('consent.' || h.action, ' ' ORDER BY h.id) FROM pals_privacy.consent_history h
            WHERE h.id > (SELECT history_id FROM cn_mark)),
          'audit: a consent.grant or consent.withdraw entry for every history row, in order');
SELECT is((SELECT count(*) FROM pals_privacy.audit_log a
            WHERE a.id > (SELECT audit_id FROM cn_mark) AND a.event LIKE 'consent.%'),
          (SELECT count(*) FROM pals_privacy.consent_history h WHERE h.id > (SELECT history_id FROM cn_mark)),
          'audit: as many consent entries as history rows');
SELECT ok((SELECT count(*) >= 30 FROM pals_privacy.audit_log a
            WHERE a.id > (SELECT audit_id FROM cn_mark) AND a.event LIKE 'consent.%'),
          'audit: consent entries were written');
SELECT is(pg_temp.rows($$SELECT a.role, a.class, a.event FROM pals_privacy.audit_log a
                         WHERE a.id > (SELECT audit_id FROM cn_mark) AND a.event LIKE 'consent.%'
                           AND a.role IN ('regress_cn_ils', 'regress_cn_staff') ORDER BY a.id LIMIT 4$$),
          '(regress_cn_ils,operational,consent.grant) | (regress_cn_ils,operational,consent.withdraw) | '
          '(regress_cn_staff,staff,consent.grant) | (regress_cn_staff,staff,consent.grant)',
          'audit: the recording role and its class');
SELECT is((SELECT count(*) FROM pals_privacy.audit_log a
            WHERE a.id > (SELECT audit_id FROM cn_mark) AND a.event LIKE 'consent.%'
              AND (a.details::text LIKE '%@example.org%' OR a.details::text LIKE '%555555%')),
          0::bigint, 'audit: no contact value in any consent entry');
SELECT ok((SELECT count(*) >= 3 FROM pals_privacy.audit_log a
            WHERE a.id > (SELECT audit_id FROM cn_mark) AND a.event LIKE 'consent.%'
              AND a.details::text LIKE '%newsletter%'),
          'audit: the entries say the purpose');
SELECT is(pals_privacy.verify_audit(), NULL, 'audit: the chain verifies');

SELECT * FROM finish();
ROLLBACK;
