-- Inheritance children added after bind_loans are covered at once: an event
-- trigger installs the severing trigger on a table created with INHERITS or
-- attached with ALTER TABLE ... INHERIT, without calling bind_loans again.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pals_privacy;
BEGIN;
SELECT plan(9);
CREATE SCHEMA ch;
CREATE TABLE ch.patrons (id bigint PRIMARY KEY, expires date NOT NULL);
INSERT INTO ch.patrons VALUES (1, 'infinity'), (2, 'infinity');
CREATE TABLE ch.loans (id int PRIMARY KEY, patron_id bigint, item_id int NOT NULL, returned timestamptz);
SELECT pals_privacy.bind_patrons('ch.patrons', 'id', 'expires');
SELECT pals_privacy.bind_loans('ch.loans', 'patron_id', 'item_id', ARRAY['returned']);

CREATE TABLE ch.loans_2026 () INHERITS (ch.loans);
SELECT is((SELECT count(*) FROM pg_trigger WHERE tgrelid = 'ch.loans_2026'::regclass AND tgname = 'pals_privacy_sever'),
          1::bigint, 'a child created with INHERITS gets the severing trigger');
INSERT INTO ch.loans_2026 VALUES (1, 1, 10, '2026-01-10'), (2, 2, 10, NULL);
UPDATE ch.loans_2026 SET returned = '2026-02-10' WHERE id = 2;
SELECT is((SELECT patron_id FROM ch.loans WHERE id = 1), NULL, 'a return in the new child severs the earlier row');
SELECT is((SELECT patron_id FROM ch.loans WHERE id = 2), 2::bigint, 'and keeps the last borrower');

CREATE TABLE ch.loans_old (id int PRIMARY KEY, patron_id bigint, item_id int NOT NULL, returned timestamptz);
SELECT is((SELECT count(*) FROM pg_trigger WHERE tgrelid = 'ch.loans_old'::regclass AND tgname = 'pals_privacy_sever'),
          0::bigint, 'an unrelated table gets nothing');
ALTER TABLE ch.loans_old INHERIT ch.loans;
SELECT is((SELECT count(*) FROM pg_trigger WHERE tgrelid = 'ch.loans_old'::regclass AND tgname = 'pals_privacy_sever'),
          1::bigint, 'a table attached with ALTER TABLE ... INHERIT gets the severing trigger');

-- a non-superuser owner can still create children (the event trigger runs with the extension's rights)
CREATE ROLE regress_ch_owner;
GRANT USAGE, CREATE ON SCHEMA ch TO regress_ch_owner;
ALTER TABLE ch.loans OWNER TO regress_ch_owner;
SET ROLE regress_ch_owner;
SELECT lives_ok($$CREATE TABLE ch.loans_2027 () INHERITS (ch.loans)$$, 'a non-superuser owner creates a child');
RESET ROLE;
SELECT is((SELECT count(*) FROM pg_trigger WHERE tgrelid = 'ch.loans_2027'::regclass AND tgname = 'pals_privacy_sever'),
          1::bigint, 'the child a non-superuser owner created gets the severing trigger');
-- and the trigger severs there: item 20 is lent to patron 1, returned, then
-- lent to patron 2 and returned; patron 1's loan loses its patron
INSERT INTO ch.loans_2027 VALUES (20, 1, 20, NULL);
UPDATE ch.loans_2027 SET returned = '2027-01-10' WHERE id = 20;
INSERT INTO ch.loans_2027 VALUES (21, 2, 20, NULL);
UPDATE ch.loans_2027 SET returned = '2027-02-10' WHERE id = 21;
SELECT is((SELECT patron_id FROM ch.loans WHERE id = 20), NULL, 'a return in that child severs the earlier row');
SELECT is((SELECT patron_id FROM ch.loans WHERE id = 21), 2::bigint, 'and keeps its last borrower');

SELECT * FROM finish();
ROLLBACK;
