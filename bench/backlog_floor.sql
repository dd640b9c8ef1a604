-- bench/backlog_floor.sql: the floor of sever_backlog() on the sample consortium (bench/backlog.sh):
-- the same rows severed by plain set-based statements, in a database without the extension.
-- What demo/bind.sql asks of the backlog:
--   loans: every closed (returned_at), settled (fines_settled_at), identified (patron_id <> 0) row
--          but the latest closed row of its item (the last borrower; a row without an item has
--          none) loses its patron to the placeholder 0; rows of patrons who opted in
--          (keep_history) are copied first (history_mode 'copy');
--   holds: every closed (fulfilled or cancelled), identified row loses its patron;
-- and then (the same work, part 2):
--   device loans: every closed (checked in, or lost / claimed returned and finished), settled
--          (finished), identified row but each device's latest closed one loses its patron;
--   the derived copies of the loans severed: their fines unlinked (loan_id and
--          loan_checked_out_at NULL), their notices (loan_events) deleted; of the device loans
--          severed: their summaries' patron NULL.
-- Prints three lines "rows|CPU ticks of this backend|epoch": at the start, after part 1 (the loans
-- and holds: the plain set-based UPDATE of the issue) and after part 2.
\set ON_ERROR_STOP 1
\set cpu 'SELECT split_part(s, '' '', 12)::bigint + split_part(s, '' '', 13)::bigint FROM (SELECT regexp_replace(pg_read_file(''/proc/self/stat''), ''^.*\\) '', '''') AS s) x'
SELECT '0|' || (:cpu) || '|' || extract(epoch FROM clock_timestamp());
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
CREATE TEMP TABLE floor_count AS
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
SELECT severed || '|' || (:cpu) || '|' || extract(epoch FROM clock_timestamp()) FROM floor_count;
-- part 2
CREATE TEMP TABLE floor_devices AS
SELECT d.id
  FROM (SELECT d.*, row_number() OVER (PARTITION BY d.device_id
                                       ORDER BY GREATEST(d.checkin_time, d.xact_finish) DESC, d.ctid DESC) AS rn
          FROM demo.device_loans d
         WHERE d.checkin_time IS NOT NULL OR (d.stop_reason IN ('LOST', 'CLAIMSRETURNED') AND d.xact_finish IS NOT NULL)) d
 WHERE d.rn > 1 AND d.xact_finish IS NOT NULL AND d.patron_id <> 0;
WITH d AS (
    UPDATE demo.device_loans d SET patron_id = 0 FROM floor_devices t WHERE d.id = t.id RETURNING d.id
)
UPDATE floor_count SET severed = severed + (SELECT count(*) FROM d);
UPDATE demo.xact_summaries s SET patron_id = NULL FROM floor_devices t WHERE s.xact_id = t.id AND s.patron_id IS NOT NULL;
UPDATE demo.fines f SET loan_id = NULL, loan_checked_out_at = NULL FROM floor_target t WHERE f.loan_id = t.id;
DELETE FROM demo.loan_events e USING floor_target t WHERE e.loan_id = t.id;
SELECT severed || '|' || (:cpu) || '|' || extract(epoch FROM clock_timestamp()) FROM floor_count;
