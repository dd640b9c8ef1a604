-- test/koha/data.sql: years of history in the Koha-shaped schema (test/koha/schema.sql), as a
-- library has it when it installs pals_privacy: deterministic, no random().  Run as the ILS's
-- role.  Patrons 2..121 are ordinary (every sixth one's card expired in 2021; privacy 0 for
-- n % 10 = 3, 2 for n % 10 = 7); patron 1 is Koha's AnonymousPatron.  Four crafted patrons:
--   Z 9001 Zebulon Kohaquist: card expired in 2020, owes nothing, holds nothing: purged.  Z
--     borrowed items 201 and 202 before W (so Z is nobody's last borrower there) and is the
--     last borrower of 203; Z lost item 149 (its old_issues row has no returndate); a fine on the 201 loan, paid; an overdue notice about it; a
--     title-level hold cancelled, a hold on 202 filled; an interlibrary loan; statistics and
--     action_logs of each issue and return; a MEMBERS log with Z's data.
--   W 9002 Wanda Otherly: current card, an open loan; logs in through the catalogue.
--   Y 9003 Yolanda Oweswell: expired, owes a fine: kept.
--   V 9004 Victor Stillhas: expired, an item still out: kept.
--   H 9005 Hannah Heavyreader: current card, 200 returned loans in 2022 (an MCV of the planner).
--   C 9007 Carl Collectable: current card, owes 30.00 for the item 148 he lost (collections).

INSERT INTO koha.branches VALUES ('CPL', 'Centerville'), ('FPL', 'Fairview'), ('MPL', 'Midway');
INSERT INTO koha.biblio (biblionumber, title, author)
SELECT n, 'Koha Title ' || n, 'Author ' || n FROM generate_series(1, 60) n;
INSERT INTO koha.biblio (biblionumber, title, author) VALUES (61, 'The Quiet Orchard', 'Ann Author');
INSERT INTO koha.items (itemnumber, biblionumber, barcode, homebranch, holdingbranch)
SELECT n, 1 + (n - 1) % 60, '3900000' || lpad(n::text, 5, '0'),
       (ARRAY['CPL', 'FPL', 'MPL'])[1 + n % 3], (ARRAY['CPL', 'FPL', 'MPL'])[1 + n % 3]
  FROM generate_series(1, 150) n;
INSERT INTO koha.items (itemnumber, biblionumber, barcode, homebranch, holdingbranch) VALUES
    (201, 61, '39000000201Q', 'CPL', 'CPL'), (202, 61, '39000000202Q', 'CPL', 'CPL'),
    (203, 61, '39000000203Q', 'CPL', 'CPL');
SELECT setval('koha.biblio_biblionumber_seq', 100), setval('koha.items_itemnumber_seq', 300);

INSERT INTO koha.borrowers (borrowernumber, cardnumber, surname, firstname, branchcode, categorycode, dateexpiry, privacy, userid)
VALUES (1, NULL, 'ANONYMOUS', NULL, 'CPL', 'ANON', '2099-12-31', 2, 'anonymous');
INSERT INTO koha.borrowers (borrowernumber, cardnumber, surname, firstname, email, smsalertnumber, address, branchcode,
                            categorycode, dateofbirth, dateenrolled, dateexpiry, privacy, userid)
SELECT n, '2100000' || lpad(n::text, 5, '0'), 'Surname' || n, 'Given' || n, 'p' || n || '@koha.example',
       '555-01' || lpad(n::text, 3, '0'), n || ' Main Street', (ARRAY['CPL', 'FPL', 'MPL'])[1 + n % 3],
       CASE WHEN n % 4 = 0 THEN 'ST' ELSE 'PT' END, date '1960-01-01' + n * 97, date '2015-01-01' + n,
       CASE WHEN n % 6 = 0 THEN date '2021-06-30' ELSE date '2099-12-31' END,
       CASE n % 10 WHEN 3 THEN 0 WHEN 7 THEN 2 ELSE 1 END, 'user' || n
  FROM generate_series(2, 121) n;
INSERT INTO koha.borrowers (borrowernumber, cardnumber, surname, firstname, email, address, branchcode, dateofbirth,
                            dateenrolled, dateexpiry, privacy, userid) VALUES
    (9001, '21000009001Z', 'Kohaquist', 'Zebulon', 'zebulon@kohaquist.example', '1 Orchard Lane', 'CPL', '1971-03-03', '2010-01-01', '2020-01-01', 1, 'zebulon'),
    (9002, '21000009002W', 'Otherly', 'Wanda', 'wanda@otherly.example', '2 Orchard Lane', 'CPL', '1980-01-01', '2012-01-01', '2099-12-31', 1, 'wanda'),
    (9003, '21000009003Y', 'Oweswell', 'Yolanda', 'yolanda@oweswell.example', '3 Orchard Lane', 'FPL', '1975-01-01', '2011-01-01', '2020-01-01', 1, 'yolanda'),
    (9004, '21000009004V', 'Stillhas', 'Victor', 'victor@stillhas.example', '4 Orchard Lane', 'MPL', '1977-01-01', '2011-01-01', '2020-01-01', 1, 'victor'),
    (9005, '21000009005H', 'Heavyreader', 'Hannah', 'hannah@heavyreader.example', '5 Orchard Lane', 'MPL', '1982-01-01', '2011-01-01', '2099-12-31', 1, 'hannah'),
    (9007, '21000009007C', 'Collectable', 'Carl', 'carl@collectable.example', '7 Orchard Lane', 'FPL', '1979-01-01', '2011-01-01', '2099-12-31', 1, 'carl');
SELECT setval('koha.borrowers_borrowernumber_seq', 10000);
-- three patrons Koha deleted years ago
INSERT INTO koha.deletedborrowers (borrowernumber, cardnumber, surname, firstname, branchcode, categorycode, dateexpiry, privacy)
SELECT n, '2100000' || n, 'Gone' || n, 'Long', 'CPL', 'PT', '2019-01-01', 1 FROM generate_series(500, 502) n;

-- Returned loans: 1,500 over 150 items (ten each), every tenth returned late (and fined below),
-- some already anonymised by Koha (NULL, or the AnonymousPatron)
INSERT INTO koha.old_issues (issue_id, borrowernumber, itemnumber, date_due, branchcode, returndate, issuedate, "timestamp")
SELECT g, CASE WHEN g % 50 = 7 THEN NULL WHEN g % 50 = 33 THEN 1 ELSE 2 + (g * 37) % 120 END, 1 + g % 150,
       ts + interval '14 days', (ARRAY['CPL', 'FPL', 'MPL'])[1 + g % 3], ts + r, ts, ts + r
  FROM generate_series(1, 1500) g,
       LATERAL (SELECT timestamp '2023-01-01 09:00' + g * interval '4 hours' AS ts,
                       CASE WHEN g % 10 = 0 THEN interval '20 days' ELSE interval '10 days' END + (g % 5) * interval '1 hour' AS r) t;
INSERT INTO koha.old_issues (issue_id, borrowernumber, itemnumber, date_due, branchcode, returndate, issuedate, "timestamp")
SELECT 3000 + g, 9005, 1 + g % 150, ts + interval '14 days', 'MPL', ts + interval '7 days', ts, ts + interval '7 days'
  FROM generate_series(1, 200) g, LATERAL (SELECT timestamp '2022-01-01 09:00' + g * interval '1 day' AS ts) t;
-- Z, W, Y: items 201 and 202 borrowed by Z then W; Z last borrower of 203; Y's loan of 150 fined
INSERT INTO koha.old_issues (issue_id, borrowernumber, itemnumber, date_due, branchcode, returndate, issuedate, "timestamp") VALUES
    (1601, 9001, 201, '2024-02-15 09:00', 'CPL', '2024-02-20 10:00', '2024-02-01 09:00', '2024-02-20 10:00'),
    (1602, 9001, 202, '2024-02-15 09:00', 'CPL', '2024-02-10 11:00', '2024-02-01 09:00', '2024-02-10 11:00'),
    (1603, 9001, 203, '2024-02-15 09:00', 'CPL', '2024-02-10 12:00', '2024-02-01 09:00', '2024-02-10 12:00'),
    (1604, 9002, 201, '2024-04-15 09:00', 'CPL', '2024-04-10 10:00', '2024-04-01 09:00', '2024-04-10 10:00'),
    (1605, 9002, 202, '2024-04-15 09:00', 'CPL', '2024-04-10 11:00', '2024-04-01 09:00', '2024-04-10 11:00'),
    (1606, 9003, 150, '2024-05-15 09:00', 'FPL', '2024-05-30 10:00', '2024-05-01 09:00', '2024-05-30 10:00'),
    -- a loan of an item Z lost, moved to old_issues by an older Koha without a return date
    (1607, 9001, 149, '2023-12-15 09:00', 'CPL', NULL, '2023-12-01 09:00', '2024-01-15 10:00'),
    (1608, 9007, 148, '2024-06-15 09:00', 'FPL', '2024-08-01 10:00', '2024-06-01 09:00', '2024-08-01 10:00');
-- Current loans: twenty, and W's and V's
INSERT INTO koha.issues (issue_id, borrowernumber, itemnumber, date_due, branchcode, issuedate, "timestamp")
SELECT 1500 + g, 2 + (g * 11) % 120, g, timestamp '2026-11-20 10:00' + interval '14 days', 'CPL',
       timestamp '2026-11-20 10:00' + g * interval '1 minute', timestamp '2026-11-20 10:00' + g * interval '1 minute'
  FROM generate_series(1, 20) g;
INSERT INTO koha.issues (issue_id, borrowernumber, itemnumber, date_due, branchcode, issuedate, "timestamp") VALUES
    (1621, 9002, 100, '2026-12-10 10:00', 'CPL', '2026-11-26 10:00', '2026-11-26 10:00'),
    (1622, 9004, 101, '2026-12-10 10:00', 'MPL', '2026-11-26 10:00', '2026-11-26 10:00');
UPDATE koha.items SET onloan = '2026-12-10' WHERE itemnumber IN (SELECT itemnumber FROM koha.issues);
SELECT setval('koha.issue_id_seq', 2000);

-- Overdue fines on every tenth returned loan (date = the return, as Koha charges them), paid but
-- every hundredth; a payment line for each paid fine
INSERT INTO koha.accountlines (issue_id, borrowernumber, itemnumber, date, amount, description, debit_type_code, status,
                               amountoutstanding, "timestamp")
SELECT o.issue_id, o.borrowernumber, o.itemnumber, o.returndate, 0.50,
       b.title || ' ' || to_char(o.date_due, 'YYYY-MM-DD'), 'OVERDUE', 'RETURNED',
       CASE WHEN o.issue_id % 100 = 0 OR o.issue_id = 1606 THEN 0.50 ELSE 0 END, o.returndate
  FROM koha.old_issues o JOIN koha.items i USING (itemnumber) JOIN koha.biblio b USING (biblionumber)
 WHERE (o.issue_id % 10 = 0 AND o.issue_id <= 1500 OR o.issue_id IN (1601, 1606)) AND o.borrowernumber > 1;
-- A fine accruing on a current loan (Koha's UNRETURNED: V's item 101 is overdue, the loan in issues)
INSERT INTO koha.accountlines (issue_id, borrowernumber, itemnumber, date, amount, description, debit_type_code, status,
                               amountoutstanding, "timestamp")
SELECT i.issue_id, i.borrowernumber, i.itemnumber, timestamp '2026-12-04 10:00', 0.25,
       b.title || ' ' || to_char(i.date_due, 'YYYY-MM-DD'), 'OVERDUE', 'UNRETURNED', 0.25, timestamp '2026-12-04 10:00'
  FROM koha.issues i JOIN koha.items USING (itemnumber) JOIN koha.biblio b USING (biblionumber)
 WHERE i.issue_id = 1622;
INSERT INTO koha.accountlines (borrowernumber, date, amount, description, credit_type_code, status, amountoutstanding, "timestamp")
SELECT borrowernumber, date + interval '3 days 2 hours', -0.50, 'Payment', 'PAYMENT', NULL, 0, date + interval '3 days 2 hours'
  FROM koha.accountlines WHERE debit_type_code = 'OVERDUE' AND amountoutstanding = 0;
-- C's lost item, charged at its replacement cost
INSERT INTO koha.accountlines (issue_id, borrowernumber, itemnumber, date, amount, description, debit_type_code, status, amountoutstanding, "timestamp")
VALUES (1608, 9007, 148, '2024-08-01 10:00', 30, 'Koha Title 28 (lost)', 'LOST', 'RETURNED', 30, '2024-08-01 10:00');
CREATE VIEW koha.account_balances AS
    SELECT borrowernumber, sum(amountoutstanding) AS owed FROM koha.accountlines GROUP BY borrowernumber;

-- Holds done with: a third title-level and cancelled (no item), a third filled, a third
-- cancelled after an item was trapped
INSERT INTO koha.old_reserves (reserve_id, borrowernumber, reservedate, biblionumber, itemnumber, branchcode,
                               cancellationdate, found, "timestamp", waitingdate)
SELECT g, 2 + (g * 13) % 120, date '2023-03-01' + g, 1 + g % 60,
       CASE WHEN g % 3 = 0 THEN NULL ELSE 1 + g % 60 END, 'CPL',
       CASE WHEN g % 3 = 1 THEN NULL ELSE date '2023-03-01' + g + 5 END,
       CASE g % 3 WHEN 1 THEN 'F' WHEN 2 THEN 'W' END,
       timestamp '2023-03-01 08:00' + g * interval '1 day 1 hour', CASE WHEN g % 3 <> 0 THEN date '2023-03-01' + g + 2 END
  FROM generate_series(1, 300) g;
INSERT INTO koha.old_reserves (reserve_id, borrowernumber, reservedate, biblionumber, itemnumber, branchcode,
                               cancellationdate, found, "timestamp") VALUES
    (401, 9001, '2024-01-02', 61, NULL, 'CPL', '2024-01-20', NULL, '2024-01-20 08:00'),
    (402, 9001, '2024-01-25', 61, 202, 'CPL', NULL, 'F', '2024-02-01 09:00');
-- Current holds: waiting on a trapped item, or title-level with no item yet
INSERT INTO koha.reserves (reserve_id, borrowernumber, reservedate, biblionumber, itemnumber, branchcode, priority, found, "timestamp", waitingdate)
SELECT 1000 + g, 2 + (g * 17) % 120, date '2026-11-01' + g, 1 + g % 60,
       CASE WHEN g % 2 = 0 THEN NULL ELSE 30 + g END, 'CPL', g % 2, CASE WHEN g % 2 = 1 THEN 'W' END,
       timestamp '2026-11-01 08:00' + g * interval '1 hour', CASE WHEN g % 2 = 1 THEN date '2026-11-20' END
  FROM generate_series(1, 15) g;
INSERT INTO koha.reserves (reserve_id, borrowernumber, reservedate, biblionumber, itemnumber, branchcode, priority, "timestamp")
VALUES (1100, 9002, '2026-11-25', 61, NULL, 'CPL', 1, '2026-11-25 08:00');
SELECT setval('koha.reserve_id_seq', 2000);

-- The circulation log: an issue and a return row for every loan
INSERT INTO koha.statistics (datetime, branch, type, itemnumber, borrowernumber, categorycode, interface)
SELECT o.issuedate, o.branchcode, 'issue', o.itemnumber, o.borrowernumber, b.categorycode, 'intranet'
  FROM koha.old_issues o LEFT JOIN koha.borrowers b USING (borrowernumber)
UNION ALL
SELECT o.returndate, o.branchcode, 'return', o.itemnumber, o.borrowernumber, b.categorycode, 'intranet'
  FROM koha.old_issues o LEFT JOIN koha.borrowers b USING (borrowernumber) WHERE o.returndate IS NOT NULL
UNION ALL
SELECT i.issuedate, i.branchcode, 'issue', i.itemnumber, i.borrowernumber, b.categorycode, 'intranet'
  FROM koha.issues i JOIN koha.borrowers b USING (borrowernumber);

-- The audit log: issues and returns of every fifth loan and Z's, each patron's last change,
-- cataloguing changes (object = the item)
INSERT INTO koha.action_logs ("timestamp", module, action, object, info, interface)
SELECT o.issuedate, 'CIRCULATION', 'ISSUE', o.borrowernumber, o.itemnumber::text, 'intranet'
  FROM koha.old_issues o WHERE (o.issue_id % 5 = 0 OR o.issue_id > 1600) AND o.borrowernumber > 1
UNION ALL
SELECT o.returndate, 'CIRCULATION', 'RETURN', o.borrowernumber, o.itemnumber::text, 'intranet'
  FROM koha.old_issues o WHERE (o.issue_id % 5 = 0 OR o.issue_id > 1600) AND o.borrowernumber > 1 AND o.returndate IS NOT NULL
UNION ALL
SELECT timestamp '2024-06-01' + b.borrowernumber * interval '1 minute', 'MEMBERS', 'MODIFY', b.borrowernumber,
       json_build_object('surname', b.surname, 'firstname', b.firstname, 'cardnumber', b.cardnumber, 'email', b.email)::text, 'intranet'
  FROM koha.borrowers b WHERE b.borrowernumber > 1
UNION ALL
SELECT timestamp '2024-07-01' + n * interval '1 minute', 'CATALOGUING', 'MODIFY', n, 'item ' || n, 'intranet'
  FROM generate_series(1, 150) n;

-- Notices: an overdue notice for each fine, rendered (they went out in 2023-24)
INSERT INTO koha.message_queue (borrowernumber, subject, content, letter_code, message_transport_type, status, time_queued, updated_on, to_address)
SELECT a.borrowernumber, 'Item overdue',
       format('Dear %s %s, the item "%s" (barcode %s) was due on %s.', p.firstname, p.surname, b.title, i.barcode,
              to_char(o.date_due, 'YYYY-MM-DD')),
       'ODUE', 'email', 'sent', o.date_due + interval '1 day', o.date_due + interval '1 day', p.email
  FROM koha.accountlines a JOIN koha.old_issues o USING (issue_id) JOIN koha.borrowers p ON p.borrowernumber = a.borrowernumber
  JOIN koha.items i ON i.itemnumber = o.itemnumber JOIN koha.biblio b ON b.biblionumber = i.biblionumber;

-- Interlibrary loans: the lender's order id; a quarter cancelled before any was ordered
INSERT INTO koha.illrequests (borrowernumber, biblio_id, branchcode, status, placed, completed, orderid, backend)
SELECT 2 + (g * 7) % 120, NULL, 'CPL', CASE WHEN g % 4 = 0 THEN 'CANCREQ' ELSE 'COMP' END,
       date '2023-05-01' + g * 3, date '2023-05-01' + g * 3 + 20,
       CASE WHEN g % 4 = 0 THEN NULL ELSE 'ORD-' || (g % 10) END, 'FreeForm'
  FROM generate_series(1, 40) g;
INSERT INTO koha.illrequests (borrowernumber, branchcode, status, placed, completed, orderid, backend) VALUES
    (9001, 'CPL', 'COMP', '2024-03-01', '2024-03-21', 'ORD-Z-77', 'FreeForm'),
    (9002, 'CPL', 'REQ', '2026-11-20', NULL, NULL, 'FreeForm');
