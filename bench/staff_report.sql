-- bench/staff_report.sql: a branch report for pgbench (run as report_user by bench/run.sh:
-- an unclassified role that is a member of branch_staff, so it gets its class by membership).
--
-- Last calendar month's checkouts per checkout library, and per home library of the borrower
-- (the second one reads the patron of every loan of the month: closed loans' patrons are what
-- pals_privacy masks for staff, so this is where per-row visibility decisions add up).

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
