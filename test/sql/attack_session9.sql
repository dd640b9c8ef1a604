-- Attacks on the mechanisms of the 2026-12-04/05 sessions (helper attack9),
-- from a desk (class staff, with the writes a desk needs: INSERT/UPDATE on
-- the loans and bookings), the online catalogue (class patron, after login),
-- a collection agency, an auditor and a mailing account (staff narrowed to a
-- purpose), each with TEMP on the database (PUBLIC has it by default).
-- Most holes here are one family: the extension runs code of the ILS's (its
-- triggers, a function in its balance view, a function in a binding's
-- condition) as the extension owner, a superuser, inside the attacker's
-- session, whose temporary schema PostgreSQL searches for relations and
-- types: first under a path that does not list pg_temp (a function of the
-- ILS's that pins its own, 'SET search_path = s9, public'), last under
-- 'pg_catalog, pg_temp'.  The spy the attacker leaves there runs as the
-- superuser and reads Eve's hidden loan.
--   A. closed (was a HOLE): a patron who withdraws its reading-history
--      opt-in has its kept loans severed by _history_optout() (SECURITY
--      DEFINER) through _sever_one_as: the ILS's triggers on the loans and,
--      through the copy's sever, on a derived copy (17 and later) run as the
--      patron's role, which finds its own temporary table (door 9's shape in
--      attack_search_path).  The same triggers fired by a desk's own return
--      run as the desk (pals_execute_write_as_caller).
--   B. closed: a constraint of the copy failing in the middle of the copy's
--      sever (run as the desk) leaves no role switched, no value of the
--      former borrower's copy row reaches the desk (pending, a WARNING).
--   C. closed: last-borrower groups as a desk: an opted-in patron's archived
--      loans stay hidden whatever the desk does to the group's last borrower.
--   D. closed (was a HOLE on 17 and later): the collection agency's reads
--      have the extension read the ILS's balance view as its owner
--      (_collectible), and so does a patron's my_data(); in a session with
--      temporary objects the view, which calls a function of the ILS's, is
--      not read as the owner (src/owner_code_guard.c): nobody reads as a
--      debtor, my_data() refuses (42501).  Controls: sessions before their
--      first temporary object.
--   E. closed (was a HOLE on 17 and later): a desk's closed booking had the
--      sever evaluate settled_when, an immutable ILS function naming its type
--      unqualified, as the owner; in a session with temporary objects it is
--      not (an item's first return is not searched; a previous booking the
--      direct write does not sever is left pending).  Control: a desk's
--      session without temporary objects.
--   F. closed (was a HOLE): a mailing account narrowed to the newsletter
--      recorded the newsletter consent itself, then read the email; a role
--      narrowed to a purpose records no consent now (42501).
--   G. closed (was a HOLE on every version): an auditor's
--      compliance_report() read the balance view as the owner; in a session
--      with temporary objects it refuses (42501).
-- Each actor runs in a session of its own (\c), so that its temporary schema
-- is its own; the checks run afterwards, as the superuser.  A database of its
-- own: the sessions commit.
SELECT current_database() AS as9_home, current_user AS as9_super \gset
\o /dev/null
SET client_min_messages = warning;
DROP DATABASE IF EXISTS attack_session9 WITH (FORCE);
CREATE DATABASE attack_session9;
DO $$ BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'regress_as9_opac') THEN
        CREATE ROLE regress_as9_opac;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'regress_as9_desk') THEN
        CREATE ROLE regress_as9_desk;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'regress_as9_coll') THEN
        CREATE ROLE regress_as9_coll;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'regress_as9_mailer') THEN
        CREATE ROLE regress_as9_mailer;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'regress_as9_aud') THEN
        CREATE ROLE regress_as9_aud;
    END IF;
END $$;
ALTER ROLE regress_as9_opac LOGIN;
ALTER ROLE regress_as9_desk LOGIN;
ALTER ROLE regress_as9_coll LOGIN;
ALTER ROLE regress_as9_mailer LOGIN;
ALTER ROLE regress_as9_aud LOGIN;
\c attack_session9
SET client_min_messages = warning;
\set VERBOSITY terse
CREATE EXTENSION pals_privacy;
CREATE EXTENSION pgtap;
\o

------------------------------------------------------------------------------
-- the consortium: patrons, loans kept in place for those who opted in, a
-- derived copy of each loan; the ILS's triggers keep a trail of what changed
-- in tables they name without their schema (the ILS's roles have s9 on their
-- search path), when one is there
------------------------------------------------------------------------------
CREATE SCHEMA s9;
GRANT USAGE ON SCHEMA s9 TO PUBLIC;
CREATE TABLE s9.patrons (id bigint PRIMARY KEY, card text UNIQUE, name text NOT NULL,
                         expires date NOT NULL DEFAULT 'infinity', keep_history boolean NOT NULL DEFAULT false,
                         email text);
INSERT INTO s9.patrons (id, card, name, keep_history) VALUES
    (0, NULL, 'anonymous', false), (1, 'C1', 'Ann Optin', true), (2, 'C2', 'Ben Desk', false),
    (3, 'C3', 'Cy Later', false), (5, 'C5', 'Eve Hidden', true);
