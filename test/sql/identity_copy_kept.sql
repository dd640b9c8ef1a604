-- A copy's rule keeps its answers across statements (issue 17, src/redact_copies.c, "Answers
-- kept across statements"), only where nothing but the key and the data under the snapshot
-- decides them, and only while the snapshot sees what they were read under.  Within one
-- session (another session's commits: test/specs/copy-kept-answers.spec):
--   1. own changes: a statement after the session's own change reads the change (a hidden
--      source opened by the session); a change undone by the rollback of a subtransaction (the
--      command counter does not go back) reads as undone;
--   2. roles: staff, auditor and a logged-in patron one after another, each as the ground
--      truth (patron 3 after patron 1 reads a fine of their own linked to patron 1's loan
--      without the link); with require_acknowledgment on, a staff user who acknowledged the policy and
--      one who did not (SET SESSION AUTHORIZATION between two statements, nothing written in
--      between), each as their own acknowledgment says; a patron after another patron;
--   3. a rule whose answers are kept is read back from them: a copy row inserted under the key
--      after the first read (same transaction, a later command) reads as its source says.
-- Each read runs in its own statement inside one function call, so that nothing the test
-- harness writes between statements (pgTAP records each check) ends the kept answers.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pals_privacy;

BEGIN;
SELECT plan(13);

CREATE SCHEMA ck;
CREATE TABLE ck.patrons (id bigint PRIMARY KEY, expires date NOT NULL DEFAULT 'infinity', card text UNIQUE);
INSERT INTO ck.patrons (id, card) SELECT g, 'CK-' || g FROM generate_series(0, 9) g;
CREATE TABLE ck.loans (id int PRIMARY KEY, patron_id bigint REFERENCES ck.patrons, item_id int NOT NULL,
                       returned date);
INSERT INTO ck.loans VALUES
    (1, 1, 10, '2024-01-10'),    -- closed before binding, not tracked: hidden from staff
    (2, 2, 11, NULL),            -- open
    (3, 3, 12, '2024-01-12');    -- closed, hidden
CREATE TABLE ck.fines (id int PRIMARY KEY, loan_id int, patron_id bigint, created date);
INSERT INTO ck.fines VALUES (11, 1, 1, '2024-01-10'), (21, 2, 2, '2024-01-11'), (31, 3, 3, '2024-01-12');
SELECT pals_privacy.bind_patrons('ck.patrons', 'id', 'expires', card_column => 'card');
SELECT pals_privacy.bind_loans('ck.loans', 'patron_id', 'item_id', '{returned}', build_tracker => false);
SELECT pals_privacy.bind_copy('ck.fines', 'ck.loans', key_column => 'loan_id', patron_column => 'patron_id',
                              sever_with => 'unlink', hide_columns => '{created}');

CREATE ROLE regress_ck_staff;
CREATE ROLE regress_ck_clerk;
CREATE ROLE regress_ck_auditor;
CREATE ROLE regress_ck_opac;
SELECT pals_privacy.classify_role('regress_ck_staff', 'staff');
SELECT pals_privacy.classify_role('regress_ck_clerk', 'staff');
SELECT pals_privacy.classify_role('regress_ck_auditor', 'auditor');
SELECT pals_privacy.classify_role('regress_ck_opac', 'patron');
GRANT USAGE ON SCHEMA ck TO regress_ck_staff, regress_ck_clerk, regress_ck_auditor, regress_ck_opac;
GRANT SELECT ON ALL TABLES IN SCHEMA ck TO regress_ck_staff, regress_ck_clerk, regress_ck_auditor, regress_ck_opac;
SET pals_privacy.pin_iterations = 10000;
SELECT pals_privacy.set_pin('1', '1111');
SELECT pals_privacy.set_pin('3', '3333');
-- staff (clerk) acknowledged the policy; staff (regress_ck_staff) did not
INSERT INTO pals_privacy.policy_acknowledgments (role, version, acknowledged_at)
    VALUES ('regress_ck_clerk', '2025-1', now());

