-- The outbox check on bulk inserts: past 64 patrons in one statement it reads
-- every granted consent of the purpose at once.  A patron without consent is
-- still rejected, dropped and counted, or diverted, exactly as row by row.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pals_privacy;
BEGIN;
SELECT plan(13);
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

-- Past the bulk read, integer ids are tested against a bitmap of the granted ones,
-- text ids against the cached answers; both must say exactly what one lookup says.
SELECT lives_ok($$INSERT INTO cbk.notices (patron_id, channel, body)
    SELECT g, CASE WHEN g > 190 THEN 'sms' ELSE 'email' END, 'due' FROM generate_series(1, 200) g WHERE g <> 150$$,
    'two channels in one bulk insert: each patron on the channel they consented to');
SELECT throws_ok($$INSERT INTO cbk.notices (patron_id, channel, body)
    SELECT g, 'email', 'due' FROM generate_series(1, 149) g UNION ALL SELECT 191, 'email', 'due'$$,
    '23514', 'patron 191 has not consented to purpose "notices" on channel "email"',
    'a patron who consented on another channel only is rejected');
SELECT throws_ok($$INSERT INTO cbk.notices (patron_id, channel, body)
    SELECT g, 'email', 'due' FROM generate_series(1, 149) g UNION ALL SELECT 100000, 'email', 'due'$$,
    '23514', 'patron 100000 has not consented to purpose "notices" on channel "email"',
    'a patron beyond the range of granted ids is rejected');
-- one granted id far away: too sparse for a bitmap, the cached answers serve
INSERT INTO cbk.patrons VALUES (1000000000000);
SELECT pals_privacy.grant_consent('1000000000000', 'notices', 'email');
SELECT lives_ok($$INSERT INTO cbk.notices (patron_id, channel, body)
    SELECT g, 'email', 'due' FROM generate_series(1, 149) g UNION ALL SELECT 1000000000000, 'email', 'due'$$,
    'sparse ids: the consenting patrons go in');
SELECT throws_ok($$INSERT INTO cbk.notices (patron_id, channel, body)
    SELECT g, 'email', 'due' FROM generate_series(1, 150) g UNION ALL SELECT 1000000000000, 'email', 'due'$$,
    '23514', 'patron 150 has not consented to purpose "notices" on channel "email"',
    'sparse ids: the patron who withdrew is still rejected');
-- text patron ids (the patron binding moved to a table keyed by text): the cached answers serve
CREATE TABLE cbk.tpatrons (id text PRIMARY KEY, expires date NOT NULL DEFAULT 'infinity');
INSERT INTO cbk.tpatrons SELECT g::text FROM generate_series(1, 200) g;
SELECT pals_privacy.unbind(r) FROM unnest('{cbk.notices,cbk.mailings,cbk.reminders,cbk.patrons}'::regclass[]) r;
SELECT pals_privacy.bind_patrons('cbk.tpatrons', 'id', 'expires');
CREATE TABLE cbk.text_notices (id serial PRIMARY KEY, patron_id text, channel text NOT NULL, body text);
SELECT pals_privacy.bind_outbox('cbk.text_notices', 'patron_id', 'channel', 'notices');
SELECT throws_ok($$INSERT INTO cbk.text_notices (patron_id, channel, body) SELECT g::text, 'email', 'due' FROM generate_series(1, 150) g$$,
    '23514', 'patron 150 has not consented to purpose "notices" on channel "email"',
    'text patron ids: the patron who withdrew is rejected after the bulk read');

SELECT * FROM finish();
ROLLBACK;