INSERT INTO s9.patrons (id, card, name, expires) VALUES (6, 'C6', 'Gus Expired', '2020-01-01');
UPDATE s9.patrons SET email = 'p' || id || '@example.org' WHERE id > 0;
CREATE TABLE s9.loans (id int PRIMARY KEY, patron_id bigint NOT NULL REFERENCES s9.patrons, item_id int NOT NULL,
                       returned timestamptz);
CREATE INDEX ON s9.loans (item_id);
CREATE INDEX ON s9.loans (patron_id);
CREATE TABLE s9.summary (loan_id int PRIMARY KEY, patron_id bigint, note text,
                         CONSTRAINT summary_kept CHECK (patron_id IS NOT NULL OR note NOT LIKE 'keep:%'));
CREATE FUNCTION s9.loan_trail() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    BEGIN
        INSERT INTO loan_trail VALUES (OLD.id);
    EXCEPTION WHEN undefined_table THEN NULL;   -- no trail configured
    END;
    RETURN NEW;
END $$;
CREATE TRIGGER loan_trail AFTER UPDATE ON s9.loans FOR EACH ROW EXECUTE FUNCTION s9.loan_trail();
CREATE FUNCTION s9.summary_trail() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    BEGIN
        INSERT INTO summary_trail VALUES (OLD.loan_id);
    EXCEPTION WHEN undefined_table THEN NULL;
    END;
    RETURN NEW;
END $$;
CREATE TRIGGER summary_trail BEFORE UPDATE ON s9.summary FOR EACH ROW EXECUTE FUNCTION s9.summary_trail();
-- item 10: Ann (opted in: kept in place), then Cy (the last borrower); item 11: Eve (opted in:
-- kept, hidden from everyone but her), then Cy; item 13: Cy, whose summary the ILS keeps
-- ('keep:', the CHECK refuses to unlink it)
INSERT INTO s9.loans VALUES (1, 1, 10, '2025-01-10'), (2, 3, 10, '2025-02-10'), (3, 5, 11, '2025-01-10'),
                            (4, 3, 11, '2025-02-10'), (7, 3, 13, '2025-03-10');
INSERT INTO s9.summary SELECT id, patron_id, CASE WHEN id = 7 THEN 'keep: Cy Later''s summary' ELSE 'loan ' || id END
  FROM s9.loans;
-- the amounts owed (D): fines, and a view of the balance per patron through a function of the
-- ILS's that pins its own search path (a common hardening, which leaves pg_temp searched first)
CREATE TABLE s9.fines (patron_id bigint NOT NULL REFERENCES s9.patrons, amount numeric NOT NULL);
INSERT INTO s9.fines VALUES (2, 50), (3, 5);
CREATE FUNCTION s9.owed(p bigint) RETURNS numeric LANGUAGE sql STABLE SET search_path = s9, public AS $$
    SELECT coalesce(sum(amount), 0) FROM fines WHERE patron_id = p
$$;
CREATE VIEW s9.balances AS SELECT p.id AS patron_id, s9.owed(p.id) AS owed FROM s9.patrons p;
-- bookings (E), settled when paid: a condition through an immutable function of the ILS's that
-- pins its own search path and names the ILS's type of the state without its schema
CREATE TYPE s9.booking_state AS ENUM ('open', 'paid');
CREATE FUNCTION s9.is_paid(state text) RETURNS boolean LANGUAGE plpgsql IMMUTABLE SET search_path = s9, public AS $$
BEGIN
    RETURN state::booking_state = 'paid';
END $$;
CREATE TABLE s9.bookings (id int PRIMARY KEY, patron_id bigint, item_id int NOT NULL, ended timestamptz,
                          state text NOT NULL DEFAULT 'open');
\o /dev/null
SELECT pals_privacy.bind_patrons('s9.patrons', 'id', 'expires', card_column => 'card', name_columns => '{name}',
                                 keep_history_column => 'keep_history');
SELECT pals_privacy.bind_balance('s9.balances', 'patron_id', 'owed');
SELECT pals_privacy.classify_role('regress_as9_coll', 'collections');
SELECT pals_privacy.bind_contact('s9.patrons', 'email', 'id', 'email');
-- (F) the newsletter's mailing account: staff, narrowed to the purpose 'newsletter'
SELECT pals_privacy.classify_role('regress_as9_mailer', 'staff', purpose => 'newsletter');
SELECT pals_privacy.classify_role('regress_as9_aud', 'auditor');
SELECT pals_privacy.bind_loans('s9.loans', 'patron_id', 'item_id', '{returned}', sever_with => 'patron:0',
                               history_mode => 'in_place');
