-- Closed and settled as conditions over the row (closed_when, settled_when):
-- validated at bind time; the severing trigger, the extension's SQL (purge's
-- open-loan check, the backlog) and redaction all use the same condition.
-- The shape is an Evergreen-like circulation table: a lost or
-- claims-returned loan that was paid is closed although checkin_time stays
-- NULL.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pals_privacy;
SET datestyle = ISO;
SET timezone = UTC;

BEGIN;
SELECT plan(20);

CREATE SCHEMA ic;
CREATE TABLE ic.patrons (id bigint PRIMARY KEY, expires date NOT NULL DEFAULT 'infinity');
INSERT INTO ic.patrons (id) SELECT generate_series(0, 9);
CREATE TABLE ic.circ (id int PRIMARY KEY, usr bigint REFERENCES ic.patrons, target_copy int NOT NULL,
                      xact_start timestamptz NOT NULL, checkin_time timestamptz, xact_finish timestamptz,
                      stop_fines text, balance numeric NOT NULL DEFAULT 0);
CREATE INDEX ON ic.circ (usr);
CREATE INDEX ON ic.circ (target_copy);
-- history from before binding (bound with build_tracker => false: untracked)
INSERT INTO ic.circ VALUES
    (1, 1, 100, '2024-01-01', '2024-01-10', '2024-01-10', NULL, 0),       -- returned, paid
    (2, 2, 101, '2024-01-01', NULL, '2024-02-01', 'LOST', 0),             -- lost and paid: closed
    (3, 3, 102, '2024-01-01', NULL, NULL, 'LOST', 5),                     -- lost, not paid: open
    (4, 4, 103, '2024-01-01', NULL, '2024-01-20', NULL, 0),               -- finished without a return or a stop: open
    (5, 5, 104, '2024-01-01', '2024-01-10', NULL, NULL, 2);               -- returned, fines owed: closed, not settled

CREATE FUNCTION pg_temp.fails(call text, code text, message text, description text)
RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE st text; msg text;
BEGIN
    BEGIN
        EXECUTE call;
        RETURN NEXT fail(description || ' (no error)');
        RETURN;
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT;
    END;
    RETURN NEXT is(st || ': ' || msg, code || ': ' || message, description);
END $$;

SELECT lives_ok($$SELECT pals_privacy.bind_patrons('ic.patrons', 'id', 'expires')$$, 'patrons bound');
-- conditions that cannot be right
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_loans('ic.circ', 'usr', 'target_copy', '{checkin_time,xact_finish}',
        closed_when => 'stop_reason = ''LOST''')$$,
    '42703', 'column "stop_reason" does not exist', 'a condition naming a column the table does not have');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_loans('ic.circ', 'usr', 'target_copy', '{checkin_time,xact_finish}',
        closed_when => 'usr IN (SELECT id FROM ic.patrons)')$$,
    '0A000', 'cannot use subquery in check constraint', 'a condition with a subquery');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_loans('ic.circ', 'usr', 'target_copy', '{checkin_time,xact_finish}',
        closed_when => 'random() > 0.5')$$,
    '22023', 'closed_when must not call volatile functions: random() > 0.5', 'a condition that is volatile');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_loans('ic.circ', 'usr', 'target_copy', '{checkin_time,xact_finish}',
        closed_when => 'balance + 1')$$,
    '42804', 'argument of closed_when must be type boolean, not type numeric', 'a condition that is not boolean');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_loans('ic.circ', 'usr', 'target_copy', '{checkin_time,xact_finish}',
        closed_when => 'true) FROM ic.patrons WHERE (true')$$,
    '42601', 'closed_when is not one expression: true) FROM ic.patrons WHERE (true', 'a condition that is more than an expression');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_loans('ic.circ', 'usr', 'target_copy', '{checkin_time,xact_finish}',
        settled_column => 'xact_finish', settled_when => 'balance = 0')$$,
    '22023', 'bind_loans: give settled_column or settled_when, not both', 'settled_column and settled_when together');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_loans('ic.circ', 'usr', 'target_copy', '{checkin_time,stop_fines}')$$,
    '42804', 'bind_loans: closed columns must share one type, but "stop_fines" is text and the first is timestamp with time zone',
    'closed columns of different types without a condition');
SELECT is((SELECT count(*) FROM pals_privacy.loan_binding), 0::bigint, 'none of these bound anything');

SELECT lives_ok($$SELECT pals_privacy.bind_loans('ic.circ', 'usr', 'target_copy', '{checkin_time,xact_finish}',
        closed_when => 'checkin_time IS NOT NULL OR (stop_fines IN (''LOST'', ''CLAIMSRETURNED'') AND xact_finish IS NOT NULL)',
        settled_when => 'balance = 0', sever_with => 'null', build_tracker => false)$$, 'bound with closed_when and settled_when');
