-- The columns that say when a loan was settled (issue 14, residual 3): with
-- settled_when (a condition over the row instead of a settled_column), every
-- column the condition reads but the patron and the item is read like
-- settled_column: staff read it on open and unsettled rows and on the
-- item's last borrower; on other closed rows (severed ones included) a time
-- reads '-infinity' (shown 'x' below) and NULL stays NULL, so that "finished"
-- keeps its meaning for reports and only the time is hidden; collections and
-- auditors read it so on every row; the ILS reads it as stored.  A
-- paid loan's finish time is the payment's time, and the payment names its
-- patron: shown on a hidden row, it would pair the two.  Columns that only
-- closed_when reads stay as closed columns do.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pals_privacy;
SET datestyle = ISO;
SET timezone = UTC;

BEGIN;
SELECT plan(22);

CREATE SCHEMA isc;
CREATE TABLE isc.patrons (id bigint PRIMARY KEY, expires date NOT NULL DEFAULT 'infinity');
INSERT INTO isc.patrons (id) SELECT generate_series(0, 9);
-- Evergreen-shaped circulation: a lost loan that was paid is closed; settled when finished
-- (a child of a billable-transaction parent, as in Evergreen: a query on the parent reads it under its rules)
CREATE TABLE isc.xacts (id int NOT NULL, usr bigint NOT NULL, xact_start timestamptz NOT NULL, xact_finish timestamptz);
CREATE TABLE isc.circ (id int PRIMARY KEY, usr bigint NOT NULL REFERENCES isc.patrons, target_copy int NOT NULL,
                       xact_start timestamptz NOT NULL, checkin_time timestamptz, xact_finish timestamptz,
                       stop_fines text) INHERITS (isc.xacts);
CREATE INDEX ON isc.circ (usr);
CREATE INDEX ON isc.circ (target_copy);
-- history from before binding (identified; the tracker is built at binding)
INSERT INTO isc.circ (id, usr, target_copy, xact_start, checkin_time, xact_finish, stop_fines) VALUES
    (1, 1, 100, '2024-01-01', '2024-01-10', '2024-01-20 10:00', NULL),     -- returned, fine paid on the 20th: hidden
    (2, 2, 100, '2024-02-01', '2024-02-10', '2024-02-10 11:00', NULL),     -- copy 100's last borrower
    (3, 3, 101, '2024-01-01', NULL, NULL, 'LOST'),                         -- lost, unpaid: open
    (4, 4, 102, '2024-01-01', '2024-03-01', NULL, NULL),                   -- returned, fine owed: unsettled
    (5, 5, 103, '2024-01-01', NULL, '2024-04-04 12:00', 'LOST'),           -- lost and paid: closed, hidden
    (6, 6, 103, '2024-05-01', '2024-05-02', '2024-05-02 09:00', NULL),     -- copy 103's last borrower
    (7, 0, 100, '2023-12-01', '2023-12-02', '2023-12-05 15:00', NULL),     -- severed before (the placeholder)
    (8, 8, 104, '2024-01-01', NULL, '2024-06-06 16:00', 'LONGOVERDUE');    -- paid, not returned, not lost: open
-- the payments the desk took: each names its patron, and its time is the loan's finish
CREATE TABLE isc.payments (id int PRIMARY KEY, patron_id bigint NOT NULL REFERENCES isc.patrons,
                           amount numeric NOT NULL, paid_at timestamptz NOT NULL);
INSERT INTO isc.payments VALUES (1, 1, 2.50, '2024-01-20 10:00'), (2, 5, 30.00, '2024-04-04 12:00'),
                                (3, 2, 0.50, '2024-02-10 11:00'), (4, 8, 25.00, '2024-06-06 16:00'),
                                (5, 4, 1.00, '2024-03-05 08:00');
-- rentals settled by amounts: what was paid, against what was billed
CREATE TABLE isc.rentals (id int PRIMARY KEY, patron_id bigint REFERENCES isc.patrons, item_id int NOT NULL,
                          returned date, billed numeric NOT NULL, paid numeric NOT NULL DEFAULT 0);