SELECT pals_privacy.bind_copy('s9.summary', 's9.loans', 'loan_id', 'patron_id', source_key => 'id');
SELECT pals_privacy.bind_loans('s9.bookings', 'patron_id', 'item_id', '{ended}', settled_when => 's9.is_paid(state)');
SELECT pals_privacy.classify_role('regress_as9_opac', 'patron');
SELECT pals_privacy.classify_role('regress_as9_desk', 'staff');
SET pals_privacy.pin_iterations = 10000;
SELECT pals_privacy.set_pin('1', '1111');
RESET pals_privacy.pin_iterations;
CALL pals_privacy.sever_backlog();
\o
GRANT SELECT ON s9.patrons, s9.loans, s9.summary TO regress_as9_opac, regress_as9_desk, regress_as9_coll, regress_as9_mailer;
GRANT UPDATE (keep_history) ON s9.patrons TO regress_as9_opac;     -- the catalogue's opt-in page
GRANT INSERT, UPDATE ON s9.loans TO regress_as9_desk;
GRANT SELECT, INSERT, UPDATE ON s9.bookings TO regress_as9_desk;
-- what the attacker's spy records: the trail it stood in for, who it ran as, whether a
-- superuser, and how many of Eve's loans (hidden from both attackers) it read
CREATE TABLE public.as9_loot (actor text, door text, cu text, super boolean, hidden_seen bigint);
GRANT SELECT, INSERT ON public.as9_loot TO PUBLIC;
-- what the attackers saw otherwise
CREATE TABLE public.as9_seen (actor text, what text, value text);
GRANT SELECT, INSERT ON public.as9_seen TO PUBLIC;
-- the spy each attacker makes in its own temporary schema: test/attack/session9_spy.sql

------------------------------------------------------------------------------
-- A. the catalogue's session (class patron): Ann withdraws her opt-in
------------------------------------------------------------------------------
\c attack_session9 regress_as9_opac
SET client_min_messages = warning;
SET as9.actor = 'opac';
SELECT pals_privacy.login('C1', '1111') AS logged_in;
INSERT INTO public.as9_seen SELECT 'opac', 'Eve''s loans read', count(*)::text FROM s9.loans WHERE patron_id = 5;
-- D's control: my_data() before the session has any temporary object (a DO block makes none)
DO $$ BEGIN
    INSERT INTO public.as9_seen SELECT 'opac', 'my_data, no temporary objects',
        CASE WHEN pals_privacy.my_data() IS NOT NULL THEN 'read' END;
EXCEPTION WHEN OTHERS THEN
    INSERT INTO public.as9_seen VALUES ('opac', 'my_data, no temporary objects', SQLSTATE || ': ' || SQLERRM);
END $$;
\i test/attack/session9_spy.sql
-- her kept loan of item 10 is severed at once, by the extension's trigger function
-- _history_optout() (SECURITY DEFINER: it runs as the extension owner)
UPDATE s9.patrons SET keep_history = false WHERE id = 1;
-- D: the patron's own data (my_data(), run as the owner) with the balance view's function
-- reading the patron's own view named like its table
CREATE FUNCTION pg_temp.as9_view_spy() RETURNS SETOF record LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_catalog.set_config('as9.loot', current_user || ' super=' ||
            (SELECT r.rolsuper FROM pg_catalog.pg_roles r WHERE r.rolname = current_user) || ' read ' ||
            (SELECT pg_catalog.count(*) FROM s9.loans l WHERE l.patron_id = 5), false);
    RETURN;
END $$;
CREATE TEMP VIEW fines AS SELECT * FROM pg_temp.as9_view_spy() AS f(patron_id bigint, amount numeric);
CREATE FUNCTION pg_temp.as9_my_data() RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    RETURN CASE WHEN pals_privacy.my_data() IS NOT NULL THEN 'read' END;
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END $$;
INSERT INTO public.as9_seen SELECT 'opac', 'my_data', pg_temp.as9_my_data();
INSERT INTO public.as9_seen SELECT 'opac', 'spy', current_setting('as9.loot', true);

------------------------------------------------------------------------------
-- A and B. the desk's session (class staff): two returns
------------------------------------------------------------------------------
\c attack_session9 regress_as9_desk
SET client_min_messages = warning;
SET as9.actor = 'desk';
\i test/attack/session9_spy.sql
-- a return of item 10: Cy, its last borrower, is severed with his summary
INSERT INTO s9.loans VALUES (8, 2, 10, NULL);
UPDATE s9.loans SET returned = '2025-04-10' WHERE id = 8;
-- a return of item 13: Cy's summary cannot be unlinked (the copy's CHECK fails in the middle
-- of the copy's sever, which runs as the desk): what the desk catches, then who it is
CREATE FUNCTION pg_temp.as9_return(loan int, patron bigint, item int) RETURNS text LANGUAGE plpgsql AS $$
DECLARE st text; msg text; det text;
BEGIN
    INSERT INTO s9.loans VALUES (loan, patron, item, NULL);
    UPDATE s9.loans SET returned = '2025-04-10' WHERE id = loan;
    RETURN 'returned';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL;
    RETURN st || ': ' || msg || ' / ' || coalesce(det, '');
END $$;
INSERT INTO public.as9_seen SELECT 'desk', 'return of item 13', pg_temp.as9_return(9, 2, 13);
INSERT INTO public.as9_seen SELECT 'desk', 'after: who, Eve''s loans read, loan 7''s patron',
    current_user || ' ' || (SELECT count(*) FROM s9.loans WHERE patron_id = 5) || ' '
    || (SELECT patron_id FROM s9.loans WHERE id = 7);