-- every fine as a role reads it: id:patron/link/created
CREATE FUNCTION pg_temp.fines() RETURNS text LANGUAGE plpgsql AS $$
DECLARE r text;
BEGIN
    EXECUTE 'SELECT string_agg(id || '':'' || coalesce(patron_id::text, ''-'') || ''/'' || coalesce(loan_id::text, ''-'')
                               || ''/'' || coalesce(to_char(created, ''MM-DD''), ''-''), '' '' ORDER BY id) FROM ck.fines' INTO r;
    RETURN coalesce(r, '');
END $$;

-- 1. own changes, statement after statement of one transaction (each line: one statement)
CREATE FUNCTION pg_temp.own_changes() RETURNS text[] LANGUAGE plpgsql AS $$
DECLARE r text[] := '{}';
BEGIN
    SET LOCAL ROLE regress_ck_staff;
    r := r || pg_temp.fines();                                 -- 1 hidden, 2 open, 3 hidden
    r := r || pg_temp.fines();                                 -- the same, from the kept answers
    RESET ROLE;
    UPDATE ck.loans SET returned = NULL WHERE id = 1;          -- the desk opens loan 1 again
    SET LOCAL ROLE regress_ck_staff;
    r := r || pg_temp.fines();                                 -- 1 visible
    RESET ROLE;
    -- a change undone: an exception block is a subtransaction, rolled back with the error
    BEGIN
        UPDATE ck.loans SET returned = NULL WHERE id = 3;      -- loan 3 opened ...
        SET LOCAL ROLE regress_ck_staff;
        r := r || pg_temp.fines();                             -- ... 3 visible
        RAISE EXCEPTION 'undo' USING ERRCODE = 'P0001';
    EXCEPTION WHEN raise_exception THEN
        NULL;
    END;
    SET LOCAL ROLE regress_ck_staff;
    r := r || pg_temp.fines();                                 -- ... and the opening undone: 3 hidden
    RESET ROLE;
    RETURN r;
END $$;
SELECT pg_temp.own_changes() AS own \gset
SELECT is(:'own'::text[], ARRAY['11:-/-/- 21:2/2/01-11 31:-/-/-', '11:-/-/- 21:2/2/01-11 31:-/-/-',
                                '11:1/1/01-10 21:2/2/01-11 31:-/-/-',
                                '11:1/1/01-10 21:2/2/01-11 31:3/3/01-12', '11:1/1/01-10 21:2/2/01-11 31:-/-/-'],
          'staff, statement after statement: hidden, hidden again, opened, opened in a subtransaction, rolled back');
SELECT is((:'own'::text[])[3], '11:1/1/01-10 21:2/2/01-11 31:-/-/-',
          'a fine reads as visible in the statement after the session opens its loan');
SELECT is((:'own'::text[])[5], '11:1/1/01-10 21:2/2/01-11 31:-/-/-',
          'a fine whose loan was opened in a rolled-back subtransaction reads as hidden after the rollback');
SELECT is((SELECT returned FROM ck.loans WHERE id = 3), '2024-01-12'::date, 'loan 3 is closed (the opening was undone)');

-- 2. roles, one after another with nothing written in between
CREATE FUNCTION pg_temp.roles() RETURNS text[] LANGUAGE plpgsql AS $$
DECLARE r text[] := '{}';
BEGIN
    SET LOCAL ROLE regress_ck_staff;
    r := r || pg_temp.fines();
    SET LOCAL ROLE regress_ck_auditor;
    r := r || pg_temp.fines();
    SET LOCAL ROLE regress_ck_opac;
    PERFORM pals_privacy.login('CK-1', '1111');
    r := r || pg_temp.fines();
    PERFORM pals_privacy.logout();
    PERFORM pals_privacy.login('CK-3', '3333');
    r := r || pg_temp.fines();
    PERFORM pals_privacy.logout();
    SET LOCAL ROLE regress_ck_staff;
    r := r || pg_temp.fines();
    RESET ROLE;
    RETURN r;
