-- bench/circulation.sql: circulation desk mix for pgbench (run as ils_app by bench/run.sh).
--
-- One script run = three autocommit transactions, as the ILS issues them:
--   1. checkout: a random available item goes to a random valid patron (new open loan);
--   2. return: the first open loan at or after a random item id (wrapping around) is closed;
--      one return in 20 is late and gets a fine (fines_settled_at stays NULL = unsettled),
--      the others are settled at once (fines_settled_at = returned_at);
--   3. one run in 20 also settles the first unsettled loan at or after a
--      random patron id: a payment row and fines_settled_at = now().
-- (returned_at is greatest(now(), checked_out_at): a concurrent checkout can commit between
-- this transaction's start and its snapshot, and a loan cannot come back before it went out.)
-- Checkouts and returns balance, so the number of open loans stays about constant while closed
-- history accumulates on the items that circulate: run it as long as you like.
--
-- Variables (pgbench -D): nitems (items 1..nitems circulate; a small number concentrates the
-- history on a few "popular" items), npatrons.

\set item random(1, :nitems)
\set patron random(1, :npatrons)
\set ritem random(1, :nitems)
\set late random(1, 20)
\set pay random(1, 20)
\set rpatron random(1, :npatrons)

-- 1. checkout
WITH it AS (
    SELECT i.id, i.library_id FROM demo.items i
    WHERE i.id = :item AND i.status = 'available'
      AND NOT EXISTS (SELECT 1 FROM demo.loans l WHERE l.item_id = :item AND l.returned_at IS NULL)
    FOR UPDATE OF i
), pa AS (
    SELECT p.id FROM demo.patrons p
    WHERE p.id >= :patron AND NOT p.deleted AND p.expires_on >= current_date
    ORDER BY p.id LIMIT 1
), ins AS (
    INSERT INTO demo.loans (patron_id, item_id, library_id, checked_out_at, due_at)
    SELECT pa.id, it.id, it.library_id, now(), now() + interval '21 days' FROM it, pa
    RETURNING item_id
)
UPDATE demo.items SET status = 'on_loan' WHERE id IN (SELECT item_id FROM ins);

-- 2. return
WITH cand AS (
    (SELECT l.id, l.checked_out_at FROM demo.loans l
     WHERE l.returned_at IS NULL AND l.item_id >= :ritem AND l.item_id <= :nitems
     ORDER BY l.item_id LIMIT 1)
    UNION ALL
    (SELECT l.id, l.checked_out_at FROM demo.loans l
     WHERE l.returned_at IS NULL AND l.item_id <= :nitems
     ORDER BY l.item_id LIMIT 1)
    LIMIT 1
), upd AS (
    UPDATE demo.loans l
    SET returned_at = greatest(now(), l.checked_out_at),
        fines_settled_at = CASE WHEN :late = 1 THEN NULL ELSE greatest(now(), l.checked_out_at) END
    FROM cand
    WHERE l.id = cand.id AND l.checked_out_at = cand.checked_out_at AND l.returned_at IS NULL
    RETURNING l.id, l.checked_out_at, l.patron_id, l.item_id
), fine AS (
    INSERT INTO demo.fines (patron_id, loan_id, loan_checked_out_at, amount, reason, created_at)
    SELECT patron_id, id, checked_out_at, 0.50, 'overdue', now() FROM upd WHERE :late = 1
)
UPDATE demo.items SET status = 'available' WHERE id IN (SELECT item_id FROM upd);

-- 3. occasionally, a fine is paid and the loan becomes settled
\if :pay = 1
WITH l AS (
    SELECT l.id, l.checked_out_at, l.patron_id FROM demo.loans l
    WHERE l.returned_at IS NOT NULL AND l.fines_settled_at IS NULL AND l.patron_id >= :rpatron
    ORDER BY l.patron_id LIMIT 1
), settle AS (
    UPDATE demo.loans x SET fines_settled_at = now()
    FROM l WHERE x.id = l.id AND x.checked_out_at = l.checked_out_at AND x.fines_settled_at IS NULL
    RETURNING x.id, x.checked_out_at, x.patron_id
)
INSERT INTO demo.payments (patron_id, amount, method, paid_at)
SELECT s.patron_id, coalesce((SELECT sum(f.amount) FROM demo.fines f
                              WHERE f.loan_id = s.id AND f.loan_checked_out_at = s.checked_out_at), 0.50),
       'card', now()
FROM settle s;
\endif