-- E. two closed bookings of one item: the second severs the first, whose settled condition the
-- extension evaluates as its owner (the sever's probe); the desk's type, named like the ILS's,
-- notes in a setting each role its CHECK ran as (it runs in an immutable function: read-only)
CREATE FUNCTION pg_temp.as9_type_spy(v text) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_catalog.set_config('as9.loot', coalesce(pg_catalog.current_setting('as9.loot', true), '') || ' ' ||
            current_user || ':' || (SELECT r.rolsuper FROM pg_catalog.pg_roles r WHERE r.rolname = current_user) || ':' ||
            (SELECT pg_catalog.count(*) FROM s9.loans l WHERE l.patron_id = 5), false);
    RETURN true;
END $$;
CREATE DOMAIN pg_temp.booking_state AS text CHECK (pg_temp.as9_type_spy(VALUE));
CREATE FUNCTION pg_temp.as9_book() RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO s9.bookings VALUES (1, 2, 30, '2025-01-01', 'paid');
    INSERT INTO s9.bookings VALUES (2, 3, 30, '2025-02-01', 'paid');
    RETURN 'booked';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END $$;
INSERT INTO public.as9_seen SELECT 'desk', 'bookings', pg_temp.as9_book();
-- item 32: an unsettled closed booking, then a paid one: the sever finds the first not severed
-- by its direct write and would probe it as the owner, through the condition: left pending
CREATE FUNCTION pg_temp.as9_book2() RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO s9.bookings VALUES (5, 2, 32, '2025-01-01', 'open');
    INSERT INTO s9.bookings VALUES (6, 3, 32, '2025-02-01', 'paid');
    RETURN 'booked';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END $$;
SET client_min_messages = error;     -- 17 and later: the WARNING of the pending row (its reason is checked)
INSERT INTO public.as9_seen SELECT 'desk', 'bookings of item 32', pg_temp.as9_book2();
SET client_min_messages = warning;
INSERT INTO public.as9_seen SELECT 'desk', 'type spy', current_setting('as9.loot', true);

------------------------------------------------------------------------------
-- D. the collection agency's session: who owes more than the threshold is read
-- from the balance view by the extension, as its owner (src/redact_runtime.c)
------------------------------------------------------------------------------
\c attack_session9 regress_as9_coll
SET client_min_messages = warning;
SET as9.actor = 'collections';
-- D's control: the agency's read before the session has any temporary object
DO $$ BEGIN
    INSERT INTO public.as9_seen SELECT 'collections', 'names read, no temporary objects',
        (SELECT coalesce(string_agg(name, ',' ORDER BY id), '-') FROM s9.patrons WHERE name IS NOT NULL);
EXCEPTION WHEN OTHERS THEN
    INSERT INTO public.as9_seen VALUES ('collections', 'names read, no temporary objects', SQLSTATE || ': ' || SQLERRM);
END $$;
\i test/attack/session9_spy.sql
-- a view of its own named like the ILS function's table, whose rows come from the spy (which
-- notes in a setting who it ran as and what it read: it runs inside a read-only query)
CREATE FUNCTION pg_temp.as9_view_spy() RETURNS SETOF record LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_catalog.set_config('as9.loot', current_user || ' super=' ||
            (SELECT r.rolsuper FROM pg_catalog.pg_roles r WHERE r.rolname = current_user) || ' read ' ||
            (SELECT pg_catalog.count(*) FROM s9.loans l WHERE l.patron_id = 5), false);
    RETURN;
END $$;
CREATE TEMP VIEW fines AS SELECT * FROM pg_temp.as9_view_spy() AS f(patron_id bigint, amount numeric);
CREATE FUNCTION pg_temp.as9_read() RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    RETURN (SELECT coalesce(string_agg(name, ',' ORDER BY id), '-') FROM s9.patrons WHERE name IS NOT NULL);
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END $$;
INSERT INTO public.as9_seen SELECT 'collections', 'names read', pg_temp.as9_read();
INSERT INTO public.as9_seen SELECT 'collections', 'spy', current_setting('as9.loot', true);

------------------------------------------------------------------------------
-- G. the auditor's session: the compliance report (SECURITY DEFINER, run as the
-- extension owner) reads the balance view too
------------------------------------------------------------------------------
\c attack_session9 regress_as9_aud
SET client_min_messages = warning;
-- G's control: the report before the session has any temporary object
DO $$ BEGIN
    INSERT INTO public.as9_seen SELECT 'auditor', 'report, no temporary objects', CASE WHEN count(*) > 0 THEN 'read' END
      FROM pals_privacy.compliance_report();
EXCEPTION WHEN OTHERS THEN
    INSERT INTO public.as9_seen VALUES ('auditor', 'report, no temporary objects', SQLSTATE || ': ' || SQLERRM);
END $$;
CREATE FUNCTION pg_temp.as9_view_spy() RETURNS SETOF record LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_catalog.set_config('as9.loot', current_user || ' super=' ||
            (SELECT r.rolsuper FROM pg_catalog.pg_roles r WHERE r.rolname = current_user) || ' read ' ||
            (SELECT pg_catalog.count(*) FROM s9.loans l WHERE l.patron_id = 5), false);
    RETURN;
END $$;
CREATE TEMP VIEW fines AS SELECT * FROM pg_temp.as9_view_spy() AS f(patron_id bigint, amount numeric);
DO $$ BEGIN
    INSERT INTO public.as9_seen SELECT 'auditor', 'report', CASE WHEN count(*) > 0 THEN 'read' END
      FROM pals_privacy.compliance_report();
EXCEPTION WHEN OTHERS THEN
    INSERT INTO public.as9_seen VALUES ('auditor', 'report', SQLSTATE || ': ' || SQLERRM);
