-- demo/generate.sql: deterministic data for the sample consortium (schema demo).
--
--   psql -v ON_ERROR_STOP=1 -v scale=1 -f demo/schema.sql -f demo/generate.sql
--
-- Variables (psql -v):
--   scale     size factor (default 1; fractions allowed, e.g. 0.2). Scale 1 = 10,000 patrons,
--             40,000 titles, 50,000 items, 200,000 loans, 20,000 holds; everything scales linearly.
--   ref_time  the "present" of the data set (default '2026-11-01 00:00:00+00'). Loans run from
--             2025-01-01 to ref_time; sign-ups cover the 10 days and receipts the 90 days before it.
--             Pass -v ref_time=now to make the short-lived logs relative to the real clock
--             (the data is then no longer identical between runs).
--
-- Determinism: every "random" value is a hash of (row number, salt) via hashint8extended(), so
-- two runs with the same scale and ref_time produce identical data, independent of plan order
-- and parallelism.  Everything is set-based (INSERT ... SELECT generate_series).
--
-- Shape of the data:
--   * item popularity is skewed (item id = 1 + floor(n * u^2)): low item ids are the popular
--     copies, with hundreds of past loans each; the rest have a handful;
--   * the loans of one item follow each other in time without overlap; ~12% are renewals of the
--     previous loan (same patron, composite FK renews_loan_id/renews_checked_out_at);
--   * ~25% of items have their last loan still open (returned_at NULL);
--   * ~8% of returned loans have a fine; 30% of those are unpaid (fines_settled_at NULL), the
--     others paid (a payment row; fines_settled_at = paid_at);
--   * ~18% of patrons have an expired card (some with, most without a balance), ~10% opted in to
--     keep_history, ~1% are soft-deleted.

\set ON_ERROR_STOP 1
\if :{?scale}
\else
\set scale 1
\endif
\if :{?ref_time}
\else
\set ref_time '2026-11-01 00:00:00+00'
\endif

SET client_min_messages = warning;
SET search_path = demo, pg_catalog;
SET synchronous_commit = off;
SET maintenance_work_mem = '256MB';
SET work_mem = '128MB';

-- u(k, salt): a deterministic uniform value in [0, 1).
CREATE FUNCTION pg_temp.u(k bigint, salt bigint) RETURNS double precision
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT ((hashint8extended(k, salt) >> 11) & 9007199254740991)::float8 / 9007199254740992.0 $$;

SELECT greatest(1, round(10000 * :scale))::bigint AS npat,
       greatest(1, round(40000 * :scale))::bigint AS ntitles,
       greatest(1, round(50000 * :scale))::bigint AS nitems,
       greatest(1, round(200000 * :scale))::bigint AS nloans,
       greatest(1, round(20000 * :scale))::bigint AS nholds,
       timestamptz :'ref_time' AS tref,
       timestamptz '2025-01-01 00:00:00+00' AS tstart
\gset
\echo generating scale :scale: :npat patrons, :nitems items, :nloans loans, reference time :tref

-- Patrons ---------------------------------------------------------------------------------------
INSERT INTO patrons (id, library_id, name, card_number, birth_date, registered_on, expires_on, keep_history, deleted)
SELECT g,
       1 + floor(pg_temp.u(g, 1) * 5)::int,
       (ARRAY['Ada','Ben','Carla','Dmitri','Elena','Farid','Grace','Hiro','Ines','Jonas','Keiko','Liam',
              'Maya','Nadia','Omar','Priya','Quinn','Rosa','Sam','Tomas','Uma','Victor','Wen','Yusuf','Zoe'])
           [1 + floor(pg_temp.u(g, 2) * 25)::int]
       || ' ' ||
       (ARRAY['Abbott','Berg','Castillo','Dubois','Eriksen','Fischer','Garcia','Haddad','Ito','Jensen',
              'Kowalski','Lindqvist','Moreau','Nakamura','Okafor','Petrov','Quispe','Rossi','Schmidt',
              'Tanaka','Usman','Varga','Weber','Xu','Young','Zeller'])
           [1 + floor(pg_temp.u(g, 3) * 26)::int],
       '2' || lpad(g::text, 13, '0'),
       date '1935-01-01' + floor(pg_temp.u(g, 4) * 85 * 365)::int,                 -- some minors
       date '2010-01-01' + floor(pg_temp.u(g, 5) * 5000)::int,
       CASE WHEN pg_temp.u(g, 6) < 0.18
            THEN (:'tref'::timestamptz)::date - 1 - floor(pg_temp.u(g, 7) * 900)::int   -- expired
            ELSE (:'tref'::timestamptz)::date + 1 + floor(pg_temp.u(g, 7) * 1100)::int
       END,
       pg_temp.u(g, 8) < 0.10,
       pg_temp.u(g, 9) < 0.01
