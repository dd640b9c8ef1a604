-- The reading-history opt-in in other shapes than a boolean column (issue
-- 14): Koha's borrowers.privacy is a smallint (0 keep forever, 1 default,
-- 2 never); keep_history_when says which values opt in.  Checked at bind
-- time; used by the severing trigger, the backlog, the compliance report
-- and the opt-out trigger alike.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pals_privacy;

BEGIN;
SELECT plan(13);

CREATE SCHEMA iop;
CREATE TABLE iop.borrowers (borrowernumber bigint PRIMARY KEY, dateexpiry date NOT NULL DEFAULT 'infinity',
                            privacy smallint NOT NULL DEFAULT 1, flags text);
INSERT INTO iop.borrowers (borrowernumber, privacy) VALUES (0, 1), (1, 0), (2, 1), (3, 2), (4, 0);
CREATE TABLE iop.issues (id int PRIMARY KEY, borrowernumber bigint REFERENCES iop.borrowers, itemnumber int NOT NULL,
                         returndate timestamptz);
-- items 10 and 11: two returns each before binding, patrons 1 (opted in) and 2
INSERT INTO iop.issues VALUES (1, 1, 10, '2024-01-01'), (2, 2, 10, '2024-02-01'), (3, 2, 11, '2024-01-01'),
                              (4, 1, 11, '2024-02-01'), (5, 4, 10, '2024-03-01');

CREATE FUNCTION pg_temp.fails(call text, code text, message text, description text)
RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE st text; msg text; hint text;
BEGIN
    BEGIN
        EXECUTE call;
        RETURN NEXT fail(description || ' (no error)');
        RETURN;
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, hint = PG_EXCEPTION_HINT;
    END;
    RETURN NEXT is(st || ': ' || msg, code || ': ' || message, description);
END $$;

SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_patrons('iop.borrowers', 'borrowernumber', 'dateexpiry',
                                                               keep_history_column => 'privacy')$$,
    '42804', 'bind_patrons: column "privacy" of relation "iop.borrowers" has type smallint, which cannot be the reading-history opt-in column',
    'a smallint flag alone is refused (the hint says keep_history_when)');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_patrons('iop.borrowers', 'borrowernumber', 'dateexpiry',
                                                               keep_history_when => 'privacy = 0')$$,
    '22023', 'bind_patrons: keep_history_when needs keep_history_column', 'a condition needs the column whose change it follows');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_patrons('iop.borrowers', 'borrowernumber', 'dateexpiry',
                                                               keep_history_column => 'privacy', keep_history_when => 'privacy + 1')$$,
    '42804', 'argument of keep_history_when must be type boolean, not type integer', 'the condition must be boolean');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_patrons('iop.borrowers', 'borrowernumber', 'dateexpiry',
                                                               keep_history_column => 'privacy', keep_history_when => 'privacy = 0 AND random() < 1')$$,
    '22023', 'keep_history_when must not call volatile functions: privacy = 0 AND random() < 1', 'nothing volatile');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_patrons('iop.borrowers', 'borrowernumber', 'dateexpiry',
                                                               keep_history_column => 'privacy', keep_history_when => 'privcy = 0')$$,
    '42703', 'column "privcy" does not exist', 'a column that is not there');
SELECT is((SELECT count(*) FROM pals_privacy.patron_binding), 0::bigint, 'nothing bound by the failed calls');

SELECT lives_ok($$SELECT pals_privacy.bind_patrons('iop.borrowers', 'borrowernumber', 'dateexpiry',
                                                   keep_history_column => 'privacy', keep_history_when => 'privacy = 0')$$,
                'bound with privacy = 0 as the opt-in');
SELECT is((SELECT settings ->> 'keep_history_when' FROM pals_privacy.bindings WHERE kind = 'patrons'), 'privacy = 0',
          'the bindings view shows the condition');
SELECT pals_privacy.bind_loans('iop.issues', 'borrowernumber', 'itemnumber', '{returndate}', sever_with => 'null',
                               history_mode => 'in_place');

-- the backlog's preview: item 10's row 1 (patron 1, privacy 0) is kept in place, row 2 (patron 2) severed;
-- item 11's row 3 (patron 2) severed; rows 4 and 5 are last borrowers
SELECT is((SELECT format('%s closed, %s to sever, %s last borrowers, %s kept opted in', closed_rows, to_sever, last_borrowers, kept_opted_in)
             FROM pals_privacy.sever_backlog_preview()),
          '5 closed, 2 to sever, 2 last borrowers, 1 kept opted in', 'the backlog reads the opt-in through the condition');

-- the severing trigger: a return by patron 3 of item 11 keeps row 4 (patron 1 opted in) in place
INSERT INTO iop.issues VALUES (6, 3, 11, NULL);
UPDATE iop.issues SET returndate = '2024-04-01' WHERE id = 6;
SELECT is((SELECT borrowernumber FROM iop.issues WHERE id = 4), 1::bigint,
          'a return keeps the previous last borrower''s row when privacy = 0');
-- and severs it for privacy 1: patron 2 returned item 12, then patron 3 did
INSERT INTO iop.issues VALUES (7, 2, 12, '2024-01-01'), (8, 3, 12, NULL);
UPDATE iop.issues SET returndate = '2024-05-01' WHERE id = 8;
SELECT is((SELECT borrowernumber FROM iop.issues WHERE id = 7), NULL::bigint,
          'a return severs the previous last borrower''s row when privacy = 1');
-- withdrawing the opt-in (privacy 0 -> 2) severs what was kept (the opt-out trigger follows the condition)
UPDATE iop.borrowers SET privacy = 2 WHERE borrowernumber = 1;
SELECT is((SELECT string_agg(id || ':' || coalesce(borrowernumber::text, '-'), ' ' ORDER BY id) FROM iop.issues WHERE id IN (1, 4)),
          '1:- 4:-', 'privacy 0 -> 2: patron 1''s kept rows are severed');
UPDATE iop.borrowers SET flags = 'x' WHERE borrowernumber = 4;
SELECT is((SELECT borrowernumber FROM iop.issues WHERE id = 5), 4::bigint,
          'a change of another column of an opted-in patron severs nothing');

SELECT * FROM finish();
ROLLBACK;