END $$;
INSERT INTO public.as9_seen SELECT 'auditor', 'spy', current_setting('as9.loot', true);

------------------------------------------------------------------------------
-- F. the newsletter's mailing account (staff, purpose 'newsletter'): Ben never
-- consented to the newsletter; the account records his consent itself
------------------------------------------------------------------------------
\c attack_session9 regress_as9_mailer
SET client_min_messages = warning;
INSERT INTO public.as9_seen SELECT 'mailer', 'Ben''s email, before', coalesce((SELECT email FROM s9.patrons WHERE id = 2), '-');
DO $$ BEGIN
    PERFORM pals_privacy.grant_consent('2', 'newsletter', 'email', 'signed form');
    INSERT INTO public.as9_seen VALUES ('mailer', 'grant_consent', 'recorded');
EXCEPTION WHEN OTHERS THEN
    INSERT INTO public.as9_seen VALUES ('mailer', 'grant_consent', SQLSTATE || ': ' || SQLERRM);
END $$;
INSERT INTO public.as9_seen SELECT 'mailer', 'Ben''s email, after', coalesce((SELECT email FROM s9.patrons WHERE id = 2), '-');

------------------------------------------------------------------------------
-- E's control: a desk's session without temporary objects, two closed bookings of item 31
------------------------------------------------------------------------------
\c attack_session9 regress_as9_desk
SET client_min_messages = warning;
DO $$ BEGIN
    INSERT INTO s9.bookings VALUES (3, 2, 31, '2025-01-01', 'paid');
    INSERT INTO s9.bookings VALUES (4, 3, 31, '2025-02-01', 'paid');
    INSERT INTO public.as9_seen VALUES ('desk', 'bookings, no temporary objects', 'booked');
EXCEPTION WHEN OTHERS THEN
    INSERT INTO public.as9_seen VALUES ('desk', 'bookings, no temporary objects', SQLSTATE || ': ' || SQLERRM);
END $$;
-- F's control: a desk (staff without a purpose) records Cy's newsletter consent
SELECT pals_privacy.grant_consent('3', 'newsletter', 'email', 'signed form') IS NULL AS recorded;

------------------------------------------------------------------------------
-- the checks, as the superuser
------------------------------------------------------------------------------
\c attack_session9 :as9_super
SET client_min_messages = warning;
\set VERBOSITY terse
SELECT rolname AS as9_owner FROM pg_roles r JOIN pg_extension e ON e.extowner = r.oid WHERE e.extname = 'pals_privacy' \gset
SELECT plan(40);

-- A: controls
SELECT is((SELECT count(*) FROM s9.loans WHERE patron_id = 5), 1::bigint,
          'control: Eve''s closed loan of item 11 is kept identified in place (she opted in)');
SELECT is((SELECT value FROM public.as9_seen WHERE actor = 'opac' AND what = 'Eve''s loans read'), '0',
          'control: Ann''s catalogue session reads none of Eve''s loans');
SELECT is((SELECT patron_id FROM s9.loans WHERE id = 1)::text || '/' || (SELECT coalesce(patron_id::text, '-') FROM s9.summary WHERE loan_id = 1),
          '0/-', 'control: the withdrawal severed Ann''s kept loan (to the placeholder) and unlinked its summary');
SELECT ok((SELECT rolsuper FROM pg_roles WHERE rolname = :'as9_owner'), 'control: the extension owner is a superuser');
-- A: the hole
SELECT is((SELECT string_agg(cu || ' super=' || super || ' read ' || hidden_seen, ', ') FROM public.as9_loot
            WHERE actor = 'opac' AND door = 'loan_trail'),
          'regress_as9_opac super=false read 0',
          'closed: a patron who withdraws its reading-history opt-in has the ILS''s trigger on the loans run as the patron''s role (_history_optout severs through _sever_one_as): the patron''s temporary table''s trigger runs as the patron and reads nothing hidden');
SELECT is((SELECT string_agg(cu || ' super=' || super || ' read ' || hidden_seen, ', ') FROM public.as9_loot
            WHERE actor = 'opac' AND door = 'summary_trail'),
          CASE WHEN current_setting('server_version_num')::int >= 170000 THEN 'regress_as9_opac super=false read 0' END,
          'closed: the same through the copy''s sever: the ILS''s trigger on the summary runs as the patron''s role (17 and later, where the copy''s sever searches pg_temp; before 17 it does not search the temporary schema)');
-- A: the desk's own return (door 9's fix): the same triggers run as the desk
SELECT is((SELECT patron_id FROM s9.loans WHERE id = 2)::text || '/' || (SELECT coalesce(patron_id::text, '-') FROM s9.summary WHERE loan_id = 2),
          '0/-', 'control: the desk''s return of item 10 severed Cy''s loan and unlinked its summary');
SELECT is((SELECT string_agg(DISTINCT cu || ' super=' || super || ' read ' || hidden_seen, ', ') FROM public.as9_loot
            WHERE actor = 'desk' AND door = 'loan_trail'),
          'regress_as9_desk super=false read 0',
          'closed: a desk''s return runs the ILS''s trigger on the loans as the desk (its spy reads nothing hidden)');
