-- The outbox check on bulk inserts: past 64 patrons in one statement it reads
-- every granted consent of the purpose at once.  A patron without consent is
-- still rejected, dropped and counted, or diverted, exactly as row by row.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pals_privacy;
BEGIN;
SELECT plan(7);
CREATE SCHEMA cbk;
CREATE TABLE cbk.patrons (id bigint PRIMARY KEY, expires date NOT NULL DEFAULT 'infinity');
INSERT INTO cbk.patrons SELECT g FROM generate_series(1, 200) g;
CREATE TABLE cbk.notices (id serial PRIMARY KEY, patron_id bigint, channel text NOT NULL, body text);
CREATE TABLE cbk.mailings (id serial PRIMARY KEY, patron_id bigint, channel text NOT NULL, body text);
CREATE TABLE cbk.reminders (id serial PRIMARY KEY, patron_id bigint, channel text NOT NULL, body text);
SELECT pals_privacy.bind_patrons('cbk.patrons', 'id', 'expires');
SELECT pals_privacy.bind_outbox('cbk.notices', 'patron_id', 'channel', 'notices');
SELECT pals_privacy.bind_outbox('cbk.mailings', 'patron_id', 'channel', 'notices', on_missing_consent => 'drop');
SELECT pals_privacy.bind_outbox('cbk.reminders', 'patron_id', 'channel', 'notices', on_missing_consent => 'divert');
-- e-mail consent for 1..190; patrons 191..200 consented to SMS only; 150 withdrew e-mail
SELECT count(pals_privacy.grant_consent(g::text, 'notices', 'email')) FROM generate_series(1, 190) g;
SELECT count(pals_privacy.grant_consent(g::text, 'notices', 'sms')) FROM generate_series(191, 200) g;
SELECT pals_privacy.withdraw_consent('150', 'notices', 'email');

SELECT lives_ok($$INSERT INTO cbk.notices (patron_id, channel, body) SELECT g, 'email', 'due' FROM generate_series(1, 149) g$$,
    'a bulk insert for 149 consenting patrons goes in');
SELECT is((SELECT count(*) FROM cbk.notices), 149::bigint, 'all 149 rows');
SELECT throws_ok($$INSERT INTO cbk.notices (patron_id, channel, body) SELECT g, 'email', 'due' FROM generate_series(1, 150) g$$,
    '23514', 'patron 150 has not consented to purpose "notices" on channel "email"',
    'in a bulk insert, the patron who withdrew (the 150th row, after the bulk read) is rejected');
SELECT lives_ok($$INSERT INTO cbk.mailings (patron_id, channel, body) SELECT g, 'email', 'news' FROM generate_series(1, 200) g$$,
    'drop mode: the bulk insert goes through');
SELECT is((SELECT count(*) FROM cbk.mailings), 189::bigint, 'without the 11 patrons who did not consent by e-mail');
SELECT is((SELECT dropped FROM pals_privacy.outbox_dropped WHERE relation = 'cbk.mailings'::regclass AND channel = 'email'),
    11::bigint, 'and they are counted');
INSERT INTO cbk.reminders (patron_id, channel, body) SELECT g, 'email', 'due' FROM generate_series(101, 200) g
    WHERE g <> 150;
SELECT is((SELECT string_agg(DISTINCT channel, ',') FROM cbk.reminders WHERE patron_id > 190), 'sms',
    'divert mode: past the bulk read, the SMS-only patrons get their rows by SMS');

SELECT * FROM finish();
ROLLBACK;
