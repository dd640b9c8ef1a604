-- bench/staff_shapes.sql: a second staff read mix, on query shapes bench/staff_read.sql does not
-- have (run as branch_staff by bench/run.sh; needs the tables of bench/shapes.sql).
--
-- One script run is one of (by weight):
--   5/20  a deep item's history, newest first, LIMIT 20, with the borrower joined from the patron
--         table: an inheritance parent and child (shapes.issues + shapes.issues_archive, bigint
--         keys, about 680 loans per item);
--   4/20  the same on a text-keyed table (shapes.text_issues, by barcode);
--   4/20  who borrowed an item most: its history joined to the patron table on the patron column,
--         GROUP BY the patron's name, top 10;
--   3/20  a fortnight's checkouts at a library grouped by the borrower's home library and age
--         band (demo.loans joined to demo.patrons on the patron column);
--   2/20  a patron's open loans in shapes.issues (parent and child);
--   2/20  an item's last five loans in demo.loans with the borrower (ORDER BY date DESC LIMIT).
-- Variables (pgbench -D): nitems, npatrons, nhot (items 1..nhot have the deep shapes history).

\set pick random(1, 20)
\set hot random(1, :nhot)
\set patron random(1, :npatrons)
\set item random(1, :nitems)
\set lib random(1, 5)

\if :pick <= 5
SELECT i.issued, i.returned, i.settled, p.id AS patron_id, p.name, p.card_number
FROM shapes.issues i
LEFT JOIN demo.patrons p ON p.id = i.borrower
WHERE i.item = :hot
ORDER BY i.issued DESC
LIMIT 20;
\elif :pick <= 9
SELECT t.issued, t.returned, t.settled, p.id AS patron_id, p.name, p.card_number
FROM shapes.text_issues t
LEFT JOIN demo.patrons p ON p.id = t.borrower
WHERE t.barcode = 'B' || lpad((:hot)::text, 10, '0')
ORDER BY t.issued DESC
LIMIT 20;
\elif :pick <= 13
SELECT p.name, count(*) AS loans
FROM shapes.issues i
JOIN demo.patrons p ON p.id = i.borrower
WHERE i.item = :hot
GROUP BY p.name
ORDER BY count(*) DESC, p.name
LIMIT 10;
\elif :pick <= 16
SELECT p.library_id AS home_library,
       (extract(year FROM age(current_date, p.birth_date))::int / 10) * 10 AS age_band,
       count(*) AS checkouts
FROM demo.loans l
JOIN demo.patrons p ON p.id = l.patron_id
WHERE l.library_id = :lib
  AND l.checked_out_at >= timestamptz '2026-10-18 00:00+00'   -- the fortnight before the
  AND l.checked_out_at <  timestamptz '2026-11-01 00:00+00'   -- demo data's present
GROUP BY 1, 2
ORDER BY 1, 2;
\elif :pick <= 18
SELECT i.item, i.issued, i.due
FROM shapes.issues i
WHERE i.borrower = :patron AND i.returned IS NULL
ORDER BY i.due;
\else
SELECT l.checked_out_at, l.returned_at, p.id AS patron_id, p.name
FROM demo.loans l
LEFT JOIN demo.patrons p ON p.id = l.patron_id
WHERE l.item_id = :item
ORDER BY l.checked_out_at DESC
LIMIT 5;
\endif