SELECT is((SELECT count(*) FROM public.as9_loot WHERE actor = 'desk' AND (cu <> 'regress_as9_desk' OR super OR hidden_seen > 0)), 0::bigint,
          'closed: and the one on the copy, where reached (17 and later), as the desk too');
SELECT ok(CASE WHEN current_setting('server_version_num')::int >= 170000
               THEN EXISTS (SELECT FROM public.as9_loot WHERE actor = 'desk' AND door = 'summary_trail')
               ELSE NOT EXISTS (SELECT FROM public.as9_loot WHERE actor = 'desk' AND door = 'summary_trail') END,
          'control: (17 and later) the copy''s sever of the desk''s return reached the desk''s temporary table');

-- D: the balance view read as the owner
SELECT is((SELECT value FROM public.as9_seen WHERE actor = 'collections' AND what = 'names read'),
          '42501: the collections read of bound balances would run code of the ILS as the extension owner in a session with temporary objects',
          'closed: the collection agency''s read of the patrons in a session with temporary relations refuses (redact_runtime.c, rest14: before 17 it failed, on 17 and later it read the agency''s view)');
SELECT is((SELECT value FROM public.as9_seen WHERE actor = 'collections' AND what = 'spy'), NULL,
          'closed: the agency''s view named like the table of the ILS''s function never runs (it ran as a superuser and read Eve''s hidden loan, 17 and later)');
SELECT is((SELECT value FROM public.as9_seen WHERE actor = 'collections' AND what = 'names read, no temporary objects'),
          CASE WHEN current_setting('server_version_num')::int >= 170000 THEN 'Ben Desk'
               ELSE '42P01: relation "fines" does not exist' END,
          'control: the agency''s session before it made any temporary object reads the one patron who owes more than the threshold (Ben, 50); before 17 the view fails as the owner for everyone');
CREATE FUNCTION pg_temp.as9_read() RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    RETURN (SELECT coalesce(string_agg(name, ',' ORDER BY id), '-') FROM s9.patrons WHERE name IS NOT NULL);
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END $$;
SET ROLE regress_as9_coll;
SELECT is(pg_temp.as9_read(),
          CASE WHEN current_setting('server_version_num')::int >= 170000 THEN 'Ben Desk'
               ELSE '42P01: relation "fines" does not exist' END,
          'control: a temporary schema that holds only a superuser''s objects (this session''s: pgTAP''s) is no door: the agency reads the debtor (before 17 the view fails as the owner for everyone)');
RESET ROLE;

SELECT is((SELECT value FROM public.as9_seen WHERE actor = 'opac' AND what = 'my_data'),
          '42501: my_data() reading s9.balances would run code of the ILS as the extension owner in a session with temporary objects',
          'closed: the patron''s my_data() in a session with temporary objects refuses to read the balance view of the ILS''s as the owner (42501, a hint to reconnect)');
SELECT is((SELECT value FROM public.as9_seen WHERE actor = 'opac' AND what = 'spy'), NULL,
          'closed: the patron''s temporary view never runs (it ran as a superuser, 17 and later)');
SELECT is((SELECT value FROM public.as9_seen WHERE actor = 'opac' AND what = 'my_data, no temporary objects'),
          CASE WHEN current_setting('server_version_num')::int >= 170000 THEN 'read'
               ELSE '42P01: relation "fines" does not exist' END,
          'control: my_data() before the session made any temporary object: read (before 17 it fails, the balance view''s function finding no table under the safe path)');

-- E: a loan binding's condition evaluated as the owner
SELECT is((SELECT value FROM public.as9_seen WHERE actor = 'desk' AND what = 'bookings'),
          CASE WHEN current_setting('server_version_num')::int >= 170000 THEN 'booked'
               ELSE '42704: type "booking_state" does not exist' END,
          'the desk''s two closed bookings of item 30: (17 and later) booked; before 17 refused: the ILS''s function fails under the extension''s safe path, which overrides the function''s own');
SELECT is((SELECT string_agg(id || ':' || coalesce(patron_id::text, '-'), ' ' ORDER BY id) FROM s9.bookings WHERE item_id = 30),
          CASE WHEN current_setting('server_version_num')::int >= 170000 THEN '1:- 2:3' END,
          'control: (17 and later) the second booking severed the first (its settled condition read by the sever, as the owner)');
SELECT ok(coalesce((SELECT value FROM public.as9_seen WHERE actor = 'desk' AND what = 'type spy'), '') NOT LIKE '%:true:%',
          'closed (the HOLE of 17 and later): a loan binding''s settled_when calls an immutable function of the ILS''s that pins its search path (s9, public) and names its type without schema; the sever evaluates it as the extension owner in the desk''s session, where the desk''s domain pg_temp.booking_state comes first: its CHECK ran as a superuser and read Eve''s hidden loan; now that condition is never evaluated as the owner in a session with temporary objects (the item''s first return is not searched, the previous booking is severed by the direct write, as the desk)');
SELECT is((SELECT value FROM public.as9_seen WHERE actor = 'desk' AND what = 'bookings of item 32') || ' / ' ||
          coalesce((SELECT string_agg(p.reason, ',') FROM pals_privacy.sever_pending p WHERE p.binding = 's9.bookings'::regclass), '-'),
          CASE WHEN current_setting('server_version_num')::int >= 170000
               THEN 'booked / its sever would run code of the ILS as the extension owner in a session with temporary objects'
               ELSE '42704: type "booking_state" does not exist / -' END,
          'closed: (17 and later) a previous booking the direct write does not sever (unsettled) would be probed as the owner through the condition: left pending instead, for the maintenance run (before 17 the booking fails, as above)');