END $$;
UPDATE ck.loans SET returned = NULL WHERE id = 1;   -- loan 1 open: every class but the auditor reads its patron
-- a fine of patron 3's account linked to patron 1's loan: patron 3 reads it without the link
INSERT INTO ck.fines VALUES (13, 1, 3, '2024-01-13');
SELECT pg_temp.roles() AS roles \gset
DELETE FROM ck.fines WHERE id = 13;
SELECT is((:'roles'::text[])[1], '11:1/1/01-10 13:3/1/01-13 21:2/2/01-11 31:-/-/-', 'staff: loans 1 and 2 open, 3 hidden');
SELECT is((:'roles'::text[])[2], '11:-/-/- 13:-/-/- 21:-/-/- 31:-/-/-', 'then an auditor: no patron, link or time');
SELECT is((:'roles'::text[])[3], '11:1/1/01-10', 'then patron 1 logged in: their own fine, whole');
SELECT is((:'roles'::text[])[4], '13:3/-/- 31:3/3/01-12',
          'then patron 3: their own fine, whole (their own loan, closed), and without link or time the fine linked to patron 1''s loan');
SELECT is((:'roles'::text[])[5], (:'roles'::text[])[1], 'then staff again: as before');

-- ... with require_acknowledgment on: the one who acknowledged reads the patrons, the other not
SET pals_privacy.require_acknowledgment = on;
CREATE FUNCTION pg_temp.acknowledgment() RETURNS text[] LANGUAGE plpgsql AS $$
DECLARE r text[] := '{}';
BEGIN
    SET SESSION AUTHORIZATION regress_ck_clerk;
    r := r || pg_temp.fines();
    SET SESSION AUTHORIZATION regress_ck_staff;
    r := r || pg_temp.fines();
    SET SESSION AUTHORIZATION regress_ck_clerk;
    r := r || pg_temp.fines();
    RESET SESSION AUTHORIZATION;
    RETURN r;
END $$;
SELECT pg_temp.acknowledgment() AS ack \gset
RESET pals_privacy.require_acknowledgment;
SELECT is((:'ack'::text[])[1], '11:1/1/01-10 21:2/2/01-11 31:-/-/-',
          'require_acknowledgment: the staff user who acknowledged reads the open loans'' fines');
SELECT is((:'ack'::text[])[2], '11:-/-/- 21:-/-/- 31:-/-/-',
          '... the next statement, by a staff user who did not, reads no loan''s patron, so no fine''s patron, link or time');
SELECT is((:'ack'::text[])[3], (:'ack'::text[])[1], '... and the first one again as before');

-- 3. kept answers serve a row written later under a known key
CREATE FUNCTION pg_temp.later_row() RETURNS text[] LANGUAGE plpgsql AS $$
DECLARE r text[] := '{}';
BEGIN
    SET LOCAL ROLE regress_ck_staff;
    r := r || pg_temp.fines();
    RESET ROLE;
    INSERT INTO ck.fines VALUES (12, 1, 1, '2024-03-01'), (32, 3, 3, '2024-03-02');
    SET LOCAL ROLE regress_ck_staff;
    r := r || pg_temp.fines();
    r := r || pg_temp.fines();
    RESET ROLE;
    RETURN r;
END $$;
SELECT is((pg_temp.later_row())[2:3],
          ARRAY['11:1/1/01-10 12:1/1/03-01 21:2/2/01-11 31:-/-/- 32:-/-/-',
                '11:1/1/01-10 12:1/1/03-01 21:2/2/01-11 31:-/-/- 32:-/-/-'],
          'fines written under known keys read as their loans say, twice');

SELECT * FROM finish();
ROLLBACK;