FROM generate_series(1, :npat) g;

INSERT INTO addresses (patron_id, email, phone, sms, postal)
SELECT g,
       CASE WHEN pg_temp.u(g, 11) < 0.80 THEN 'patron' || g || '@example.org' END,
       CASE WHEN pg_temp.u(g, 12) < 0.60 THEN '+1-555-' || lpad((g % 10000000)::text, 7, '0') END,
       CASE WHEN pg_temp.u(g, 13) < 0.50 THEN '+1-555-' || lpad(((g * 7) % 10000000)::text, 7, '0') END,
       (1 + floor(pg_temp.u(g, 14) * 999))::int || ' '
         || (ARRAY['Main St','Oak Ave','Maple Rd','Church St','Mill Ln','River Rd','Park Pl','Hill St'])
              [1 + floor(pg_temp.u(g, 15) * 8)::int]
         || ', ' || (SELECT city FROM libraries l WHERE l.id = 1 + floor(pg_temp.u(g, 1) * 5)::int)
FROM generate_series(1, :npat) g;

-- Catalogue ---------------------------------------------------------------------------------------
INSERT INTO titles (id, title, author, isbn, pub_year)
SELECT g,
       initcap((ARRAY['the','a','silent','last','hidden','northern','broken','golden','secret','little',
                      'long','winter','summer','lost','distant','quiet'])[1 + floor(pg_temp.u(g, 21) * 16)::int]
         || ' ' || (ARRAY['river','garden','house','road','city','letter','island','kingdom','machine',
                          'mirror','forest','harbor','station','library','orchard','voyage'])[1 + floor(pg_temp.u(g, 22) * 16)::int]
         || ' ' || g),
       (ARRAY['Abbott','Berg','Castillo','Dubois','Eriksen','Fischer','Garcia','Haddad','Ito','Jensen',
              'Kowalski','Lindqvist','Moreau','Nakamura','Okafor','Petrov'])[1 + floor(pg_temp.u(g, 23) * 16)::int]
         || ', ' || chr(65 + floor(pg_temp.u(g, 24) * 26)::int) || '.',
       '978' || lpad(g::text, 10, '0'),
       1950 + floor(pg_temp.u(g, 25) * 76)::int
FROM generate_series(1, :ntitles) g;

-- Copy k of title t has id t + (k-1) * ntitles; its library is a hash of the item id (salt 20,
-- reused below for the checkout library of its loans).
INSERT INTO items (id, title_id, library_id, barcode, call_number)
SELECT g,
       1 + (g - 1) % :ntitles,
       1 + floor(pg_temp.u(g, 20) * 5)::int,
       '3' || lpad(g::text, 13, '0'),
       (100 + floor(pg_temp.u(g, 26) * 800))::int || '.' || lpad(floor(pg_temp.u(g, 27) * 100)::int::text, 2, '0')
FROM generate_series(1, :nitems) g;

-- Loans -------------------------------------------------------------------------------------------
-- Step 1: which item each loan is for, its position in the item's sequence, and flags.
CREATE TEMP TABLE gen_loan_a AS
WITH base AS (
    SELECT g, 1 + floor(:nitems * pg_temp.u(g, 30) ^ 2)::bigint AS item_id
    FROM generate_series(1, :nloans) g
), numbered AS (
    SELECT g, item_id,
           row_number() OVER w AS seq,
           count(*) OVER (PARTITION BY item_id) AS k
    FROM base WINDOW w AS (PARTITION BY item_id ORDER BY g)
)
SELECT g, item_id, seq, k,
       (seq = k AND pg_temp.u(item_id, 31) < 0.25) AS is_open,
       (seq > 1 AND pg_temp.u(g, 32) < 0.12) AS is_ren
FROM numbered;

