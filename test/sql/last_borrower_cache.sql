-- The last-borrower answers of one statement (src/last_borrower.c): a
-- statement that asks about many rows keeps the answers, and past 1024 rows
-- reads the whole tracker once.  Whichever path answers, staff must see the
-- patron of exactly the rows the tracker names for their own item, and the
-- answers must not outlive the snapshot they were read under.
--
-- The fixture: items 1-1500 each have one closed, settled loan from before
-- bind_loans (identified, not tracked: hidden from staff); items 1501-3000
-- have one such loan and one returned after binding (tracked: the last
-- borrower, visible), which severed the older one.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pals_privacy;

BEGIN;
SELECT plan(9);

CREATE ROLE regress_lbc_staff;
SELECT pals_privacy.classify_role('regress_lbc_staff', 'staff');
CREATE SCHEMA lbc;
GRANT USAGE ON SCHEMA lbc TO regress_lbc_staff;
CREATE TABLE lbc.patrons (id bigint PRIMARY KEY, expires date NOT NULL DEFAULT 'infinity');
INSERT INTO lbc.patrons SELECT g FROM generate_series(1, 50) g;
CREATE TABLE lbc.loans (id int PRIMARY KEY, patron_id bigint, item_id int NOT NULL, returned date, paid date);
GRANT SELECT, INSERT, UPDATE ON lbc.loans TO regress_lbc_staff;
-- (inserted from item 3000 down, so that a full scan reaches item 1 last, after the tracker is read)
INSERT INTO lbc.loans SELECT g, 1 + g % 50, g, '2024-01-01', '2024-01-01' FROM generate_series(3000, 1, -1) g;
SELECT pals_privacy.bind_patrons('lbc.patrons', 'id', 'expires');
SELECT pals_privacy.bind_loans('lbc.loans', 'patron_id', 'item_id', ARRAY['returned'], 'paid', build_tracker => false);
INSERT INTO lbc.loans SELECT 3000 + g, 1 + g % 50, g, NULL, NULL FROM generate_series(1501, 3000) g;
UPDATE lbc.loans SET returned = '2025-01-01', paid = '2025-01-01' WHERE id > 3000;

-- What the tracker says, read directly: the rows it names for their own item.
CREATE FUNCTION lbc.tracked(l lbc.loans, tid tid) RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT EXISTS (SELECT FROM pals_privacy.last_borrower t
                    WHERE t.binding = 'lbc.loans'::regclass AND t.item = l.item_id::text
                      AND t.row_relid = 'lbc.loans'::regclass AND t.row_tid = tid)
$$;

-- A stale entry: the tracker row of item 1600 now names the TID of item 1's
-- untracked, identified loan (as after VACUUM FULL moved rows about).  Item
-- 1's patron must stay hidden: the answer is about item 1600.
UPDATE pals_privacy.last_borrower
   SET row_tid = (SELECT ctid FROM lbc.loans WHERE item_id = 1)
 WHERE binding = 'lbc.loans'::regclass AND item = '1600';

SELECT is((SELECT count(*) FROM lbc.loans l
            WHERE pals_privacy._last_borrower('lbc.loans'::regclass, l.item_id::text, l.tableoid, l.ctid)
                  IS DISTINCT FROM lbc.tracked(l, l.ctid)),
          0::bigint,
          'one statement over 4,500 rows (the whole tracker read at once): every answer is the tracker''s');
SELECT is((SELECT count(*) FROM lbc.loans l
            WHERE l.item_id <= 300
              AND pals_privacy._last_borrower('lbc.loans'::regclass, l.item_id::text, l.tableoid, l.ctid)
                  IS DISTINCT FROM lbc.tracked(l, l.ctid)),
          0::bigint,
          'one statement over 300 rows (one probe each): every answer is the tracker''s');
SELECT is((SELECT count(*) FROM lbc.loans l
            WHERE pals_privacy._last_borrower('lbc.loans'::regclass, l.item_id::text, l.tableoid, l.ctid)),
          1499::bigint, 'the tracker names 1,499 rows for their own item (1,500 but the stale one)');

-- Within one top-level statement, a return changes the answers of the next
-- command: item 7 gets a last borrower after the first count.
CREATE FUNCTION lbc.counts_around_a_return() RETURNS bigint[] LANGUAGE plpgsql AS $$
DECLARE
    before bigint;
    after bigint;
BEGIN
    SELECT count(patron_id) INTO before FROM lbc.loans;
    INSERT INTO lbc.loans VALUES (9001, 7, 7, NULL, NULL);
    UPDATE lbc.loans SET returned = '2025-02-01', paid = '2025-02-01' WHERE id = 9001;
    SELECT count(patron_id) INTO after FROM lbc.loans;
    RETURN ARRAY[before, after];
END $$;
-- Ground truth for the joins below, computed as superuser from the tracker
-- itself (not from another redacted query): the pairs of rows staff may see
-- whose patrons match.  Every loan is closed and settled here, so staff see
-- exactly the rows the tracker names.
SELECT count(*) AS lbc_pairs, md5(coalesce(string_agg(l1.id || ':' || l2.id, ',' ORDER BY l1.id, l2.id), '')) AS lbc_pairs_md5
  FROM lbc.loans l1 JOIN lbc.loans l2 ON l2.patron_id = l1.patron_id
 WHERE lbc.tracked(l1, l1.ctid) AND lbc.tracked(l2, l2.ctid) \gset
SET ROLE regress_lbc_staff;
SELECT is((SELECT count(patron_id) FROM lbc.loans), 1499::bigint,
          'staff, one statement over every row: the patrons of the 1,499 last borrowers, no other');
SELECT is((SELECT count(*) FILTER (WHERE item_id = 1 AND patron_id IS NOT NULL) FROM lbc.loans), 0::bigint,
          'the row a stale tracker entry names for another item keeps its patron hidden');
SELECT is((SELECT count(*) FROM lbc.loans l1 JOIN lbc.loans l2 ON l2.patron_id = l1.patron_id
            WHERE l1.item_id <= 1500 OR l2.item_id <= 1500), 0::bigint,
          'a join on the patron column (the condition evaluated twice per row) matches no hidden row');
SELECT is((SELECT count(*) || ' ' || md5(coalesce(string_agg(l1.id || ':' || l2.id, ',' ORDER BY l1.id, l2.id), ''))
             FROM lbc.loans l1 JOIN lbc.loans l2 ON l2.patron_id = l1.patron_id),
          :'lbc_pairs' || ' ' || :'lbc_pairs_md5',
          'and matches exactly the pairs of last borrowers the tracker names (superuser''s ground truth)');

SELECT is(lbc.counts_around_a_return(), ARRAY[1499, 1500]::bigint[],
          'a return inside the same statement: the next command sees the new last borrower');
SELECT is((SELECT patron_id FROM lbc.loans WHERE id = 9001), 7::bigint,
          'which staff read as the last borrower of item 7');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
