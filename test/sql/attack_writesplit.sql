-- Attack catalogue: writes that tell severed rows from kept ones, on
-- sever_with => 'null' loan bindings and 'unlink' copies.
-- A staff account (branch_staff) with a desk's write rights tries to tell a
-- closed loan kept identified (an opted-in patron's history kept in place:
-- its patron hidden, read as NULL) from one severed already (its patron
-- stored as NULL), and a note on such a kept loan (its link hidden, read as
-- NULL) from one on a severed loan (unlinked: its link stored as NULL).  A
-- severed row reads whole, a kept hidden row does not, and writes reach only
-- rows read whole: an UPDATE ... WHERE patron_id IS NULL RETURNING id that
-- reached the severed rows and not the kept ones would tell them apart (the
-- door attack_sameread2 closed for 'patron:<id>' bindings).  Each check runs
-- one door as the attacker and reads what came out against the ground truth
-- (the superuser's); the ILS, which reads stored values, is the control.
-- Rows a desk writes (open loans, also with NULL patron or second patron,
-- the items' last borrowers, notes on loans it reads) stay writable.
-- See test/attack/fixture.sql.
\set atk_db attack_writesplit
\set ECHO none
\i test/attack/fixture.sql
\set ECHO all
SELECT plan(26);

SET client_min_messages = warning;

-- Loans bound with sever_with => 'null' (history kept in place for opted-in
-- patrons: 12 is, 2 and 3 are not), a second patron column (a proxy), and
-- notes on loans, a copy of the loan's identity unlinked when it is severed.
CREATE SCHEMA ws;
CREATE TABLE ws.loans (id int PRIMARY KEY, patron_id bigint REFERENCES demo.patrons, proxy_id bigint REFERENCES demo.patrons,
                       item_id int NOT NULL, returned timestamptz, note text);
CREATE INDEX ON ws.loans (patron_id);
CREATE INDEX ON ws.loans (proxy_id);
CREATE INDEX ON ws.loans (item_id);
CREATE TABLE ws.notes (id int PRIMARY KEY, loan_id int REFERENCES ws.loans, note text);
CREATE INDEX ON ws.notes (loan_id);
CREATE TABLE ws.charges (id int PRIMARY KEY, loan_id int REFERENCES ws.loans, kind text NOT NULL, amount numeric);
CREATE INDEX ON ws.charges (loan_id);
\o /dev/null
SELECT pals_privacy.bind_loans('ws.loans', 'patron_id', 'item_id', '{returned}', sever_with => 'null',
                               history_mode => 'in_place', more_patron_columns => '{proxy_id}');
SELECT pals_privacy.bind_copy('ws.notes', 'ws.loans', key_column => 'loan_id', sever_with => 'unlink');
SELECT pals_privacy.bind_copy('ws.charges', 'ws.loans', key_column => 'loan_id', sever_with => 'unlink',
                              copy_when => 'kind = ''overdue''');
\o
GRANT USAGE ON SCHEMA ws TO branch_staff, ils_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON ws.loans, ws.notes, ws.charges TO branch_staff, ils_app;
-- (item, patron) in order, each returned when the next goes out; item 2's
-- last loan stays open (row 9 its last borrower); row 11 an open loan
-- without a patron; proxies on rows 1 (kept) and 2 (severed) only; one note
-- per loan, written while it was out
SET ROLE ils_app;
DO $$
DECLARE
    h int[] := ARRAY[[1, 12], [1, 2], [1, 12], [1, 3], [1, 5], [2, 2], [2, 12], [2, 3], [2, 12], [2, 5]];
BEGIN
    FOR i IN 1 .. array_length(h, 1) LOOP
        INSERT INTO ws.loans (id, patron_id, proxy_id, item_id) VALUES (i, h[i][2], CASE WHEN i <= 2 THEN 5 END, h[i][1]);
        INSERT INTO ws.notes (id, loan_id, note) VALUES (i, i, 'note ' || i);
        INSERT INTO ws.charges (id, loan_id, kind, amount) VALUES (i, i, 'overdue', 1);
        IF i > 1 AND h[i - 1][1] = h[i][1] THEN
            UPDATE ws.loans SET returned = now() WHERE id = i - 1;
        END IF;
    END LOOP;
    UPDATE ws.loans SET returned = now() WHERE id = 5;
    INSERT INTO ws.loans (id, patron_id, item_id) VALUES (11, NULL, 3);
    INSERT INTO ws.charges (id, loan_id, kind, amount) VALUES (100, NULL, 'manual', 5);
END $$;
RESET ROLE;

-- Ground truth: the closed loans whose patron staff do not read, kept
-- (still naming a patron) or severed (NULL); the notes on them, kept
-- (linked to a kept loan) or unlinked.
CREATE TABLE pg_temp.ws (rel text, id text, kept boolean);
INSERT INTO pg_temp.ws
SELECT 'loans', l.id::text, l.patron_id IS NOT NULL FROM ws.loans l
 WHERE l.returned IS NOT NULL
   AND NOT EXISTS (SELECT 1 FROM pals_privacy.last_borrower lb
                    WHERE lb.binding = 'ws.loans'::regclass AND lb.row_relid = l.tableoid AND lb.row_tid = l.ctid);
INSERT INTO pg_temp.ws
SELECT 'notes', n.id::text, n.loan_id IS NOT NULL FROM ws.notes n
 WHERE n.loan_id IS NULL OR n.loan_id::text IN (SELECT id FROM pg_temp.ws WHERE rel = 'loans' AND kept);
SELECT is((SELECT string_agg(format('%s: %s kept (%s), %s severed (%s)', rel, k, ki, s, si), '; ' ORDER BY rel)
             FROM (SELECT rel, count(*) FILTER (WHERE kept) k, string_agg(id, ',' ORDER BY id::int) FILTER (WHERE kept) ki,
                          count(*) FILTER (WHERE NOT kept) s, string_agg(id, ',' ORDER BY id::int) FILTER (WHERE NOT kept) si
                     FROM pg_temp.ws GROUP BY rel) x),
          'loans: 3 kept (1,3,7), 4 severed (2,4,6,8); notes: 3 kept (1,3,7), 4 severed (2,4,6,8)',
          'ground truth: kept and severed closed loans, notes on kept loans and unlinked ones');
SELECT is((SELECT string_agg(format('%s:%s/%s', id, coalesce(patron_id::text, '-'), coalesce(proxy_id::text, '-')), ' ' ORDER BY id)
             FROM ws.loans),
          '1:12/5 2:-/- 3:12/- 4:-/- 5:5/- 6:-/- 7:12/- 8:-/- 9:12/- 10:5/- 11:-/-',
          'fixture: severing wrote NULL into both patron columns, kept rows and open ones as written');

-- The doors are judged against this truth (pg_temp.split_of and per_row, test/attack/fixture.sql).
CREATE VIEW pg_temp.kept_truth AS SELECT rel, id, kept FROM pg_temp.ws;

------------------------------------------------------------------------------
-- sever_with => 'null': a hidden patron reads NULL, a severed one is NULL
------------------------------------------------------------------------------
SELECT matches(pg_temp.split_of('ils_app', 'loans', ARRAY['UPDATE ws.loans SET note = note WHERE patron_id IS NULL RETURNING id']), '^split',
               'control: the ILS''s UPDATE ... WHERE patron_id IS NULL reaches the severed loans only');
SELECT is(pg_temp.split_of('branch_staff', 'loans', ARRAY['SELECT id FROM ws.loans WHERE patron_id IS NULL']), 'all',
          'staff: kept and severed closed loans both read with a NULL patron');
SELECT is(pg_temp.split_of('branch_staff', 'loans', ARRAY['UPDATE ws.loans SET note = note WHERE patron_id IS NULL RETURNING id']), 'none',
          'staff: UPDATE ... WHERE patron_id IS NULL RETURNING id reaches neither kept nor severed closed loans');
SELECT is(pg_temp.split_of('branch_staff', 'loans', ARRAY['UPDATE ws.loans SET note = note RETURNING id']), 'none',
          'staff: UPDATE (every row) RETURNING id');
SELECT is(pg_temp.split_of('branch_staff', 'loans', ARRAY['UPDATE ws.loans SET note = note WHERE proxy_id IS NULL RETURNING id']), 'none',
          'staff: UPDATE ... WHERE proxy_id IS NULL (the second patron column) RETURNING id');
SELECT is(pg_temp.split_of('branch_staff', 'loans', ARRAY['DELETE FROM ws.loans WHERE patron_id IS NULL RETURNING id']), 'none',
          'staff: DELETE ... WHERE patron_id IS NULL RETURNING id');
SELECT is(pg_temp.split_of('branch_staff', 'loans', ARRAY['SELECT id FROM ws.loans WHERE patron_id IS NULL FOR KEY SHARE']), 'none',
          'staff: SELECT ... FOR KEY SHARE (a lock reaches rows read whole)');
SELECT is(pg_temp.split_of('branch_staff', 'loans', ARRAY['SELECT id FROM ws.loans WHERE patron_id IS NULL FOR UPDATE SKIP LOCKED']), 'none',
          'staff: SELECT ... FOR UPDATE SKIP LOCKED');
SELECT is(pg_temp.per_row('branch_staff', 'loans', ARRAY['INSERT INTO ws.loans (id, patron_id, item_id) VALUES (%1$s, 5, 99)
                                                          ON CONFLICT (id) DO UPDATE SET note = excluded.note RETURNING ''written'' AS r'], n => NULL), 'alike',
          'staff: INSERT ... ON CONFLICT (id) DO UPDATE on a closed loan');
SELECT is(pg_temp.per_row('branch_staff', 'loans', ARRAY['WITH u AS (UPDATE ws.loans SET note = ''x'' WHERE id = %1$s RETURNING 1) SELECT count(*) AS n FROM u'], n => NULL), 'alike',
          'staff: one row at a time, counted in a CTE');
-- what a desk still writes
SELECT is(pg_temp.probe('branch_staff', ARRAY['UPDATE ws.loans SET note = ''seen'' WHERE id IN (5, 9, 10, 11) RETURNING id']),
          '{"err": null, "rows": [{"id": 5}, {"id": 9}, {"id": 10}, {"id": 11}], "check": null}',
          'staff: a desk still updates the items'' last borrowers (NULL proxy), an open loan (NULL proxy) and an open loan without a patron');
SELECT is(pg_temp.probe('branch_staff', ARRAY['UPDATE ws.loans SET returned = now() WHERE id IN (10, 11) RETURNING id']),
          '{"err": null, "rows": [{"id": 10}, {"id": 11}], "check": null}',
          'staff: a desk still returns an open loan, also one without a patron');
SELECT is(pg_temp.probe('branch_staff', ARRAY['INSERT INTO ws.loans (id, patron_id, item_id) VALUES (12, NULL, 4) ON CONFLICT (id) DO UPDATE SET note = ''x''',
                                              'UPDATE ws.loans SET note = ''seen'' WHERE id = 12 RETURNING id']),
          '{"err": null, "rows": [{"id": 12}], "check": null}',
          'staff: a desk checks out without a patron and updates the row');

------------------------------------------------------------------------------
-- sever_with => 'unlink': a hidden link reads NULL, an unlinked one is NULL
------------------------------------------------------------------------------
SELECT matches(pg_temp.split_of('ils_app', 'notes', ARRAY['UPDATE ws.notes SET note = note WHERE loan_id IS NULL RETURNING id']), '^split',
               'control: the ILS''s UPDATE ... WHERE loan_id IS NULL reaches the unlinked notes only');
SELECT is(pg_temp.split_of('branch_staff', 'notes', ARRAY['SELECT id FROM ws.notes WHERE loan_id IS NULL']), 'all',
          'staff: notes on kept loans and unlinked notes both read with a NULL link');
SELECT is(pg_temp.split_of('branch_staff', 'notes', ARRAY['UPDATE ws.notes SET note = note WHERE loan_id IS NULL RETURNING id']), 'none',
          'staff: UPDATE notes ... WHERE loan_id IS NULL RETURNING id reaches neither');
SELECT is(pg_temp.split_of('branch_staff', 'notes', ARRAY['DELETE FROM ws.notes WHERE loan_id IS NULL RETURNING id']), 'none',
          'staff: DELETE notes ... WHERE loan_id IS NULL RETURNING id');
SELECT is(pg_temp.split_of('branch_staff', 'notes', ARRAY['SELECT id FROM ws.notes WHERE loan_id IS NULL FOR SHARE']), 'none',
          'staff: SELECT notes ... FOR SHARE');
SELECT is(pg_temp.per_row('branch_staff', 'notes', ARRAY['INSERT INTO ws.notes (id, note) VALUES (%1$s, ''x'')
                                                          ON CONFLICT (id) DO UPDATE SET note = excluded.note RETURNING ''written'' AS r'], n => NULL), 'alike',
          'staff: INSERT notes ... ON CONFLICT (id) DO UPDATE');
-- what a desk still writes: notes on loans it reads
SELECT is(pg_temp.probe('branch_staff', ARRAY['UPDATE ws.notes SET note = ''seen'' WHERE id IN (5, 9, 10) RETURNING id']),
          '{"err": null, "rows": [{"id": 5}, {"id": 9}, {"id": 10}], "check": null}',
          'staff: a desk still updates the notes on loans whose patron it reads');
SELECT is(pg_temp.probe('branch_staff', ARRAY['INSERT INTO ws.notes (id, loan_id, note) VALUES (20, 10, ''new'')',
                                              'UPDATE ws.notes SET note = ''seen'' WHERE id = 20 RETURNING id']),
          '{"err": null, "rows": [{"id": 20}], "check": null}',
          'staff: a desk writes a note on an open loan and updates it');
-- the price (docs/redaction.md "Writes"): a row that reads as severing
-- left it is one staff do not write, also where the ILS wrote it so
SELECT is(pg_temp.probe('branch_staff', ARRAY['INSERT INTO ws.notes (id, loan_id, note) VALUES (21, NULL, ''general'')',
                                              'UPDATE ws.notes SET note = ''seen'' WHERE id = 21 RETURNING id',
                                              'SELECT id, loan_id, note FROM ws.notes WHERE id = 21']),
          '{"err": null, "rows": [{"id": 21, "note": "general", "loan_id": null}], "check": null}',
          'staff: a note written without a loan reads as an unlinked one: read, not updated');
SELECT is(pg_temp.probe('branch_staff', ARRAY['UPDATE ws.loans SET returned = now() WHERE id = 11',
                                              'UPDATE ws.loans SET note = ''seen'' WHERE id = 11 RETURNING id',
                                              'SELECT id, patron_id FROM ws.loans WHERE id = 11']),
          '{"err": null, "rows": [{"id": 11, "patron_id": null}], "check": null}',
          'staff: a loan without a patron, once returned, reads as a severed one: read, not updated');
-- ... unless copy_when says it is no copy: a manual charge (copy_when
-- false) stays writable, unlinked overdue charges and those of kept loans
-- are reached by neither
SELECT is(pg_temp.probe('branch_staff', ARRAY['UPDATE ws.charges SET amount = amount WHERE loan_id IS NULL RETURNING id']),
          '{"err": null, "rows": [{"id": 100}], "check": null}',
          'staff: of the charges whose link reads NULL, the one copy_when says is no copy is updated, no overdue charge');

SELECT * FROM finish();
\set ECHO none
\i test/attack/done.sql