INSERT INTO isc.rentals VALUES (1, 1, 200, '2024-01-10', 3.25, 3.25),   -- hidden
                               (2, 2, 200, '2024-02-10', 4.75, 4.75),   -- item 200's last borrower
                               (3, 3, 201, '2024-02-10', 6.00, 2.00);   -- unsettled
SELECT pals_privacy.bind_patrons('isc.patrons', 'id', 'expires');
SELECT pals_privacy.bind_loans('isc.circ', 'usr', 'target_copy', '{checkin_time,xact_finish}',
        closed_when => 'checkin_time IS NOT NULL OR (stop_fines IN (''LOST'', ''CLAIMSRETURNED'') AND xact_finish IS NOT NULL)',
        settled_when => 'xact_finish IS NOT NULL', sever_with => 'patron:0');
SELECT pals_privacy.bind_loans('isc.rentals', 'patron_id', 'item_id', '{returned}', settled_when => 'paid >= billed');
SELECT pals_privacy.bind_account('isc.payments', 'patron_id');

CREATE ROLE regress_isc_staff;
CREATE ROLE regress_isc_ils;
CREATE ROLE regress_isc_auditor;
CREATE ROLE regress_isc_collections;
GRANT USAGE ON SCHEMA isc TO regress_isc_staff, regress_isc_ils, regress_isc_auditor, regress_isc_collections;
GRANT SELECT ON ALL TABLES IN SCHEMA isc TO regress_isc_staff, regress_isc_ils, regress_isc_auditor, regress_isc_collections;
GRANT UPDATE ON isc.circ TO regress_isc_staff;
SELECT pals_privacy.classify_role('regress_isc_staff', 'staff');
SELECT pals_privacy.classify_role('regress_isc_ils', 'operational');
SELECT pals_privacy.classify_role('regress_isc_auditor', 'auditor');
SELECT pals_privacy.classify_role('regress_isc_collections', 'collections');
-- each circulation as the class reads it: id, patron, checkin, finish
CREATE FUNCTION pg_temp.circs() RETURNS text LANGUAGE sql AS $$
    SELECT string_agg(format('%s:%s:%s:%s', id, coalesce(usr::text, '-'), coalesce(to_char(checkin_time, 'MM-DD'), '-'),
                             CASE WHEN xact_finish IS NULL THEN '-' WHEN NOT isfinite(xact_finish) THEN 'x'
                                  ELSE to_char(xact_finish, 'MM-DD') END), ' ' ORDER BY id) FROM isc.circ
$$;
-- the pairing: the payment whose time is a loan's finish names the loan's patron
CREATE FUNCTION pg_temp.paired() RETURNS text LANGUAGE sql AS $$
    SELECT coalesce(string_agg(c.id || '=' || p.patron_id, ' ' ORDER BY c.id), '')
      FROM isc.circ c JOIN isc.payments p ON p.paid_at = c.xact_finish
$$;
CREATE FUNCTION pg_temp.reopen() RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE n bigint;
BEGIN
    UPDATE isc.circ SET xact_finish = NULL WHERE id IN (1, 5, 7);
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END $$;
GRANT EXECUTE ON FUNCTION pg_temp.circs(), pg_temp.paired(), pg_temp.reopen() TO PUBLIC;

-- the ILS reads everything as stored (the control)
SET LOCAL ROLE regress_isc_ils;
SELECT is(pg_temp.circs(), '1:1:01-10:01-20 2:2:02-10:02-10 3:3:-:- 4:4:03-01:- 5:5:-:04-04 6:6:05-02:05-02 7:0:12-02:12-05 8:8:-:06-06',
          'operational: every row as stored');
SELECT is(pg_temp.paired(), '1=1 2=2 5=5 8=8', 'operational: each paid loan pairs with its payment by time (the attack is real)');
RESET ROLE;

-- staff
SET LOCAL ROLE regress_isc_staff;
SELECT is(pg_temp.circs(), '1:0:01-10:x 2:2:02-10:02-10 3:3:-:- 4:4:03-01:- 5:0:-:x 6:6:05-02:05-02 7:0:12-02:x 8:8:-:06-06',
          'staff: the finish time reads -infinity where the patron is hidden or severed; the return time stays');