-- Step 2: chains (a renewal keeps the patron of the loan it renews), times, fines.
CREATE TEMP TABLE gen_loan AS
WITH b AS (
    SELECT a.*,
           sum(CASE WHEN is_ren THEN 0 ELSE 1 END) OVER w AS chain,
           coalesce(lead(is_ren) OVER w, false) AS next_is_ren,
           extract(epoch FROM (:'tref'::timestamptz - :'tstart'::timestamptz)) / k AS span_s
    FROM gen_loan_a a WINDOW w AS (PARTITION BY item_id ORDER BY seq)
), c AS (
    SELECT b.*,
           1 + floor(:npat * pg_temp.u(item_id * 1000003 + chain, 33))::bigint AS patron_id,
           :'tstart'::timestamptz + make_interval(secs => (seq - 1) * span_s) AS slot_start,
           row_number() OVER (PARTITION BY item_id, chain ORDER BY seq) - 1 AS renewal_count
    FROM b
), d AS (
    SELECT c.*,
           CASE WHEN is_open AND NOT is_ren
                     THEN :'tref'::timestamptz
                          - make_interval(secs => least(span_s * 0.9, 40 * 86400) * pg_temp.u(g, 34))
                WHEN is_ren THEN slot_start
                ELSE slot_start + make_interval(secs => span_s * 0.25 * pg_temp.u(g, 35))
           END AS checked_out_at,
           make_interval(secs => least(span_s * 0.7, (3 + 25 * pg_temp.u(g, 36)) * 86400)) AS dur,
           (NOT is_open AND NOT next_is_ren AND pg_temp.u(g, 37) < 0.08) AS has_fine,
           pg_temp.u(g, 38) < 0.30 AS fine_unpaid
    FROM c
), e AS (
    SELECT d.*,
           CASE WHEN is_open THEN NULL
                WHEN next_is_ren THEN slot_start + make_interval(secs => span_s)   -- = checkout of the renewal
                ELSE checked_out_at + dur
           END AS returned_at,
           lag(g) OVER w AS prev_g,
           lag(checked_out_at) OVER w AS prev_checked_out_at
    FROM d WINDOW w AS (PARTITION BY item_id ORDER BY seq)
)
SELECT g AS id, patron_id, item_id, 1 + floor(pg_temp.u(item_id, 20) * 5)::int AS library_id,
       checked_out_at,
       CASE WHEN has_fine THEN checked_out_at + dur * 0.6 ELSE checked_out_at + interval '21 days' END AS due_at,
       returned_at,
       CASE WHEN returned_at IS NULL THEN NULL
            WHEN NOT has_fine THEN returned_at
            WHEN fine_unpaid THEN NULL
            ELSE greatest(returned_at, least(returned_at + make_interval(secs => 86400 * 20 * pg_temp.u(g, 39)), :'tref'::timestamptz))
       END AS fines_settled_at,
       renewal_count::int AS renewal_count,
       CASE WHEN is_ren THEN prev_g END AS renews_loan_id,
       CASE WHEN is_ren THEN prev_checked_out_at END AS renews_checked_out_at,
       has_fine,
       (0.25 * (1 + floor(pg_temp.u(g, 40) * 40)))::numeric(10,2) AS fine_amount
FROM e;

INSERT INTO loans (id, patron_id, item_id, library_id, checked_out_at, due_at, returned_at,
                   fines_settled_at, renewal_count, renews_loan_id, renews_checked_out_at)
SELECT id, patron_id, item_id, library_id, checked_out_at, due_at, returned_at,
       fines_settled_at, renewal_count, renews_loan_id, renews_checked_out_at
FROM gen_loan
ORDER BY checked_out_at;
SELECT setval('loans_id_seq', (SELECT max(id) FROM loans));

UPDATE items SET status = 'on_loan' WHERE id IN (SELECT item_id FROM loans WHERE returned_at IS NULL);

INSERT INTO fines (patron_id, loan_id, loan_checked_out_at, amount, reason, created_at)
SELECT patron_id, id, checked_out_at, fine_amount, 'overdue', returned_at
FROM gen_loan WHERE has_fine ORDER BY returned_at;

INSERT INTO payments (patron_id, amount, method, paid_at)
SELECT patron_id, fine_amount, CASE WHEN id % 3 = 0 THEN 'card' ELSE 'cash' END, fines_settled_at
FROM gen_loan WHERE has_fine AND fines_settled_at IS NOT NULL ORDER BY fines_settled_at;

DROP TABLE gen_loan_a, gen_loan;