SELECT is((SELECT settings ->> 'closed_when' FROM pals_privacy.bindings WHERE relation = 'ic.circ'::regclass),
          'checkin_time IS NOT NULL OR (stop_fines IN (''LOST'', ''CLAIMSRETURNED'') AND xact_finish IS NOT NULL)',
          'the condition is kept as given and shown in bindings');

-- the SQL of the extension: purge's open-loan check
SELECT is((SELECT array_agg(x ORDER BY x) FROM pals_privacy._patrons_with_open_rows(ARRAY['1', '2', '3', '4', '5']) x),
          '{3,4}'::text[], 'open rows by the condition: the unpaid lost loan, the finished one that was neither returned nor stopped');

-- redaction: staff see the current account (open or unsettled), not closed rows
CREATE ROLE regress_ic_staff;
SELECT pals_privacy.classify_role('regress_ic_staff', 'staff');
GRANT USAGE ON SCHEMA ic TO regress_ic_staff;
GRANT SELECT, UPDATE ON ic.circ TO regress_ic_staff;
SET ROLE regress_ic_staff;
SELECT is((SELECT string_agg(id || ':' || coalesce(usr::text, '-'), ' ' ORDER BY id) FROM ic.circ),
          '1:- 2:- 3:3 4:4 5:5', 'staff see the patron of open and unsettled rows only, by the conditions');
RESET ROLE;

-- severing by the condition: item 101 is lent again and lost, and paid
INSERT INTO ic.circ VALUES (6, 6, 101, '2024-03-01', NULL, NULL, NULL, 0);
UPDATE ic.circ SET stop_fines = 'LOST', balance = 10 WHERE id = 6;
SELECT is((SELECT usr FROM ic.circ WHERE id = 2), 2::bigint, 'a loan marked lost but not paid is not closed: nothing severed');
UPDATE ic.circ SET xact_finish = '2024-04-01', balance = 0 WHERE id = 6;
SELECT is((SELECT string_agg(id || ':' || coalesce(usr::text, '-'), ' ' ORDER BY id) FROM ic.circ WHERE target_copy = 101),
          '2:- 6:6', 'once paid it is closed: it is the item''s last borrower and the earlier row is severed');
SELECT is((SELECT row_relid::regclass || ' ' || (SELECT id FROM ic.circ c WHERE c.ctid = lb.row_tid)
             FROM pals_privacy.last_borrower lb WHERE item = '101'), 'ic.circ 6', 'the tracker points at it');
-- a claims-returned loan that is then paid, on an item whose last borrower owes a fine
INSERT INTO ic.circ VALUES (7, 7, 104, '2024-03-01', NULL, NULL, 'CLAIMSRETURNED', 0);
UPDATE ic.circ SET xact_finish = '2024-04-02' WHERE id = 7;
SELECT is((SELECT string_agg(id || ':' || coalesce(usr::text, '-'), ' ' ORDER BY id) FROM ic.circ WHERE target_copy = 104),
          '5:5 7:7', 'the earlier row with a fine owed (balance 2: not settled) keeps its patron');
UPDATE ic.circ SET balance = 0 WHERE id = 5;
SELECT is((SELECT string_agg(id || ':' || coalesce(usr::text, '-'), ' ' ORDER BY id) FROM ic.circ WHERE target_copy = 104),
          '5:- 7:7', 'and loses it once settled by the condition');
-- the trigger's WHEN clause is the condition too
SELECT ok((SELECT pg_get_triggerdef(oid) FROM pg_trigger WHERE tgrelid = 'ic.circ'::regclass AND tgname = 'pals_privacy_sever')
          ~ 'stop_fines', 'the severing trigger fires by the condition');

-- the backlog uses it: a fresh table bound with the condition
CREATE TABLE ic.circ2 (LIKE ic.circ);
INSERT INTO ic.circ2 VALUES
    (1, 1, 200, '2024-01-01', '2024-01-10', '2024-01-10', NULL, 0),
    (2, 2, 200, '2024-02-01', NULL, '2024-03-01', 'LOST', 0),
    (3, 3, 200, '2024-04-01', NULL, '2024-04-20', NULL, 0);   -- open by the condition
SELECT pals_privacy.bind_loans('ic.circ2', 'usr', 'target_copy', '{checkin_time,xact_finish}',
        closed_when => 'checkin_time IS NOT NULL OR (stop_fines IN (''LOST'', ''CLAIMSRETURNED'') AND xact_finish IS NOT NULL)',
        settled_when => 'balance = 0');
SELECT results_eq($$SELECT closed_rows, to_sever, last_borrowers FROM pals_privacy.sever_backlog_preview() WHERE relation = 'ic.circ2'::regclass$$,
                  $$VALUES (2::bigint, 1::bigint, 1::bigint)$$,
                  'the backlog''s preview: two closed rows (the open one is not), one to sever, the lost-and-paid one the last borrower');

SELECT * FROM finish();
ROLLBACK;
