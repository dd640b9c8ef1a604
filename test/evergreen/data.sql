-- test/evergreen/data.sql: years of synthetic history in the Evergreen-shaped schema
-- (test/evergreen/schema.sql), as a library has it when it installs pals_privacy: deterministic,
-- no random().  Run as the ILS's role.  Patron 1 is the anonymous placeholder the DBA creates,
-- 5 a circulation desk account; patrons 10..109 are ordinary (every sixth one's card expired in
-- 2021; patron n has post code 9n, born in 1950 + n % 50).  Crafted patrons:
--   Z 9001 Zeno Evergreenly: card expired in 2020, owes nothing, holds nothing: purged.  Z
--     borrowed copy 201 before W (fined, paid, an overdue notice naming Z and the copy), copy
--     202 with a renewal (7002 renewed by 7003) before W, and is the last borrower of 203; Z lost
--     copy 149 and paid for it (checkin_time NULL, xact_finish set: the last borrower of 149); a
--     title hold cancelled before any copy was captured, a copy hold on 202 fulfilled; a paid
--     grocery bill; an address changed once (the audit history has the old one).
--   W 9002 Wren Otherwood: current card, a copy out, an open title hold; logs in through the OPAC.
--   Y 9003 Yara Owesgrocery: expired, owes a grocery bill (no circulation open): kept.
--   V 9004 Vance Stillout: expired, a copy still out: kept.
--   H 9005 Hollis Keepsall: current card, opted in to a reading history (action.usr_circ_history).
--   L 9006 Lena Lostpaid: expired; lost copy 147 and paid for it, nothing else: purged.
--   C 9007 Cass Collectible: current card, lost copy 148, owes 30.00 for it (collections).
--   G 9008 Gale Visitor: current card; borrowed copies 204, 205 and 206 at one visit (one checkout
--     time, one workstation); later borrowers took 204 and 205, so G stays the last borrower of 206
--     only.  Every other circulation was checked out at a desk workstation of its library.

INSERT INTO actor.org_unit VALUES (1, 'CONS', 'Consortium'), (2, 'BR1', 'Branch One'), (3, 'BR2', 'Branch Two');

INSERT INTO biblio.record_entry (id, title, author)
SELECT n, 'Evergreen Title ' || n, 'Author ' || n FROM generate_series(1, 60) n;
INSERT INTO biblio.record_entry (id, title, author) VALUES (61, 'The Juniper Path', 'Ann Author');
INSERT INTO asset.copy (id, record, barcode, circ_lib)
SELECT n, 1 + (n - 1) % 60, '3100000' || lpad(n::text, 5, '0'), 2 + n % 2 FROM generate_series(1, 150) n;
INSERT INTO biblio.record_entry (id, title, author) VALUES (62, 'Three at Once', 'Vi Sitor');
INSERT INTO asset.copy (id, record, barcode, circ_lib) VALUES
    (201, 61, '31000000201J', 2), (202, 61, '31000000202J', 2), (203, 61, '31000000203J', 2),
    (204, 62, '31000000204G', 3), (205, 62, '31000000205G', 3), (206, 62, '31000000206G', 3);
SELECT setval('biblio.record_entry_id_seq', 100), setval('asset.copy_id_seq', 300);

INSERT INTO actor.usr (id, profile, usrname, first_given_name, family_name, home_ou, expire_date, create_date) VALUES
    (1, 9, 'anonymous', 'Anonymous', 'ANONYMOUS', 1, '2099-12-31', '2010-01-01'),
    (5, 3, 'circdesk', 'Circulation', 'Desk', 2, '2099-12-31', '2010-01-01');
