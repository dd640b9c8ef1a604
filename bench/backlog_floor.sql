-- bench/backlog_floor.sql: the floor of sever_backlog() on the sample consortium (bench/backlog.sh):
-- the same rows severed by plain set-based statements, in a database without the extension.
-- What demo/bind.sql asks of the backlog:
--   loans: every closed (returned_at), settled (fines_settled_at), identified (patron_id <> 0) row
--          but the latest closed row of its item (the last borrower; a row without an item has
--          none) loses its patron to the placeholder 0; rows of patrons who opted in
--          (keep_history) are copied first (history_mode 'copy');
--   holds: every closed (fulfilled or cancelled), identified row loses its patron.
-- Prints the number of rows severed.
\set ON_ERROR_STOP 1
CREATE TABLE IF NOT EXISTS public.floor_history (patron text, relation regclass, item text, row_data jsonb,
                                                 copied_at timestamptz NOT NULL DEFAULT now());
CREATE TEMP TABLE floor_target AS
SELECT l.id, l.checked_out_at, p.keep_history AS optin
  FROM (SELECT l.*, row_number() OVER (PARTITION BY l.item_id
                                       ORDER BY l.returned_at DESC, l.tableoid DESC, l.ctid DESC) AS rn
          FROM demo.loans l WHERE l.returned_at IS NOT NULL) l
  LEFT JOIN demo.patrons p ON p.id = l.patron_id
 WHERE (l.item_id IS NULL OR l.rn > 1) AND l.fines_settled_at IS NOT NULL AND l.patron_id <> 0;
INSERT INTO public.floor_history (patron, relation, item, row_data)
SELECT l.patron_id::text, 'demo.loans'::regclass, l.item_id::text, to_jsonb(l)
  FROM demo.loans l JOIN floor_target t ON t.id = l.id AND t.checked_out_at = l.checked_out_at
 WHERE t.optin;
WITH u AS (
    UPDATE demo.loans l SET patron_id = 0 FROM floor_target t
     WHERE l.id = t.id AND l.checked_out_at = t.checked_out_at
    RETURNING 1
), h AS (
    UPDATE demo.holds SET patron_id = 0
     WHERE (fulfilled_at IS NOT NULL OR cancelled_at IS NOT NULL) AND patron_id <> 0
    RETURNING 1
)
SELECT (SELECT count(*) FROM u) + (SELECT count(*) FROM h) AS severed;
