-- Returns of one visit (issue 14, Evergreen's open item): copies a patron
-- brings back together share their return time, a closed column.  When one
-- of them stays its copy's last borrower (staff read its patron) and the
-- others are severed, a join on that time gives the severed rows their
-- patron back.  Listing the closed column in bind_loans' hide_columns closes
-- it: where the class does not read the row's patron, a closed column's
-- time reads '-infinity' (shown 'x') and NULL stays NULL, so "returned_at IS
-- NULL" still counts the open loans the ILS counts; other hidden columns
-- (the checkout time) read NULL, so durations are NULL, not errors.  Each attempt runs on two
-- tables with the same history: one bound without the column in
-- hide_columns (the attack works by the day: the control; closed_precision's
-- default reads the time to the day there), one with it.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pals_privacy;
SET datestyle = ISO;
SET timezone = UTC;

BEGIN;
SELECT plan(16);

CREATE SCHEMA ivr;
CREATE TABLE ivr.patrons (id bigint PRIMARY KEY, expires date NOT NULL DEFAULT 'infinity');
INSERT INTO ivr.patrons (id) SELECT generate_series(1, 5);
CREATE TABLE ivr.plain (id int PRIMARY KEY, patron_id bigint REFERENCES ivr.patrons, item_id int NOT NULL,
                        out_at timestamptz NOT NULL, returned_at timestamptz);
CREATE TABLE ivr.hidden (LIKE ivr.plain INCLUDING ALL);
ALTER TABLE ivr.hidden ADD FOREIGN KEY (patron_id) REFERENCES ivr.patrons;
CREATE INDEX ON ivr.plain (item_id);
CREATE INDEX ON ivr.hidden (item_id);
SELECT pals_privacy.bind_patrons('ivr.patrons', 'id', 'expires');
SELECT pals_privacy.bind_loans('ivr.plain', 'patron_id', 'item_id', '{returned_at}', sever_with => 'null',
                               hide_columns => '{out_at}');
SELECT pals_privacy.bind_loans('ivr.hidden', 'patron_id', 'item_id', '{returned_at}', sever_with => 'null',
                               hide_columns => '{out_at,returned_at}');

-- the ILS's history, the same in both tables: patron 1 borrows copies 100, 101, 102 at one visit
-- and brings them back together; patron 2 then borrows 101 and 102 (patron 1's rows there are
-- severed at those returns); patron 1 stays copy 100's last borrower; patron 3's loan is open
CREATE FUNCTION pg_temp.history(t text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format($q$INSERT INTO %s VALUES (1, 1, 100, '2024-03-01 10:00', NULL), (2, 1, 101, '2024-03-01 10:00', NULL),
                                            (3, 1, 102, '2024-03-01 10:00', NULL)$q$, t);
    EXECUTE format($q$UPDATE %s SET returned_at = '2024-03-20 16:42:07.123456' WHERE id IN (1, 2, 3)$q$, t);
    EXECUTE format($q$INSERT INTO %s VALUES (4, 2, 101, '2024-04-01 09:00', NULL), (5, 2, 102, '2024-04-02 09:00', NULL),
                                            (6, 3, 103, '2024-04-03 09:00', NULL)$q$, t);
    EXECUTE format($q$UPDATE %s SET returned_at = '2024-04-11 11:00' WHERE id = 4$q$, t);
    EXECUTE format($q$UPDATE %s SET returned_at = '2024-04-12 12:00' WHERE id = 5$q$, t);
END $$;
SELECT pg_temp.history('ivr.plain');
SELECT pg_temp.history('ivr.hidden');

CREATE ROLE regress_ivr_staff;
CREATE ROLE regress_ivr_ils;
CREATE ROLE regress_ivr_auditor;
GRANT USAGE ON SCHEMA ivr TO regress_ivr_staff, regress_ivr_ils, regress_ivr_auditor;
GRANT SELECT ON ALL TABLES IN SCHEMA ivr TO regress_ivr_staff, regress_ivr_ils, regress_ivr_auditor;
SELECT pals_privacy.classify_role('regress_ivr_staff', 'staff');
SELECT pals_privacy.classify_role('regress_ivr_ils', 'operational');
SELECT pals_privacy.classify_role('regress_ivr_auditor', 'auditor');
-- each loan as the class reads it: id, patron, return time (x: -infinity)
CREATE FUNCTION pg_temp.loans(t text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE r text;
BEGIN
    EXECUTE format($q$SELECT string_agg(format('%%s:%%s:%%s', id, coalesce(patron_id::text, '-'),
                              CASE WHEN returned_at IS NULL THEN '-' WHEN NOT isfinite(returned_at) THEN 'x'
                                   ELSE to_char(returned_at, 'MM-DD') END), ' ' ORDER BY id) FROM %s$q$, t) INTO r;
    RETURN r;
END $$;
-- the attack: a loan whose patron is read, and another row with the same return time
CREATE FUNCTION pg_temp.paired(t text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE r text;
BEGIN
    EXECUTE format($q$SELECT coalesce(string_agg(s.id || '=' || v.patron_id, ' ' ORDER BY s.id), '')
                        FROM %1$s s JOIN %1$s v ON v.returned_at = s.returned_at AND v.id <> s.id
                       WHERE s.patron_id IS NULL AND v.patron_id IS NOT NULL$q$, t) INTO r;
    RETURN r;
END $$;
-- the same by the day of the return (the residual of closed_precision => 'day')
CREATE FUNCTION pg_temp.paired_day(t text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE r text;
BEGIN
    EXECUTE format($q$SELECT coalesce(string_agg(s.id || '=' || v.patron_id, ' ' ORDER BY s.id), '')
                        FROM %1$s s JOIN %1$s v ON date_trunc('day', v.returned_at) = s.returned_at AND v.id <> s.id
                       WHERE s.patron_id IS NULL AND v.patron_id IS NOT NULL$q$, t) INTO r;
    RETURN r;
END $$;
CREATE FUNCTION pg_temp.open_count(t text) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE n bigint;
BEGIN
    EXECUTE format('SELECT count(*) FROM %s WHERE returned_at IS NULL', t) INTO n;
    RETURN n;
END $$;
GRANT EXECUTE ON FUNCTION pg_temp.loans(text), pg_temp.paired(text), pg_temp.paired_day(text), pg_temp.open_count(text) TO PUBLIC;

SET LOCAL ROLE regress_ivr_ils;
SELECT is(pg_temp.loans('ivr.hidden'), '1:1:03-20 2:-:03-20 3:-:03-20 4:2:04-11 5:2:04-12 6:3:-',
          'operational: every row as stored (1-3 returned together; 2 and 3 severed, 1 is copy 100''s last borrower)');
RESET ROLE;

SET LOCAL ROLE regress_ivr_staff;
-- the control: without the return time in hide_columns, the severed rows of the visit read it to
-- the day (closed_precision's default): the exact time pairs them with nobody, the day with patron 1,
-- the visit's only returns that day (the attack is real; k-anonymity is not promised)
SELECT is(pg_temp.paired('ivr.plain') || '/' || pg_temp.paired_day('ivr.plain'), '/2=1 3=1',
          'staff, return time not hidden: read to the day, the severed rows of the visit pair with patron 1 by the day only (the attack is real)');
SELECT is(pg_temp.paired('ivr.hidden') || '/' || pg_temp.paired_day('ivr.hidden'), '/', 'staff, return time hidden: no severed row pairs with a patron by its return time, nor by its day');
SELECT is(pg_temp.loans('ivr.hidden'), '1:1:03-20 2:-:x 3:-:x 4:2:04-11 5:2:04-12 6:3:-',
          'staff: the return time reads -infinity where the patron is not read; the last borrower and the open loan as stored');
SELECT is(pg_temp.open_count('ivr.hidden'), 1::bigint,
          'staff: "returned_at IS NULL" counts the open loans the ILS counts (one), not the hidden closed ones');
SELECT is((SELECT count(*) FROM ivr.hidden WHERE returned_at = '2024-03-20 16:42:07.123456'), 1::bigint,
          'staff: a condition on the visit''s return time finds only the last borrower''s row');
SELECT is((SELECT count(*) FROM ivr.hidden WHERE returned_at >= '2024-03-20' AND returned_at < '2024-03-21'), 1::bigint,
          'staff: ... nor does a range around it');
SELECT is((SELECT count(*) FROM ivr.hidden h WHERE EXISTS (SELECT FROM ivr.hidden v WHERE v.patron_id = 1
                                                            AND date_trunc('minute', v.returned_at) = date_trunc('minute', h.returned_at)
                                                            AND v.id <> h.id)),
          0::bigint, 'staff: ... nor a semi-join on the minute of patron 1''s returns');
SELECT is((SELECT string_agg(id::text, ',' ORDER BY returned_at DESC NULLS FIRST, id) FROM ivr.hidden), '6,5,4,1,2,3',
          'staff: ordering by the return time puts the hidden rows last, in no order of theirs');
SELECT is((SELECT count(DISTINCT returned_at) FROM ivr.hidden WHERE patron_id IS NULL), 1::bigint,
          'staff: the hidden rows share one value (-infinity): nothing to group them by');
SELECT is((SELECT count(*) FILTER (WHERE out_at IS NULL) FROM ivr.hidden WHERE patron_id IS NULL), 2::bigint,
          'staff: a hidden column that is not a closed one (the checkout time) reads NULL on the two severed rows');
SELECT is((SELECT count(returned_at - out_at)::text || ' of ' || count(*) FROM ivr.hidden), '3 of 6',
          'staff: a duration over every row (return minus checkout) is NULL on hidden rows, not an error');
RESET ROLE;

-- an auditor reads no loan's patron: every closed row's time reads -infinity, open loans stay NULL
SET LOCAL ROLE regress_ivr_auditor;
SELECT is(pg_temp.loans('ivr.hidden'), '1:-:x 2:-:x 3:-:x 4:-:x 5:-:x 6:-:-', 'auditor: no return time, open and closed told apart');
SELECT is(pg_temp.open_count('ivr.hidden'), 1::bigint, 'auditor: the open loans are the ILS''s');
SELECT is(pg_temp.paired('ivr.hidden'), '', 'auditor: no pairing');
RESET ROLE;
SELECT is(pg_temp.loans('ivr.hidden'), '1:1:03-20 2:-:03-20 3:-:03-20 4:2:04-11 5:2:04-12 6:3:-', '(nothing was changed)');

SELECT * FROM finish();
ROLLBACK;