INSERT INTO actor.usr (id, usrname, email, first_given_name, family_name, day_phone, dob, home_ou, expire_date, create_date)
SELECT n, 'user' || n, 'p' || n || '@eg.example', 'Given' || n, 'Surname' || n, '555-02' || lpad(n::text, 3, '0'),
       make_date(1950 + n % 50, 1 + n % 12, 1 + n % 28), 2 + n % 2,
       CASE WHEN n % 6 = 0 THEN timestamptz '2021-06-30' ELSE timestamptz '2099-12-31' END, timestamptz '2015-01-01' + n * interval '1 day'
  FROM generate_series(10, 109) n;
INSERT INTO actor.usr (id, usrname, email, first_given_name, family_name, day_phone, dob, home_ou, expire_date, create_date, ident_value) VALUES
    (9001, 'zeno', 'zeno@evergreenly.example', 'Zeno', 'Evergreenly', '555-0901', '1971-03-03', 2, '2020-01-01', '2010-01-01', 'DL-9001-Z'),
    (9002, 'wren', 'wren@otherwood.example', 'Wren', 'Otherwood', '555-0902', '1980-01-01', 2, '2099-12-31', '2012-01-01', NULL),
    (9003, 'yara', 'yara@owesgrocery.example', 'Yara', 'Owesgrocery', '555-0903', '1975-01-01', 3, '2020-01-01', '2011-01-01', NULL),
    (9004, 'vance', 'vance@stillout.example', 'Vance', 'Stillout', '555-0904', '1977-01-01', 3, '2020-01-01', '2011-01-01', NULL),
    (9005, 'hollis', 'hollis@keepsall.example', 'Hollis', 'Keepsall', '555-0905', '1982-01-01', 3, '2099-12-31', '2011-01-01', NULL),
    (9006, 'lena', 'lena@lostpaid.example', 'Lena', 'Lostpaid', '555-0906', '1979-06-06', 2, '2020-01-01', '2011-01-01', NULL),
    (9007, 'cass', 'cass@collectible.example', 'Cass', 'Collectible', '555-0907', '1979-01-01', 3, '2099-12-31', '2011-01-01', NULL),
    (9008, 'gale', 'gale@visitor.example', 'Gale', 'Visitor', '555-0908', '1985-05-05', 3, '2099-12-31', '2011-01-01', NULL);
SELECT setval('actor.usr_id_seq', 10000);

