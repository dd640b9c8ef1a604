-- Attack catalogue: objects of the attacker's own temporary schema standing
-- in for the types the extension's own SQL names.  Every role with TEMP on
-- the database (PUBLIC has it by default) may create a domain pg_temp.text
-- over pg_catalog.text whose CHECK calls a function of its own
-- (pg_temp.atk_spy): PostgreSQL searches the temporary schema first for
-- relation and type names unless the search path lists pg_temp explicitly
-- (it never does so for functions and operators), so wherever the
-- extension's SQL casts to an unqualified text (jsonb, int2, ...) under a
-- path that does not end in pg_temp, the attacker's function runs, with the
-- rights of whoever runs that SQL (the extension owner, the bootstrap
-- superuser for the audit chain) and sees the values cast:
--   1. the audit chain, re-read at commit under the session's own search
--      path as the bootstrap superuser (details::text), after any call that
--      appends an entry: acknowledge_policy() (PUBLIC), set_pin() and
--      grant_consent() (staff), a failed login (the OPAC's patron class);
--   2. (PostgreSQL 17 and later) the severing SQL of a return or a closed
--      hold (t.patron_id::text <> '0', t.item_id::text), parsed and run as
--      the extension owner under the "safe" search path, which was
--      'pg_catalog' alone there and so still searched pg_temp first;
--   3. (every version) a saved statement of the extension's run as its
--      owner under the session's search path (a copy's sever, "t.src_code =
--      $1::text" for a copy keyed by text or uuid): PostgreSQL parses a
--      saved plan again when the search path differs from the one it was
--      prepared under, and so under the caller's.
-- The spy writes who it ran as and what it read of the hidden loans into a
-- table of the suite's (public.atk_loot): as the attacker it reads them
-- masked (0 hidden pairs); as the superuser it would read them all, and it
-- could as well have made the attacker a superuser (ALTER ROLE ...
-- SUPERUSER, tried by hand before the fix: it worked).  Each door runs in a
-- session of the attacker's own (\c), so that its temporary schema is a
-- fresh one and every plan of the extension's is made in it; the checks run
-- afterwards as the superuser.  Controls: the spy does run for the
-- attacker's own casts (the domain is live), the superuser reads the hidden
-- pairs the spy looks for, and each door did what it does (the entry was
-- appended, the loan returned, the hold closed).  See
-- test/attack/fixture.sql.
\set atk_db attack_search_path
\set ECHO none
\i test/attack/fixture.sql
\set ECHO all

-- what the spy looks for: the loans of 9001 and 9012 (hidden from staff)
CREATE TABLE public.atk_loot (door text, cu text, hidden_seen bigint, value text);
GRANT SELECT, INSERT ON public.atk_loot TO PUBLIC;
CREATE TABLE public.atk_truth AS
SELECT count(*) AS hidden FROM demo.loans WHERE item_id BETWEEN 90001 AND 90005 AND patron_id IN (9001, 9012);
GRANT SELECT ON public.atk_truth TO PUBLIC;
SELECT hidden > 0 AS hidden_pairs_exist FROM public.atk_truth;
-- and staff may not read them
SELECT count(*) > 0 AS hidden_from_staff FROM pg_temp.secrets WHERE cls = 'staff' AND rel = 'loans' AND patron IN (9001, 9012);
-- a loan relation keyed by text and a copy of it keyed by that text (an
-- ILS's uuid or text keys): the copy's sever compares "t.src_code = $1::text"
SET client_min_messages = warning;
CREATE TABLE demo.atk_src (code text PRIMARY KEY, patron_id bigint REFERENCES demo.patrons (id), item_id bigint,
                           returned_at timestamptz, settled_at timestamptz);
CREATE TABLE demo.atk_copy (id serial PRIMARY KEY, src_code text, patron_id bigint);
\o /dev/null
SELECT pals_privacy.bind_loans('demo.atk_src', 'patron_id', 'item_id', ARRAY['returned_at']::name[],
                               settled_column => 'settled_at', sever_with => 'null');
SELECT pals_privacy.bind_copy(relation => 'demo.atk_copy', source => 'demo.atk_src', key_columns => '{src_code}',
                              source_keys => '{code}', patron_column => 'patron_id', sever_with => 'unlink');
\o
GRANT SELECT, INSERT, UPDATE ON demo.atk_src, demo.atk_copy TO branch_staff;
GRANT USAGE ON SEQUENCE demo.atk_copy_id_seq TO branch_staff;
-- and an ILS trigger on that copy that archives the rows it changes into a
-- table it names without its schema (the ILS's roles have the schema on
-- their search path), when the archive is there
CREATE TABLE demo.atk_copy_archive (LIKE demo.atk_copy);
CREATE FUNCTION demo.atk_archive_copy() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    BEGIN
        INSERT INTO atk_copy_archive SELECT OLD.*;
    EXCEPTION WHEN undefined_table THEN NULL;   -- no archive configured
    END;
    RETURN NEW;
END $$;
CREATE TRIGGER atk_archive_copy BEFORE UPDATE ON demo.atk_copy FOR EACH ROW EXECUTE FUNCTION demo.atk_archive_copy();

------------------------------------------------------------------------------
-- the staff account's session
------------------------------------------------------------------------------
\c :atk_db branch_staff
\i test/attack/temp_spy.sql
-- control: the attacker's own cast reaches the spy (as the attacker)
SET atk.door = 'control';
SELECT 'x'::text = 'x' AS domain_live;
-- door 1: an audit entry appended (acknowledge_policy, PUBLIC), chained at commit
SET atk.door = 'audit: acknowledge_policy';
SELECT count(*) AS called FROM (SELECT pals_privacy.acknowledge_policy('attack_search_path')) s;
-- door 2: set_pin (staff), chained at commit
SET atk.door = 'audit: set_pin';
SELECT count(*) AS called FROM (SELECT pals_privacy.set_pin('9002', '4321')) s;
-- door 3: grant_consent (staff), chained at commit
SET atk.door = 'audit: grant_consent';
SELECT count(*) AS called FROM (SELECT pals_privacy.grant_consent('9002', 'notices', 'email', 'attack_search_path')) s;
-- door 4: a return at the desk on an item with hidden history (severing)
SET atk.door = 'sever: a return';
BEGIN;
INSERT INTO demo.loans (id, patron_id, item_id, library_id, checked_out_at, due_at)
VALUES (777001, 2, 90002, 1, '2026-11-01', '2026-11-21');
UPDATE demo.loans SET returned_at = '2026-11-02', fines_settled_at = '2026-11-02' WHERE id = 777001;
COMMIT;
-- door 5: a hold placed and cancelled at the desk (severed as it closes)
SET atk.door = 'sever: a hold closed';
BEGIN;
INSERT INTO demo.holds (id, patron_id, title_id, pickup_library_id, placed_at)
VALUES (777001, 2, 90001, 1, '2026-11-01');
UPDATE demo.holds SET cancelled_at = '2026-11-02' WHERE id = 777001;
COMMIT;

-- door 6: a return that severs a loan with a fine (the fine, a copy, unlinked)
SET atk.door = 'sever: a return unlinking a fine';
BEGIN;
INSERT INTO demo.loans (id, patron_id, item_id, library_id, checked_out_at, due_at)
VALUES (777002, 2, 90003, 1, '2026-10-01', '2026-10-21');
UPDATE demo.loans SET returned_at = '2026-10-25' WHERE id = 777002;
INSERT INTO demo.fines (patron_id, loan_id, loan_checked_out_at, amount, created_at)
VALUES (2, 777002, '2026-10-01', 1.00, '2026-10-25');
UPDATE demo.loans SET fines_settled_at = '2026-10-26' WHERE id = 777002;
INSERT INTO demo.loans (id, patron_id, item_id, library_id, checked_out_at, due_at)
VALUES (777003, 3, 90003, 1, '2026-11-01', '2026-11-21');
UPDATE demo.loans SET returned_at = '2026-11-02', fines_settled_at = '2026-11-02' WHERE id = 777003;
COMMIT;
-- door 7: a notice written into the outbox (its consent checked)
SET atk.door = 'outbox: a notice';
INSERT INTO demo.notice_outbox (patron_id, channel, body) VALUES (9002, 'email', 'attack_search_path');

-- door 8: a return that unlinks a copy keyed by text
SET atk.door = 'copy: a text-keyed copy unlinked';
BEGIN;
INSERT INTO demo.atk_src VALUES ('A', 5, 1, '2026-10-01', '2026-10-01');
INSERT INTO demo.atk_copy (src_code, patron_id) VALUES ('A', 5);
INSERT INTO demo.atk_src VALUES ('B', 6, 1, NULL, NULL);
UPDATE demo.atk_src SET returned_at = '2026-11-01', settled_at = '2026-11-01' WHERE code = 'B';
COMMIT;

-- door 9: the same, with a table of the attacker's named like the ILS
-- trigger's archive, and a trigger of its own on it
SET atk.door = 'copy: an ILS trigger on a copy, fired by the copy''s sever';
\set ECHO none
\o /dev/null
CREATE TABLE pg_temp.atk_copy_archive (LIKE demo.atk_copy);
CREATE FUNCTION pg_temp.atk_grab() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_temp.atk_spy('archive');
    RETURN NEW;
END $$;
CREATE TRIGGER atk_grab BEFORE INSERT ON pg_temp.atk_copy_archive FOR EACH ROW EXECUTE FUNCTION pg_temp.atk_grab();
\o
\set ECHO all
BEGIN;
INSERT INTO demo.atk_src VALUES ('C', 5, 2, '2026-10-01', '2026-10-01');
INSERT INTO demo.atk_copy (src_code, patron_id) VALUES ('C', 5);
INSERT INTO demo.atk_src VALUES ('D', 6, 2, NULL, NULL);
UPDATE demo.atk_src SET returned_at = '2026-11-01', settled_at = '2026-11-01' WHERE code = 'D';
COMMIT;

------------------------------------------------------------------------------
-- the collection agency's session: who owes more than the threshold is
-- worked out by the extension's SQL, as its owner
------------------------------------------------------------------------------
\c :atk_db collections_agency
\i test/attack/temp_spy.sql
SET atk.door = 'collections: the debtors';
SELECT count(*) >= 0 AS read FROM demo.patrons;

------------------------------------------------------------------------------
-- the OPAC's session (class patron): a failed login, chained at commit
------------------------------------------------------------------------------
\c :atk_db opac
\i test/attack/temp_spy.sql
SET atk.door = 'audit: a failed login';
SELECT pals_privacy.login('29011000000011', '0000') AS logged_in;

------------------------------------------------------------------------------
-- the checks, as the superuser
------------------------------------------------------------------------------
\c :atk_db postgres
SET client_min_messages = warning;
\t on
\a
SELECT plan(27);
SELECT is((SELECT string_agg(DISTINCT cu, ',') FROM public.atk_loot WHERE door = 'control'), 'branch_staff',
          'control: the attacker''s own ''x''::text runs its spy, as the attacker');
SELECT is((SELECT max(hidden_seen) FROM public.atk_loot WHERE door = 'control'), 0::bigint,
          'control: the spy, as the attacker, reads the hidden pairs masked');
SELECT ok((SELECT hidden FROM public.atk_truth) > 0, 'control: as the superuser, the spy''s query reads hidden pairs');
-- each door did what it does
SELECT ok(EXISTS (SELECT 1 FROM pals_privacy.audit_log WHERE event = 'policy.acknowledge'),
          'control: acknowledge_policy appended its entry');
SELECT ok(EXISTS (SELECT 1 FROM pals_privacy.audit_log WHERE event = 'pin.set'), 'control: set_pin appended its entry');
SELECT ok(EXISTS (SELECT 1 FROM pals_privacy.audit_log WHERE event = 'consent.grant'),
          'control: grant_consent appended its entry');
SELECT ok(EXISTS (SELECT 1 FROM pals_privacy.audit_log WHERE event = 'login.failed'),
          'control: the failed login appended its entry');
SELECT ok(EXISTS (SELECT 1 FROM demo.loans WHERE id = 777001 AND returned_at IS NOT NULL), 'control: the loan was returned');
SELECT ok(EXISTS (SELECT 1 FROM demo.holds WHERE id = 777001 AND cancelled_at IS NOT NULL), 'control: the hold was closed');
SELECT ok(EXISTS (SELECT 1 FROM demo.fines WHERE patron_id = 2 AND amount = 1.00 AND loan_id IS NULL),
          'control: the fine was unlinked from the severed loan');
SELECT ok(EXISTS (SELECT 1 FROM demo.notice_outbox WHERE body = 'attack_search_path'), 'control: the notice was written');
SELECT ok(EXISTS (SELECT 1 FROM demo.atk_copy WHERE patron_id = 5 AND src_code IS NULL), 'control: the text-keyed copy was unlinked');
-- no door ran the attacker's code as anyone else, or let it read a hidden pair
CREATE FUNCTION pg_temp.door_check(door text, attacker text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    others text;
    seen bigint;
BEGIN
    SELECT string_agg(DISTINCT l.cu, ','), max(l.hidden_seen) INTO others, seen
      FROM public.atk_loot l WHERE l.door = door_check.door AND l.cu <> attacker;
    IF others IS NULL THEN
        RETURN ok(true, door || ': the attacker''s pg_temp.text runs as nobody else');
    END IF;
    RETURN ok(false, door || ': the attacker''s pg_temp.text runs as nobody else') || E'\n' ||
           diag('    HOLE: ran as ' || others || ', read ' || coalesce(seen::text, '?') || ' hidden pairs');
END $$;
SELECT pg_temp.door_check('audit: acknowledge_policy', 'branch_staff');
SELECT pg_temp.door_check('audit: set_pin', 'branch_staff');
SELECT pg_temp.door_check('audit: grant_consent', 'branch_staff');
SELECT pg_temp.door_check('audit: a failed login', 'opac');
SELECT pg_temp.door_check('sever: a return', 'branch_staff');
SELECT pg_temp.door_check('sever: a hold closed', 'branch_staff');
SELECT pg_temp.door_check('sever: a return unlinking a fine', 'branch_staff');
SELECT pg_temp.door_check('outbox: a notice', 'branch_staff');
SELECT pg_temp.door_check('copy: a text-keyed copy unlinked', 'branch_staff');
SELECT pg_temp.door_check('collections: the debtors', 'collections_agency');
-- door 9: the copy's sever is planned and checked as the extension owner but
-- runs as the caller, so the ILS's triggers on the copy run as the caller,
-- as for its own UPDATE (src/spi_util.c, pals_execute_write_as_caller).  Run
-- as the owner, the trigger found the caller's pg_temp table under the safe
-- search path of 17 and later (pg_catalog, pg_temp), and that table's
-- trigger ran as the owner.  On every version: the archive trigger ran (the
-- spy was reached, as the attacker, from 17 on), and as nobody else.
SELECT pg_temp.door_check('copy: an ILS trigger on a copy, fired by the copy''s sever', 'branch_staff');
SELECT ok(CASE WHEN current_setting('server_version_num')::int >= 170000
               THEN EXISTS (SELECT 1 FROM public.atk_loot WHERE door LIKE 'copy: an ILS trigger%' AND cu = 'branch_staff')
               ELSE NOT EXISTS (SELECT 1 FROM public.atk_loot WHERE door LIKE 'copy: an ILS trigger%') END,
          'control: (17 and later) the ILS trigger on the copy found the caller''s temporary table and ran its trigger, as the caller');
SELECT ok(EXISTS (SELECT 1 FROM demo.atk_copy WHERE patron_id = 5 AND src_code IS NULL AND id = (SELECT max(id) FROM demo.atk_copy)),
          'control: the second text-keyed copy was unlinked');
SELECT is((SELECT coalesce(max(hidden_seen), 0) FROM public.atk_loot), 0::bigint,
          'no spy call anywhere read a hidden pair');
SELECT is((SELECT count(*) FROM public.atk_loot WHERE cu NOT IN ('branch_staff', 'opac', 'collections_agency')), 0::bigint,
          'no spy call anywhere ran as another role');
SELECT * FROM finish();
\set ECHO none
\i test/attack/done.sql