SELECT is((SELECT value FROM public.as9_seen WHERE actor = 'desk' AND what = 'bookings, no temporary objects') || ' / ' ||
          coalesce((SELECT string_agg(id || ':' || coalesce(patron_id::text, '-'), ' ' ORDER BY id) FROM s9.bookings WHERE item_id = 31), '-'),
          CASE WHEN current_setting('server_version_num')::int >= 170000 THEN 'booked / 3:- 4:3'
               ELSE '42704: type "booking_state" does not exist / -' END,
          'control: a desk''s session without temporary objects: the second booking of item 31 severs the first (before 17 the ILS''s function fails under the safe path)');

-- G: the compliance report reads the balance view as the owner, on every version
SELECT is((SELECT value FROM public.as9_seen WHERE actor = 'auditor' AND what = 'spy'), NULL,
          'closed (the HOLE of every version): an auditor''s compliance_report() (SECURITY DEFINER, search path pg_catalog, pg_temp) reads the ILS''s balance view as the extension owner; the view''s function, which pins its own search path, finds the auditor''s temporary view first, whose function ran as a superuser and read Eve''s hidden loan; now never run');
SELECT is((SELECT value FROM public.as9_seen WHERE actor = 'auditor' AND what = 'report'),
          '42501: reading the balance relation s9.balances would run code of the ILS as the extension owner in a session with temporary objects',
          'closed: the report in the auditor''s session with temporary objects refuses (42501, a hint to reconnect)');
SELECT is((SELECT value FROM public.as9_seen WHERE actor = 'auditor' AND what = 'report, no temporary objects'), 'read',
          'control: the report before the session made any temporary object: read');

-- F: the mailing account's own consent
SELECT is((SELECT value FROM public.as9_seen WHERE actor = 'mailer' AND what = 'Ben''s email, before'), '-',
          'control: the mailing account, narrowed to the newsletter, reads no email of Ben, who never consented to it');
SELECT is((SELECT value FROM public.as9_seen WHERE actor = 'mailer' AND what = 'grant_consent') || ' / ' ||
          (SELECT value FROM public.as9_seen WHERE actor = 'mailer' AND what = 'Ben''s email, after'),
          '42501: permission denied for grant_consent / -',
          'closed: the account narrowed to the newsletter cannot record Ben''s newsletter consent itself (42501), so still reads no email of his');
SELECT is((SELECT coalesce(string_agg(patron || ':' || recorded_by, ',' ORDER BY patron), '-') FROM pals_privacy.consent_history WHERE purpose = 'newsletter'),
          '3:regress_as9_desk',
          'closed: nothing of Ben''s recorded in consent_history; control: a desk, staff without a purpose, records Cy''s newsletter consent');

