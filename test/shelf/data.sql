-- test/shelf/data.sql: the Shelfmark-shaped ILS's history before binding, as its role (a
-- superuser) loads it: members, pieces, years of loans in bulk (COPY FROM a server file, through
-- the routing trigger of the inheritance parent), the archive (COPY FROM into the partitioned
-- table), charges and their links, notices, and the crafted patrons:
--   Z (…9001, card SHZ9001, Zora Zeller): expired 2025-08-01, owes nothing; borrowed P-201..P-205
--     (each borrowed after by W), P-206 (Z its last borrower), an interlibrary loan (no item),
--     P-207 in the archive (W after); a paid overdue charge linked to the loan of P-201; notices
--     naming Z and the titles; Z's tally (last loan: P-205); an audit row of an e-mail change;
--     P-202 and P-206 were checked out at one visit (same time, same due date)
--   W (…9002, card SHW9002, Walt Wexler): the catalogue's patron; borrowed after Z; one open loan
--   Y (…9003): last borrower of P-209, open loan of P-210
--   C (…9004, Cleo Collect): owes 40 on the loan of P-211 (unsettled)
--   the anonymous member …0000, 40 generic members …0001-…0040 (…0005 keeps history)

CREATE FUNCTION pg_temp.m(n int) RETURNS uuid LANGUAGE sql IMMUTABLE AS
    $$ SELECT format('00000000-0000-0000-0000-%s', lpad(n::text, 12, '0'))::uuid $$;
CREATE FUNCTION pg_temp.l(n int) RETURNS uuid LANGUAGE sql IMMUTABLE AS
    $$ SELECT format('00000000-0000-0000-0001-%s', lpad(n::text, 12, '0'))::uuid $$;

INSERT INTO members.member (member_key, card_code, given_name, family_name, email, born, valid_until) VALUES
    (pg_temp.m(0), NULL, NULL, 'Anonymous', NULL, NULL, '9999-12-31'),
    (pg_temp.m(9001), 'SHZ9001', 'Zora', 'Zeller', 'zora.old@zeller.example', '1971-04-04', '2025-08-01'),
    (pg_temp.m(9002), 'SHW9002', 'Walt', 'Wexler', 'walt@wexler.example', '1980-02-02', '2030-01-01'),
    (pg_temp.m(9003), 'SHY9003', 'Yuki', 'Yarrow', 'yuki@yarrow.example', '1990-03-03', '2030-01-01'),
    (pg_temp.m(9004), 'SHC9004', 'Cleo', 'Collect', 'cleo@collect.example', '1985-05-05', '2030-01-01');
INSERT INTO members.member (member_key, card_code, given_name, family_name, email, valid_until, keeps_history)
SELECT pg_temp.m(g), 'SHG' || lpad(g::text, 4, '0'), 'Given' || g, 'Family' || g, 'm' || g || '@shelf.example', '2030-01-01', g = 5
  FROM generate_series(1, 40) g;
-- Z changed their e-mail once: the ILS's audit keeps the old one
UPDATE members.member SET email = 'zora@zeller.example' WHERE member_key = pg_temp.m(9001);

INSERT INTO stock.piece SELECT 'P-' || lpad(g::text, 3, '0'), 'Shelf Title ' || g FROM generate_series(1, 60) g;
INSERT INTO stock.piece SELECT 'P-' || g, 'Shelf Title ' || g FROM generate_series(201, 215) g;

SELECT current_setting('data_directory') || '/shelf_history_1.copy' AS shelf_hist,
       current_setting('data_directory') || '/shelf_archive_1.copy' AS shelf_arch \gset
-- years of generic history, in bulk: items P-001..P-040, eight loans each, 2024-2025; the last
-- loan of P-001..P-010 is still out
COPY (SELECT pg_temp.l(1000 + i * 10 + k), pg_temp.m(1 + (i * 7 + k * 3) % 40), 'P-' || lpad(i::text, 3, '0'),
             'D' || (1 + k % 3), timestamptz '2024-01-05 10:00+00' + make_interval(days => k * 60 + i),
             (timestamptz '2024-01-05 10:00+00' + make_interval(days => k * 60 + i + 21))::date,
             CASE WHEN k = 8 AND i <= 10 THEN NULL ELSE timestamptz '2024-01-05 16:00+00' + make_interval(days => k * 60 + i + 14) END,
             0
        FROM generate_series(1, 40) i, generate_series(1, 8) k) TO :'shelf_hist';
COPY circ.lending FROM :'shelf_hist';