-- one card and one mailing address per patron (Z's address as it is after the change below)
INSERT INTO actor.card (id, usr, barcode)
SELECT 20000 + id, id, CASE WHEN id > 9000 THEN 'EG' || id || (ARRAY['Z', 'W', 'Y', 'V', 'H', 'L', 'C', 'G'])[id - 9000] ELSE 'EG0000' || lpad(id::text, 5, '0') END
  FROM actor.usr WHERE id >= 10;
INSERT INTO actor.usr_address (id, usr, street1, city, post_code)
SELECT 30000 + id, id, CASE WHEN id = 9001 THEN '1 Juniper Lane' ELSE id || ' Main Street' END, 'Evergreen City',
       CASE WHEN id = 9001 THEN '90901' ELSE '9' || lpad(id::text, 4, '0') END
  FROM actor.usr WHERE id >= 10;
UPDATE actor.usr SET card = 20000 + id, mailing_address = 30000 + id, billing_address = 30000 + id WHERE id >= 10;
SELECT setval('actor.card_id_seq', 40000), setval('actor.usr_address_id_seq', 40000);
-- Z moved (from 9 Birch Road) in 2023: the audit history keeps the old address
UPDATE actor.usr_address SET street1 = '9 Birch Road' WHERE usr = 9001;
UPDATE actor.usr_address SET street1 = '1 Juniper Lane' WHERE usr = 9001;
-- H opted in to a reading history
INSERT INTO actor.usr_setting (usr, name, value) VALUES (9005, 'history.circ.retention_start', '"2022-01-01"');

-- Returned circulations: 1,000 over 150 copies, 2023-24; every tenth returned late and fined
-- (finished when paid, three days later; every hundredth still owed: not finished); some renewed
-- once (the renewed row closed 'RENEW', its renewal a row of its own, ids 5000 + n); lost,
-- long overdue or claimed returned and paid (checkin_time NULL, xact_finish set)
INSERT INTO action.circulation (id, usr, xact_start, xact_finish, target_copy, circ_lib, circ_staff, checkin_staff, checkin_lib,
                                due_date, stop_fines, stop_fines_time, checkin_time, checkin_scan_time, create_time)
SELECT g, 10 + (g * 37) % 100, ts,
       CASE WHEN g % 100 = 0 THEN NULL WHEN g % 10 = 0 THEN ts + r + interval '3 days' ELSE ts + r END,
       1 + g % 150, 2 + g % 2, 5, CASE WHEN lost IS NULL THEN 5 END, CASE WHEN lost IS NULL THEN 2 + g % 2 END,
       ts + interval '14 days', coalesce(lost, CASE WHEN g % 25 = 3 THEN 'RENEW' ELSE 'CHECKIN' END), ts + r,
       CASE WHEN lost IS NULL THEN ts + r END, CASE WHEN lost IS NULL THEN ts + r END, ts
  FROM generate_series(1, 1000) g,
       LATERAL (SELECT timestamptz '2023-01-01 09:00' + g * interval '5 hours' AS ts,
                       CASE WHEN g % 25 = 3 THEN interval '14 days'
                            WHEN g % 10 = 0 THEN interval '20 days' ELSE interval '10 days' END + (g % 5) * interval '1 hour' AS r,
                       CASE g % 97 WHEN 11 THEN 'LOST' WHEN 22 THEN 'LONGOVERDUE' WHEN 33 THEN 'CLAIMSRETURNED' END AS lost) t;
INSERT INTO action.circulation (id, usr, xact_start, xact_finish, target_copy, circ_lib, circ_staff, checkin_staff, checkin_lib,
                                due_date, stop_fines, stop_fines_time, checkin_time, checkin_scan_time, create_time, parent_circ, desk_renewal)
SELECT 5000 + c.id, c.usr, c.checkin_time, c.checkin_time + interval '6 days', c.target_copy, c.circ_lib, 5, 5, c.circ_lib,
       c.checkin_time + interval '14 days', 'CHECKIN', c.checkin_time + interval '6 days', c.checkin_time + interval '6 days',
       c.checkin_time + interval '6 days', c.checkin_time, c.id, true
  FROM action.circulation c WHERE c.stop_fines = 'RENEW';
-- Z, W, L, C: Z borrowed 201 and 202 (renewed) before W; Z is the last borrower of 203, and of
-- 149, lost and paid; L's only circulation: 147, lost and paid; C lost 148 and owes for it
INSERT INTO action.circulation (id, usr, xact_start, xact_finish, target_copy, circ_lib, circ_staff, checkin_staff, checkin_lib,
                                due_date, stop_fines, stop_fines_time, checkin_time, checkin_scan_time, create_time, parent_circ, desk_renewal) VALUES
    (7001, 9001, '2024-02-01 09:00', '2024-02-23 12:00', 201, 2, 5, 5, 2, '2024-02-15 09:00', 'CHECKIN', '2024-02-20 10:00', '2024-02-20 10:00', '2024-02-20 10:00', '2024-02-01 09:00', NULL, false),
    (7002, 9001, '2024-02-02 09:10', '2024-02-15 09:30', 202, 2, 5, NULL, NULL, '2024-02-16 09:10', 'RENEW', '2024-02-15 09:30', '2024-02-15 09:30', NULL, '2024-02-02 09:10', NULL, false),
    (7003, 9001, '2024-02-15 09:30', '2024-02-25 11:00', 202, 2, 5, 5, 2, '2024-02-29 09:30', 'CHECKIN', '2024-02-25 11:00', '2024-02-25 11:00', '2024-02-25 11:00', '2024-02-15 09:30', 7002, true),
    (7004, 9001, '2024-02-03 09:20', '2024-02-10 12:00', 203, 2, 5, 5, 2, '2024-02-17 09:20', 'CHECKIN', '2024-02-10 12:00', '2024-02-10 12:00', '2024-02-10 12:00', '2024-02-03 09:20', NULL, false),
    (7005, 9001, '2023-12-01 09:00', '2024-01-15 10:00', 149, 2, 5, NULL, NULL, '2023-12-15 09:00', 'LOST', '2024-01-10 08:00', NULL, NULL, '2023-12-01 09:00', NULL, false),
    (7006, 9002, '2024-04-01 09:00', '2024-04-10 10:00', 201, 2, 5, 5, 2, '2024-04-15 09:00', 'CHECKIN', '2024-04-10 10:00', '2024-04-10 10:00', '2024-04-10 10:00', '2024-04-01 09:00', NULL, false),
    (7007, 9002, '2024-04-02 09:10', '2024-04-10 11:00', 202, 2, 5, 5, 2, '2024-04-16 09:10', 'CHECKIN', '2024-04-10 11:00', '2024-04-10 11:00', '2024-04-10 11:00', '2024-04-02 09:10', NULL, false),
    (7009, 9006, '2024-03-01 09:00', '2024-04-20 10:00', 147, 2, 5, NULL, NULL, '2024-03-15 09:00', 'LOST', '2024-04-01 08:00', NULL, NULL, '2024-03-01 09:00', NULL, false),
    (7010, 9007, '2024-06-01 09:00', NULL, 148, 3, 5, NULL, NULL, '2024-06-15 09:00', 'LOST', '2024-08-01 10:00', NULL, NULL, '2024-06-01 09:00', NULL, false);
-- H's returned circulations (the ILS's trigger writes H's reading history)
INSERT INTO action.circulation (id, usr, xact_start, xact_finish, target_copy, circ_lib, circ_staff, checkin_staff, checkin_lib,
                                due_date, stop_fines, stop_fines_time, checkin_time, checkin_scan_time, create_time)
SELECT 7020 + g, 9005, ts, ts + interval '7 days', 110 + g, 3, 5, 5, 3, ts + interval '14 days', 'CHECKIN',
       ts + interval '7 days', ts + interval '7 days', ts + interval '7 days', ts
  FROM generate_series(0, 9) g, LATERAL (SELECT timestamptz '2022-03-01 09:00' + g * interval '9 days' AS ts) t;
-- G's visit: three copies checked out at one time on one workstation (77), returned on three
-- days; 204 and 205 borrowed again later, 206 not
INSERT INTO action.circulation (id, usr, xact_start, xact_finish, target_copy, circ_lib, circ_staff, checkin_staff, checkin_lib,
                                due_date, stop_fines, stop_fines_time, checkin_time, checkin_scan_time, create_time, workstation)
SELECT v.id, v.usr, v.xs, v.ci, v.cp, 3, 5, 5, 3, v.xs + interval '14 days', 'CHECKIN', v.ci, v.ci, v.ci, v.xs, v.ws
  FROM (VALUES (7041, 9008, timestamptz '2025-03-14 15:26:53', timestamptz '2025-03-20 11:00', 204, 77),
               (7042, 9008, timestamptz '2025-03-14 15:26:53', timestamptz '2025-03-22 10:15', 205, 77),
               (7043, 9008, timestamptz '2025-03-14 15:26:53', timestamptz '2025-03-25 16:40', 206, 77),
               (7044, 20, timestamptz '2025-06-01 10:00', timestamptz '2025-06-10 10:00', 204, 31),
               (7045, 21, timestamptz '2025-06-02 10:00', timestamptz '2025-06-12 10:00', 205, 32)) v(id, usr, xs, ci, cp, ws);
-- Current circulations: twenty, and W's and V's
INSERT INTO action.circulation (id, usr, xact_start, target_copy, circ_lib, circ_staff, due_date, create_time)
SELECT 8000 + g, 10 + (g * 11) % 100, timestamptz '2026-11-20 10:00' + g * interval '1 minute', g, 2, 5,
       timestamptz '2026-12-04 10:00', timestamptz '2026-11-20 10:00'
  FROM generate_series(1, 20) g;
INSERT INTO action.circulation (id, usr, xact_start, target_copy, circ_lib, circ_staff, due_date, create_time) VALUES
    (8021, 9002, '2026-11-26 10:00', 100, 2, 5, '2026-12-10 10:00', '2026-11-26 10:00'),
    (8022, 9004, '2026-11-26 10:00', 101, 3, 5, '2026-12-10 10:00', '2026-11-26 10:00');
-- the desk workstations: 21-23 at branch one, 31-33 at branch two
UPDATE action.circulation SET workstation = 10 * circ_lib + 1 + id % 3 WHERE workstation IS NULL;
UPDATE asset.copy SET status = 1 WHERE id IN (SELECT target_copy FROM action.circulation WHERE xact_finish IS NULL AND checkin_time IS NULL);
UPDATE asset.copy SET status = 3 WHERE id IN (147, 148, 149);

-- Groceries: Y owes 5.00 for a replacement card; Z paid for photocopies; a few others, paid
INSERT INTO money.grocery (id, usr, xact_start, xact_finish, billing_location, note) VALUES
    (8501, 9003, '2024-05-01 10:00', NULL, 3, 'replacement card'),
    (8502, 9001, '2024-03-01 10:00', '2024-03-01 10:05', 2, 'photocopies');
INSERT INTO money.grocery (id, usr, xact_start, xact_finish, billing_location, note)
SELECT 8510 + g, 10 + g * 7, timestamptz '2024-01-01 10:00' + g * interval '3 days', timestamptz '2024-01-01 10:05' + g * interval '3 days', 2, 'printing'
  FROM generate_series(1, 10) g;
SELECT setval('money.billable_xact_id_seq', 20000);

-- Billings and payments: the late fines (billed when the due date passed), paid three days
-- after the checkin but every hundredth; lost copies at replacement cost, paid when finished;
-- the groceries
INSERT INTO money.billing (xact, billing_ts, amount, billing_type, note)
SELECT c.id, c.due_date + interval '1 day', 0.50, 'Overdue materials', 'System generated overdue fine'
  FROM action.circulation c WHERE (c.id % 10 = 0 AND c.id <= 1000 AND c.checkin_time IS NOT NULL) OR c.id = 7001;
INSERT INTO money.billing (xact, billing_ts, amount, billing_type, note)
SELECT c.id, c.stop_fines_time, CASE WHEN c.id = 7010 THEN 30.00 ELSE 25.00 END, 'Lost Materials', NULL
  FROM action.circulation c WHERE c.stop_fines IN ('LOST', 'LONGOVERDUE');
INSERT INTO money.payment (xact, payment_ts, amount)
SELECT c.id, c.xact_finish, b.amount
  FROM action.circulation c JOIN money.billing b ON b.xact = c.id WHERE c.xact_finish IS NOT NULL;
INSERT INTO money.billing (xact, billing_ts, amount, billing_type)
SELECT id, xact_start, CASE WHEN id = 8501 THEN 5.00 ELSE 1.00 END, 'Miscellaneous' FROM money.grocery;
INSERT INTO money.payment (xact, payment_ts, amount)
SELECT id, xact_finish, 1.00 FROM money.grocery WHERE xact_finish IS NOT NULL;

-- Holds, placed at the desk (requestor 5; W's through the OPAC).  Done with: a third title holds
-- cancelled before any copy was captured (no copy), a third copy holds fulfilled, a third title
-- holds captured then cancelled
INSERT INTO action.hold_request (id, usr, requestor, hold_type, target, current_copy, request_time, capture_time,
                                 fulfillment_time, cancel_time, cancel_cause, pickup_lib)
SELECT g, 10 + (g * 13) % 100, 5, CASE WHEN g % 3 = 1 THEN 'C' ELSE 'T' END,
       CASE WHEN g % 3 = 1 THEN 1 + g % 150 ELSE 1 + g % 60 END,
       CASE WHEN g % 3 = 0 THEN NULL ELSE 1 + g % 150 END, ts,
       CASE WHEN g % 3 <> 0 THEN ts + interval '2 days' END,
       CASE WHEN g % 3 = 1 THEN ts + interval '4 days' END,
       CASE WHEN g % 3 <> 1 THEN ts + interval '5 days' END, CASE WHEN g % 3 <> 1 THEN 5 END, 2
  FROM generate_series(1, 150) g, LATERAL (SELECT timestamptz '2023-03-01 08:00' + g * interval '1 day 1 hour' AS ts) t;
INSERT INTO action.hold_request (id, usr, requestor, hold_type, target, current_copy, request_time, capture_time,
                                 fulfillment_time, cancel_time, cancel_cause, pickup_lib) VALUES
    (401, 9001, 5, 'T', 61, NULL, '2024-01-02 08:00', NULL, NULL, '2024-01-20 08:00', 2, 2),
    (402, 9001, 5, 'C', 202, 202, '2024-01-25 08:00', '2024-01-30 08:00', '2024-02-01 09:00', NULL, NULL, 2);
-- Current holds: captured (a copy) or title holds waiting for one (no copy); W's title hold
INSERT INTO action.hold_request (id, usr, requestor, hold_type, target, current_copy, request_time, capture_time, pickup_lib)
SELECT 1000 + g, 10 + (g * 17) % 100, 5, 'T', 1 + g % 60, CASE WHEN g % 2 = 1 THEN 30 + g END,
       timestamptz '2026-11-01 08:00' + g * interval '1 hour', CASE WHEN g % 2 = 1 THEN timestamptz '2026-11-20 08:00' END, 2
  FROM generate_series(1, 10) g;
INSERT INTO action.hold_request (id, usr, requestor, hold_type, target, current_copy, request_time, pickup_lib)
VALUES (1100, 9002, 9002, 'T', 61, NULL, '2026-11-25 08:00', 2);
SELECT setval('action.hold_request_id_seq', 2000);

-- Notices: an overdue notice for each late circulation and a lost notice for each lost one,
-- rendered (name, title and barcode); hold-available notices target the hold
INSERT INTO action_trigger.event_definition VALUES (1, 'checkout.due', 'Overdue notice'), (2, 'lost', 'Lost notice'),
    (3, 'hold.available', 'Hold ready for pickup');
INSERT INTO action_trigger.event_output (id, create_time, data)
SELECT 100000 + c.id, c.due_date + interval '1 day',
       format('Dear %s %s, the item "%s" (barcode %s) was due on %s.', u.first_given_name, u.family_name, r.title, cp.barcode,
              to_char(c.due_date, 'YYYY-MM-DD'))
  FROM action.circulation c JOIN actor.usr u ON u.id = c.usr JOIN asset.copy cp ON cp.id = c.target_copy
  JOIN biblio.record_entry r ON r.id = cp.record
 WHERE c.id IN (SELECT xact FROM money.billing WHERE billing_type = 'Overdue materials');
INSERT INTO action_trigger.event (target, event_def, add_time, run_time, complete_time, state, template_output)
SELECT o.id - 100000, 1, o.create_time, o.create_time, o.create_time, 'complete', o.id FROM action_trigger.event_output o;
INSERT INTO action_trigger.event (target, event_def, add_time, run_time, complete_time, state)
SELECT c.id, 2, c.stop_fines_time, c.stop_fines_time, c.stop_fines_time, 'complete'
  FROM action.circulation c WHERE c.stop_fines IN ('LOST', 'LONGOVERDUE');
SELECT setval('action_trigger.event_output_id_seq', 200000);