-- Holds -------------------------------------------------------------------------------------------
INSERT INTO holds (id, patron_id, title_id, item_id, pickup_library_id, placed_at, fulfilled_at, cancelled_at)
SELECT g, patron_id, title_id,
       CASE WHEN state = 'fulfilled' THEN title_id END,        -- copy 1 of the title
       pickup, placed_at,
       CASE WHEN state = 'fulfilled' THEN least(placed_at + make_interval(days => 1 + floor(pg_temp.u(g, 45) * 20)::int), :'tref'::timestamptz) END,
       CASE WHEN state = 'cancelled' THEN least(placed_at + make_interval(days => 1 + floor(pg_temp.u(g, 46) * 60)::int), :'tref'::timestamptz) END
FROM (
    SELECT g,
           1 + floor(:npat * pg_temp.u(g, 41))::bigint AS patron_id,
           1 + floor(:ntitles * pg_temp.u(g, 42) ^ 2)::bigint AS title_id,
           1 + floor(pg_temp.u(g, 43) * 5)::int AS pickup,
           CASE WHEN pg_temp.u(g, 44) < 0.06 THEN 'open'
                WHEN pg_temp.u(g, 44) < 0.75 THEN 'fulfilled' ELSE 'cancelled' END AS state,
           CASE WHEN pg_temp.u(g, 44) < 0.06
                THEN :'tref'::timestamptz - make_interval(secs => 60 * 86400 * pg_temp.u(g, 47))
                ELSE :'tstart'::timestamptz + make_interval(secs => extract(epoch FROM (:'tref'::timestamptz - :'tstart'::timestamptz)) * pg_temp.u(g, 47))
           END AS placed_at
    FROM generate_series(1, :nholds) g
) h;
SELECT setval(pg_get_serial_sequence('demo.holds', 'id'), (SELECT max(id) FROM holds));

-- Short-lived logs: sign-ups over the 10 days before ref_time (about 70% older than 3 days),
-- receipts over the 90 days before it (about 2/3 older than 30 days). -----------------------------
INSERT INTO internet_signups (patron_id, library_id, workstation, signed_up_at)
SELECT 1 + floor(:npat * pg_temp.u(g, 51))::bigint,
       1 + floor(pg_temp.u(g, 52) * 5)::int,
       'PC-' || lpad((1 + floor(pg_temp.u(g, 53) * 24))::int::text, 2, '0'),
       :'tref'::timestamptz - make_interval(secs => 10 * 86400 * pg_temp.u(g, 54))
FROM generate_series(1, greatest(1, round(5000 * :scale))::bigint) g
ORDER BY 4;

INSERT INTO receipts (patron_id, library_id, printed_at, body)
SELECT p, 1 + floor(pg_temp.u(g, 56) * 5)::int, t,
       'Checkout receipt for card ending ' || right('2' || lpad(p::text, 13, '0'), 4)
         || E'\n' || (1 + floor(pg_temp.u(g, 57) * 5))::int || ' item(s), due '
         || to_char(t + interval '21 days', 'YYYY-MM-DD')
FROM (SELECT g, 1 + floor(:npat * pg_temp.u(g, 55))::bigint AS p,
             :'tref'::timestamptz - make_interval(secs => 90 * 86400 * pg_temp.u(g, 58)) AS t
      FROM generate_series(1, greatest(1, round(20000 * :scale))::bigint) g) r
ORDER BY t;

-- Notices: the last 14 days; those older than a day have been sent.
INSERT INTO notice_outbox (patron_id, channel, purpose, body, created_at, sent_at)
SELECT p, ch, purpose,
       CASE WHEN purpose = 'newsletter' THEN 'Consortium newsletter: new this month at your library'
            ELSE 'Dear patron, an item you borrowed is due soon.' END,
       t, CASE WHEN t < :'tref'::timestamptz - interval '1 day' THEN t + interval '10 minutes' END
FROM (SELECT g, 1 + floor(:npat * pg_temp.u(g, 61))::bigint AS p,
             (ARRAY['email','email','email','sms','sms','phone','mail'])[1 + floor(pg_temp.u(g, 62) * 7)::int] AS ch,
             CASE WHEN pg_temp.u(g, 63) < 0.10 THEN 'newsletter' ELSE 'notices' END AS purpose,
             :'tref'::timestamptz - make_interval(secs => 14 * 86400 * pg_temp.u(g, 64)) AS t
      FROM generate_series(1, greatest(1, round(3000 * :scale))::bigint) g) o
ORDER BY t;

