-- bench/staff_read.sql: branch staff read mix for pgbench (run as branch_staff by bench/run.sh).
--
-- One script run is one of (by weight):
--   12/20  a patron's account at the desk: current loans, open holds, name/card/balance;
--    7/20  an item's history: every loan of the item, with the borrower (the query whose patron
--          column pals_privacy masks except for the last borrower and unsettled rows); items are
--          chosen the way loans are distributed (popular, long-history items more often);
--    1/20  a report: last calendar month's checkouts per checkout library and per home library
--          of the borrower (the same queries as bench/staff_report.sql; they read a month of
--          loans, so at 1/20 they are still about half of this mix's time).
-- Variables (pgbench -D): nitems, npatrons.

\set pick random(1, 20)
\set patron random(1, :npatrons)
\set u random(0, 1000000)
\set item 1 + (:nitems - 1) * :u / 1000000 * :u / 1000000

\if :pick <= 12
SELECT l.id, l.checked_out_at, l.due_at, l.renewal_count, i.barcode, t.title, t.author
FROM demo.loans l
JOIN demo.items i ON i.id = l.item_id
JOIN demo.titles t ON t.id = i.title_id
WHERE l.patron_id = :patron AND l.returned_at IS NULL
ORDER BY l.due_at;
SELECT h.id, h.placed_at, t.title, lb.code AS pickup
FROM demo.holds h
JOIN demo.titles t ON t.id = h.title_id
JOIN demo.libraries lb ON lb.id = h.pickup_library_id
WHERE h.patron_id = :patron AND h.fulfilled_at IS NULL AND h.cancelled_at IS NULL
ORDER BY h.placed_at;
SELECT p.name, p.card_number, p.expires_on,
       coalesce((SELECT b.owed FROM demo.balances b WHERE b.patron_id = p.id), 0) AS owed
FROM demo.patrons p
WHERE p.id = :patron;
\elif :pick <= 19
SELECT l.checked_out_at, l.returned_at, l.fines_settled_at, p.id AS patron_id, p.name, p.card_number
FROM demo.loans l
LEFT JOIN demo.patrons p ON p.id = l.patron_id
WHERE l.item_id = :item
ORDER BY l.checked_out_at DESC;
\else
SELECT lb.name AS library, count(*) AS checkouts
FROM demo.loans l
JOIN demo.libraries lb ON lb.id = l.library_id
WHERE l.checked_out_at >= date_trunc('month', now()) - interval '1 month'
  AND l.checked_out_at <  date_trunc('month', now())
GROUP BY lb.name
ORDER BY lb.name;
SELECT coalesce(lb.name, '(unknown)') AS home_library, count(*) AS checkouts
FROM demo.loans l
LEFT JOIN demo.patrons p ON p.id = l.patron_id
LEFT JOIN demo.libraries lb ON lb.id = p.library_id
WHERE l.checked_out_at >= date_trunc('month', now()) - interval '1 month'
  AND l.checked_out_at <  date_trunc('month', now())
GROUP BY 1
ORDER BY 1;
\endif