-- Z's history (in the order the ILS wrote it: the tally's last loan is P-205)
INSERT INTO circ.lending (lending_id, member_key, piece_code, lent_on, due_on, returned_on) VALUES
    (pg_temp.l(7), pg_temp.m(9001), NULL, '2025-01-03 11:00+00', '2025-01-31', '2025-01-25 11:00+00'),
    (pg_temp.l(1), pg_temp.m(9001), 'P-206', '2025-01-10 11:00+00', '2025-01-31', '2025-01-20 11:00+00'),
    (pg_temp.l(2), pg_temp.m(9001), 'P-201', '2025-02-01 11:00+00', '2025-02-22', '2025-02-25 15:31+00'),
    (pg_temp.l(3), pg_temp.m(9001), 'P-202', '2025-01-10 11:00+00', '2025-01-31', '2025-02-12 11:00+00'),   -- same visit as P-206
    (pg_temp.l(4), pg_temp.m(9001), 'P-203', '2025-02-03 11:00+00', '2025-02-24', '2025-02-13 11:00+00'),
    (pg_temp.l(5), pg_temp.m(9001), 'P-204', '2025-02-04 11:00+00', '2025-02-25', '2025-02-14 11:00+00'),
    (pg_temp.l(6), pg_temp.m(9001), 'P-205', '2025-02-05 11:00+00', '2025-02-26', '2025-02-15 11:00+00');
-- W after Z, Y, C
INSERT INTO circ.lending (lending_id, member_key, piece_code, lent_on, due_on, returned_on, charges_open) VALUES
    (pg_temp.l(12), pg_temp.m(9002), 'P-201', '2025-04-01 12:00+00', '2025-04-22', '2025-04-11 12:00+00', 0),
    (pg_temp.l(13), pg_temp.m(9002), 'P-202', '2025-04-02 12:00+00', '2025-04-23', '2025-04-12 12:00+00', 0),
    (pg_temp.l(14), pg_temp.m(9002), 'P-203', '2025-04-03 12:00+00', '2025-04-24', '2025-04-13 12:00+00', 0),
    (pg_temp.l(15), pg_temp.m(9002), 'P-204', '2025-04-04 12:00+00', '2025-04-25', '2025-04-14 12:00+00', 0),
    (pg_temp.l(16), pg_temp.m(9002), 'P-205', '2025-04-05 12:00+00', '2025-04-26', '2025-04-15 12:00+00', 0),
    (pg_temp.l(18), pg_temp.m(9002), 'P-208', '2026-11-20 12:00+00', '2026-12-11', NULL, 0),
    (pg_temp.l(20), pg_temp.m(9003), 'P-209', '2025-05-01 12:00+00', '2025-05-22', '2025-05-11 12:00+00', 0),
    (pg_temp.l(21), pg_temp.m(9003), 'P-210', '2026-11-21 12:00+00', '2026-12-12', NULL, 0),
    (pg_temp.l(22), pg_temp.m(9004), 'P-211', '2025-06-01 12:00+00', '2025-06-22', '2025-06-30 12:00+00', 40);

-- the archive, in bulk: Z then W borrowed P-207 in 2023; generic rows on P-041..P-045
COPY (SELECT pg_temp.l(500 + g), CASE g WHEN 1 THEN pg_temp.m(9001) WHEN 2 THEN pg_temp.m(9002) ELSE pg_temp.m(1 + g % 40) END,
             CASE WHEN g <= 2 THEN 'P-207' ELSE 'P-' || lpad((41 + g % 5)::text, 3, '0') END,
             timestamptz '2023-02-01 10:00+00' + make_interval(days => g * 20),
             timestamptz '2023-02-08 10:00+00' + make_interval(days => g * 20)
        FROM generate_series(1, 15) g) TO :'shelf_arch';
COPY circ.lending_archive FROM :'shelf_arch';

-- charges: Z's overdue fine on P-201, charged at its return and paid; C's, owed
INSERT INTO circ.charge (member_key, kind, amount, charged_at, paid_at) VALUES
    (pg_temp.m(9001), 'overdue', 1.50, '2025-02-25 15:31+00', '2025-03-01 10:00+00'),
    (pg_temp.m(9004), 'lost', 40.00, '2025-06-30 12:00+00', NULL),
    (pg_temp.m(9002), 'card', 2.00, '2025-04-01 12:00+00', '2025-04-01 12:00+00');
INSERT INTO circ.charge_lending VALUES (1, pg_temp.l(2)), (2, pg_temp.l(22));

-- notices: the ILS renders patron and title into the text
INSERT INTO msg.outgoing (member_key, lending_id, body, queued_at, sent_at) VALUES
    (pg_temp.m(9001), pg_temp.l(2), 'Dear Zora Zeller, "Shelf Title 201" (P-201) is overdue.', '2025-02-23 06:00+00', '2025-02-23 06:01+00'),
    (pg_temp.m(9001), pg_temp.l(4), 'Dear Zora Zeller, "Shelf Title 203" (P-203) is due soon.', '2025-02-20 06:00+00', '2025-02-20 06:01+00'),
    (pg_temp.m(9001), NULL, 'Welcome, Zora Zeller: your card SHZ9001 is ready.', '2024-12-01 06:00+00', '2024-12-01 06:01+00'),
    (pg_temp.m(9002), pg_temp.l(18), 'Dear Walt Wexler, "Shelf Title 208" (P-208) is due soon.', '2026-12-01 06:00+00', NULL),
    (pg_temp.m(9004), pg_temp.l(22), 'Dear Cleo Collect, "Shelf Title 211" (P-211) is billed as lost.', '2025-06-30 12:00+00', '2025-06-30 12:01+00');