-- Opt-in reading history (only patrons with keep_history).
INSERT INTO reading_history (patron_id, title_id, read_at, rating)
SELECT c.p, 1 + floor(:ntitles * pg_temp.u(c.g, 72))::bigint,
       :'tstart'::timestamptz + make_interval(secs => extract(epoch FROM (:'tref'::timestamptz - :'tstart'::timestamptz)) * pg_temp.u(c.g, 73)),
       CASE WHEN pg_temp.u(c.g, 74) < 0.5 THEN 1 + floor(pg_temp.u(c.g, 75) * 5)::int END
FROM (SELECT g, 1 + floor(:npat * pg_temp.u(g, 71))::bigint AS p
      FROM generate_series(1, 10 * :npat) g) c
JOIN patrons pa ON pa.id = c.p AND pa.keep_history
ORDER BY 3;

-- Notices about loans (overdue notices for loans that were fined, courtesy notices for a tenth of
-- the loans, a few 'lost' notices), rendered with the patron's name and the item's title and barcode.
INSERT INTO loan_events (loan_id, loan_checked_out_at, patron_id, kind, rendered, created_at, bill_open)
SELECT l.id, l.checked_out_at, l.patron_id, e.kind,
       'Dear ' || p.name || ', "' || t.title || '" (item ' || i.barcode || ') '
         || CASE e.kind WHEN 'courtesy' THEN 'is due on ' WHEN 'overdue' THEN 'was due on '
                        ELSE 'is considered lost; it was due on ' END
         || to_char(l.due_at, 'YYYY-MM-DD') || '.',
       CASE e.kind WHEN 'courtesy' THEN l.due_at - interval '2 days' ELSE l.due_at + interval '1 day' END,
       e.kind = 'lost' AND pg_temp.u(l.id, 112) < 0.5
FROM loans l
JOIN patrons p ON p.id = l.patron_id
JOIN items i ON i.id = l.item_id
JOIN titles t ON t.id = i.title_id
CROSS JOIN LATERAL (
    SELECT 'overdue' AS kind WHERE EXISTS (SELECT FROM fines f WHERE f.loan_id = l.id AND f.loan_checked_out_at = l.checked_out_at)
    UNION ALL SELECT 'courtesy' WHERE pg_temp.u(l.id, 110) < 0.10
    UNION ALL SELECT 'lost' WHERE l.returned_at IS NOT NULL AND pg_temp.u(l.id, 111) < 0.005
) e
ORDER BY 6;

-- Devices and their loans (children of the billable-transaction parent).  Per device, loans follow
-- each other; about 4% are lost and paid for (stop_reason LOST, finished, never checked in), 1%
-- lost and not paid yet, 1% claimed returned and finished, 3% returned with a bill still open;
-- about 10% renew the loan before them (same patron, renews_xact_id); the last loan of about a
-- third of the devices is still out.
SELECT greatest(1, round(500 * :scale))::bigint AS ndev,
       greatest(1, round(8000 * :scale))::bigint AS ndevloans
\gset
INSERT INTO devices (id, library_id, kind, barcode)
SELECT g, 1 + floor(pg_temp.u(g, 101) * 5)::int,
       (ARRAY['laptop', 'hotspot', 'e-reader'])[1 + floor(pg_temp.u(g, 102) * 3)::int],
       'D' || lpad(g::text, 9, '0')
FROM generate_series(1, :ndev) g;