-- B: the copy's constraint failing in the middle of its sever, run as the desk
CREATE FUNCTION pg_temp.as9_detail(sql text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE det text;
BEGIN
    EXECUTE sql;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS det = PG_EXCEPTION_DETAIL;
    RETURN det;
END $$;
SELECT ok(pg_temp.as9_detail('UPDATE s9.summary SET patron_id = NULL WHERE loan_id = 7') LIKE '%keep: Cy Later%',
          'control: unlinking Cy''s summary fails with a DETAIL that holds the row (his name), as the superuser catches it');
SELECT is((SELECT value FROM public.as9_seen WHERE actor = 'desk' AND what = 'return of item 13'), 'returned',
          'closed: the desk''s return of item 13 goes through, nothing caught: the failed sever of Cy''s loan is made pending (a WARNING naming the relation)');
SELECT is((SELECT reason FROM pals_privacy.sever_pending WHERE binding <> 's9.bookings'::regclass), 'new row for relation "summary" violates check constraint "summary_kept"',
          'control: Cy''s loan is pending, for the copy''s constraint');
SELECT is((SELECT value FROM public.as9_seen WHERE actor = 'desk' AND what LIKE 'after:%'), 'regress_as9_desk 0 0',
          'closed: after the failure in the middle of the copy''s sever the desk is still the desk, reads none of Eve''s loans, and reads the pending loan of Cy masked');
SELECT is((SELECT patron_id FROM s9.loans WHERE id = 7), 3::bigint, 'ground truth: the pending loan still names Cy');

------------------------------------------------------------------------------
-- C. last-borrower groups, as a desk
------------------------------------------------------------------------------
\o /dev/null
\set unbind_schema s9
\i test/unbind_schema.sql
\o
CREATE SCHEMA g9;
CREATE TABLE g9.patrons (id bigint PRIMARY KEY, name text NOT NULL, expires date NOT NULL DEFAULT 'infinity',
                         keep_history boolean NOT NULL DEFAULT false);
INSERT INTO g9.patrons (id, name, keep_history) VALUES (0, 'anonymous', false), (2, 'Ben', false), (3, 'Cy', false),
                                                      (4, 'Di', false), (5, 'Eve Optin', true);
CREATE TABLE g9.loans (id int PRIMARY KEY, patron_id bigint NOT NULL REFERENCES g9.patrons, item_id int NOT NULL,
                       returned timestamptz);
CREATE INDEX ON g9.loans (item_id);
CREATE TABLE g9.archive (id int PRIMARY KEY, patron_id bigint NOT NULL REFERENCES g9.patrons, item_id int NOT NULL,
                         returned timestamptz NOT NULL);
CREATE INDEX ON g9.archive (item_id);
\o /dev/null
SELECT pals_privacy.bind_patrons('g9.patrons', 'id', 'expires', name_columns => '{name}', keep_history_column => 'keep_history');
SELECT pals_privacy.bind_loans('g9.loans', 'patron_id', 'item_id', '{returned}', sever_with => 'patron:0',
                               history_mode => 'in_place');
SELECT pals_privacy.bind_loans('g9.archive', 'patron_id', 'item_id', '{returned}', sever_with => 'patron:0',
                               history_mode => 'in_place', last_borrower_group => 'g9.loans');
\o
GRANT USAGE ON SCHEMA g9 TO regress_as9_desk;
GRANT SELECT, INSERT, UPDATE ON g9.loans, g9.archive TO regress_as9_desk;
GRANT SELECT ON g9.patrons TO regress_as9_desk;
-- items 20, 21, 22: Eve's loan (opted in: kept identified, in place), moved by the ILS into the
-- archive; then Cy's, returned later, in the loans: Cy is each item's last borrower
INSERT INTO g9.loans SELECT i, 5, i, NULL FROM generate_series(20, 22) i;
UPDATE g9.loans SET returned = '2025-01-10' WHERE item_id BETWEEN 20 AND 22;
BEGIN;
DELETE FROM g9.loans WHERE item_id BETWEEN 20 AND 22;
INSERT INTO g9.archive SELECT i, 5, i, '2025-01-10' FROM generate_series(20, 22) i;
COMMIT;
INSERT INTO g9.loans SELECT 100 + i, 3, i, NULL FROM generate_series(20, 22) i;
UPDATE g9.loans SET returned = '2025-02-10' WHERE item_id BETWEEN 20 AND 22;
-- how often a role reads Eve on an item, across the group (0: she stays hidden)
CREATE FUNCTION pg_temp.as9_eve(item int) RETURNS bigint LANGUAGE sql AS $$
    SELECT (SELECT count(*) FROM g9.loans WHERE item_id = item AND patron_id = 5)
         + (SELECT count(*) FROM g9.archive WHERE item_id = item AND patron_id = 5)
$$;
SELECT is((SELECT count(*) FROM g9.archive WHERE patron_id = 5)::text || '/' ||
          (SELECT string_agg(item_id::text, ',' ORDER BY item_id) FROM g9.loans WHERE patron_id = 3),
          '3/20,21,22', 'control: Eve''s archived loans of items 20-22 are kept identified; Cy is each item''s last borrower');
SET ROLE regress_as9_desk;
SELECT is(pg_temp.as9_eve(20) + pg_temp.as9_eve(21) + pg_temp.as9_eve(22), 0::bigint, 'closed: the desk reads Eve on none of them');
-- item 20: the desk re-opens Cy's loan, reads, closes it again back-dated before Eve's
UPDATE g9.loans SET returned = NULL WHERE id = 120;
SELECT is(pg_temp.as9_eve(20), 0::bigint, 'closed: the group''s last borrower re-opened by the desk: Eve, archived, stays hidden');
UPDATE g9.loans SET returned = '2024-06-01' WHERE id = 120;
SELECT is(pg_temp.as9_eve(20), 0::bigint,
          'closed: closed again by the desk, back-dated before Eve''s archived return: Eve stays hidden');
-- item 21: the desk gives Cy's loan another item, then returns a new loan of item 21 back-dated
UPDATE g9.loans SET item_id = 29 WHERE id = 121;
INSERT INTO g9.loans VALUES (201, 2, 21, NULL);
UPDATE g9.loans SET returned = '2024-06-01' WHERE id = 201;
SELECT is(pg_temp.as9_eve(21), 0::bigint,
          'closed: the last borrower''s loan moved to another item, a new loan of the item returned back-dated: Eve stays hidden');
-- item 22: the desk writes a back-dated closed row into the archive, then re-opens Cy's loan
INSERT INTO g9.archive VALUES (202, 4, 22, '2024-06-01');
UPDATE g9.loans SET returned = NULL WHERE id = 122;
SELECT is(pg_temp.as9_eve(22), 0::bigint,
          'closed: a back-dated archive row of the desk''s, the last borrower re-opened: Eve stays hidden');
RESET ROLE;
SELECT is(pg_temp.as9_eve(20) || '/' || pg_temp.as9_eve(21) || '/' || pg_temp.as9_eve(22), '1/1/1',
          'control: the superuser reads Eve''s archived loan of each item: still identified (the checks above are real)');

SELECT * FROM finish();
\o /dev/null
\c :as9_home :as9_super
DROP DATABASE attack_session9 WITH (FORCE);
DROP ROLE regress_as9_opac;
DROP ROLE regress_as9_desk;
DROP ROLE regress_as9_coll;
DROP ROLE regress_as9_mailer;
DROP ROLE regress_as9_aud;