SELECT is((SELECT string_agg(id::text, ',' ORDER BY id) FROM isc.circ WHERE xact_finish IS NULL), '3,4',
          'staff: the unfinished loans are those the ILS finds unfinished (a report counting open loans by xact_finish IS NULL)');
SELECT is(pg_temp.paired(), '2=2 8=8', 'staff: no hidden loan pairs with a payment by its finish time');
SELECT is((SELECT count(*) FROM isc.circ WHERE xact_finish = '2024-01-20 10:00'), 0::bigint,
          'staff: a condition on the hidden finish time matches nothing');
SELECT is((SELECT string_agg(id || ':' || CASE WHEN xact_finish IS NULL THEN '-' WHEN NOT isfinite(xact_finish) THEN 'x'
                                               ELSE to_char(xact_finish, 'MM-DD') END, ' ' ORDER BY id) FROM isc.xacts),
          '1:x 2:02-10 3:- 4:- 5:x 6:05-02 7:x 8:06-06', 'staff: the same through the billable-transaction parent');
SELECT is((SELECT count(*) FROM isc.circ c WHERE EXISTS (SELECT FROM isc.payments p WHERE p.paid_at = c.xact_finish AND p.patron_id = 5)),
          0::bigint, 'staff: ... nor a semi-join to the payments of one patron');
SELECT is((SELECT xact_finish::text FROM isc.circ WHERE id = 8), '2024-06-06 16:00:00+00',
          'staff: an open loan (paid, not closed) keeps its finish time');
SELECT is((SELECT string_agg(stop_fines, ',' ORDER BY id) FROM isc.circ), 'LOST,LOST,LONGOVERDUE',
          'staff: a column only closed_when reads stays, like the closed columns');
SELECT is((SELECT string_agg(id || ':' || coalesce(patron_id::text, '-') || ':' || coalesce(paid::text, '-') || '/' || coalesce(billed::text, '-'), ' ' ORDER BY id)
             FROM isc.rentals),
          '1:-:-/- 2:2:4.75/4.75 3:3:2.00/6.00', 'staff: the amounts settled_when reads are hidden with the patron');
SELECT is((SELECT string_agg(item_id::text || ':' || coalesce(returned::text, '-'), ' ' ORDER BY id) FROM isc.rentals),
          '200:2024-01-10 200:2024-02-10 201:2024-02-10', 'staff: the item and the closed column stay');
-- writes reach only rows staff read whole: a severed row's finish time cannot be cleared to read as unsettled
SELECT is(pg_temp.reopen(), 0::bigint, 'staff: no hidden or severed row can be re-opened by clearing its finish time');
RESET ROLE;
SELECT is((SELECT count(*) FROM isc.circ WHERE xact_finish IS NOT NULL), 6::bigint, '(nothing was changed)');

-- collections and auditors read no finish time, nor the amounts
SET LOCAL ROLE regress_isc_auditor;
SELECT is((SELECT count(*) FROM isc.circ WHERE isfinite(xact_finish)), 0::bigint, 'auditor: no finish time');
SELECT is((SELECT count(*) FROM isc.circ WHERE xact_finish IS NULL), 2::bigint, 'auditor: the unfinished loans are the ILS''s');
SELECT is((SELECT count(paid) + count(billed) FROM isc.rentals), 0::bigint, 'auditor: no amount of a rental');
SELECT is((SELECT count(checkin_time) FROM isc.circ), 5::bigint, 'auditor: the return times stay');
RESET ROLE;
SET LOCAL ROLE regress_isc_collections;
SELECT is((SELECT count(*) FROM isc.circ WHERE isfinite(xact_finish)), 0::bigint, 'collections: no finish time');
SELECT is((SELECT count(*) FROM isc.circ WHERE xact_finish IS NULL), 2::bigint, 'collections: the unfinished loans are the ILS''s');
SELECT is((SELECT count(*) FROM isc.circ WHERE xact_finish = '-infinity' AND id IN (3, 4)), 0::bigint,
          'collections: an unfinished loan does not read -infinity');
SELECT is(pg_temp.paired(), '', 'collections: no pairing');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