CREATE TEMP TABLE gen_dev AS
WITH numbered AS (
    SELECT g, device_id, row_number() OVER (PARTITION BY device_id ORDER BY g) AS seq,
           count(*) OVER (PARTITION BY device_id) AS k
    FROM (SELECT g, 1 + floor(:ndev * pg_temp.u(g, 103))::bigint AS device_id
          FROM generate_series(1, :ndevloans) g) b
), st AS (
    SELECT n.*,
           CASE WHEN seq = k AND pg_temp.u(device_id, 104) < 0.33 THEN 'open'
                WHEN pg_temp.u(g, 105) < 0.04 THEN 'lost_paid'
                WHEN pg_temp.u(g, 105) < 0.05 THEN 'lost_unpaid'
                WHEN pg_temp.u(g, 105) < 0.06 THEN 'claims'
                WHEN pg_temp.u(g, 105) < 0.09 THEN 'billed'
                ELSE 'returned' END AS state,
           extract(epoch FROM (:'tref'::timestamptz - :'tstart'::timestamptz)) / k AS span_s
    FROM numbered n
), ren AS (
    SELECT st.*, (seq > 1 AND coalesce(lag(state) OVER w, '') = 'returned' AND pg_temp.u(g, 106) < 0.10) AS is_ren
    FROM st WINDOW w AS (PARTITION BY device_id ORDER BY seq)
), ch AS (
    SELECT ren.*, sum(CASE WHEN is_ren THEN 0 ELSE 1 END) OVER w AS chain,
           CASE WHEN is_ren THEN lag(g) OVER w END AS renews,
           :'tstart'::timestamptz + make_interval(secs => (seq - 1) * span_s) AS xact_start
    FROM ren WINDOW w AS (PARTITION BY device_id ORDER BY seq)
)
SELECT g AS id, device_id, state, renews,
       1 + floor(:npat * pg_temp.u(device_id * 1000003 + chain, 107))::bigint AS patron_id,
       xact_start,
       xact_start + make_interval(secs => span_s * 0.6) AS due_at,
       CASE WHEN state IN ('returned', 'billed') THEN xact_start + make_interval(secs => span_s * (0.3 + 0.5 * pg_temp.u(g, 108))) END AS checkin_time,
       CASE state WHEN 'lost_paid' THEN 'LOST' WHEN 'lost_unpaid' THEN 'LOST' WHEN 'claims' THEN 'CLAIMSRETURNED' END AS stop_reason,
       CASE WHEN state = 'returned' THEN xact_start + make_interval(secs => span_s * (0.3 + 0.5 * pg_temp.u(g, 108)))
            WHEN state IN ('lost_paid', 'claims') THEN xact_start + make_interval(secs => span_s * 0.9) END AS xact_finish
FROM ch;
-- a renewal starts when the loan it renews was checked in
UPDATE gen_dev r SET xact_start = p.checkin_time, patron_id = p.patron_id
  FROM gen_dev p WHERE r.renews = p.id;
INSERT INTO device_loans (id, patron_id, xact_start, xact_finish, device_id, due_at, checkin_time, stop_reason, renews_xact_id)
SELECT id, patron_id, xact_start, xact_finish, device_id, due_at, checkin_time, stop_reason, renews
FROM gen_dev ORDER BY id;
DROP TABLE gen_dev;

INSERT INTO misc_charges (id, patron_id, xact_start, xact_finish, billing_type, note)
SELECT :ndevloans + g, 1 + floor(:npat * pg_temp.u(g, 113))::bigint, t,
       CASE WHEN pg_temp.u(g, 114) < 0.8 THEN t + interval '3 days' END,
       (ARRAY['printing', 'replacement card', 'room booking'])[1 + floor(pg_temp.u(g, 115) * 3)::int], NULL
FROM (SELECT g, :'tstart'::timestamptz + make_interval(secs => extract(epoch FROM (:'tref'::timestamptz - :'tstart'::timestamptz)) * pg_temp.u(g, 116)) AS t
      FROM generate_series(1, greatest(1, round(1000 * :scale))::bigint) g) m;
SELECT setval('billable_xacts_id_seq', (SELECT max(id) FROM billable_xacts));

-- The ILS re-saved some patron and address records (its audit triggers kept the old rows).
UPDATE patrons SET expires_on = expires_on WHERE id > 0 AND pg_temp.u(id, 121) < 0.03;
UPDATE addresses SET email = email WHERE pg_temp.u(patron_id, 122) < 0.05;

RESET search_path;
ANALYZE demo.libraries, demo.patrons, demo.addresses, demo.titles, demo.items, demo.loans,
        demo.holds, demo.fines, demo.payments, demo.internet_signups, demo.receipts,
        demo.notice_outbox, demo.reading_history, demo.loan_events, demo.devices, demo.device_loans,
        demo.misc_charges, demo.xact_summaries, demo.patron_history;

SELECT (SELECT count(*) FROM demo.patrons) AS patrons,
       (SELECT count(*) FROM demo.items) AS items,
       (SELECT count(*) FROM demo.loans) AS loans,
       (SELECT count(*) FROM demo.loans WHERE returned_at IS NULL) AS open_loans,
       (SELECT count(*) FROM demo.loans WHERE returned_at IS NOT NULL AND fines_settled_at IS NULL) AS unsettled,
       (SELECT count(*) FROM demo.loans WHERE renews_loan_id IS NOT NULL) AS renewals,
       (SELECT count(*) FROM demo.holds) AS holds;
