-- Severing on return (src/sever.c): each item keeps one identified closed
-- row, its last borrower.  Every rule is run with each strategy ('null',
-- 'patron:0', 'delete') on a plain table, a partitioned table (rows of one
-- item in different partitions) and an inheritance parent with a child,
-- both with keep_last_borrower (loans) and without it (holds).  Then: the
-- pending path (a foreign key, ILS triggers that refuse), an INSERT of an
-- already-closed row (Koha-style old_issues), reading history opt-in
-- (copy, in place, withdrawal), cross-partition moves, unbind, and a
-- staff role that tries to use the trigger against the extension.
-- Everything runs in one transaction that is rolled back: nothing stays
-- bound.  sever_backlog() commits, so it has its own file
-- (severing_backlog.sql).
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pals_privacy;

BEGIN;
SELECT plan(305);

CREATE SCHEMA sv;
CREATE TABLE sv.patrons (
    id            bigint PRIMARY KEY,
    name          text NOT NULL,
    expires       date NOT NULL DEFAULT 'infinity',
    keep_history  boolean NOT NULL DEFAULT false
);
INSERT INTO sv.patrons (id, name) VALUES
    (0, 'anonymous placeholder'), (1, 'Ada'), (2, 'Bo'), (3, 'Cy'), (4, 'Di'),
    (5, 'Ed'), (6, 'Flo'), (7, 'Gus (keeps history)'), (8, 'Hal');
UPDATE sv.patrons SET keep_history = true WHERE id = 7;
DO $$ BEGIN
    PERFORM pals_privacy.bind_patrons('sv.patrons', 'id', 'expires', keep_history_column => 'keep_history');
END $$;

------------------------------------------------------------------------------
-- Helpers
------------------------------------------------------------------------------

-- The rows of a loans table as 'id:patron' ordered by id ('-' = NULL).
CREATE FUNCTION sv.state(rel regclass) RETURNS text LANGUAGE plpgsql AS $$
DECLARE s text;
BEGIN
    EXECUTE format('SELECT string_agg(id || '':'' || coalesce(patron_id::text, ''-''), '' '' ORDER BY id) FROM %s', rel)
        INTO s;
    RETURN coalesce(s, '');
END $$;

-- One row's patron: '-' for NULL, 'gone' if there is no such row.
CREATE FUNCTION sv.patron_of(rel regclass, row_id int) RETURNS text LANGUAGE plpgsql AS $$
DECLARE s text; found_it boolean;
BEGIN
    EXECUTE format('SELECT coalesce(patron_id::text, ''-''), true FROM %s WHERE id = $1', rel)
        INTO s, found_it USING row_id;
    RETURN CASE WHEN found_it THEN s ELSE 'gone' END;
END $$;

-- A logical expectation ('n:S' = row n severed) in the form sv.state()
-- shows it for a strategy: NULL patron, placeholder patron 0, or no row.
CREATE FUNCTION sv.expect(logical text, strategy text) RETURNS text LANGUAGE sql AS $$
    SELECT coalesce(string_agg(CASE WHEN tok NOT LIKE '%:S' THEN tok
                                    WHEN strategy = 'null' THEN split_part(tok, ':', 1) || ':-'
                                    WHEN strategy = 'patron:0' THEN split_part(tok, ':', 1) || ':0' END,
                               ' ' ORDER BY n) FILTER (WHERE tok NOT LIKE '%:S' OR strategy <> 'delete'), '')
      FROM unnest(string_to_array(logical, ' ')) WITH ORDINALITY AS u(tok, n)
$$;

-- A loans table of the test matrix.
CREATE TABLE sv.cases (
    ord       serial,
    name      text PRIMARY KEY,
    rel       regclass,
    child     regclass,     -- where rows checked out in 2023 are inserted
    shape     text,
    strategy  text,
    klb       boolean
);

CREATE FUNCTION sv.make(name text, shape text, strategy text, klb boolean) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE cols constant text := 'id int NOT NULL, patron_id bigint, item_id int NOT NULL, renewal_of int,
                               checked_out timestamptz NOT NULL, returned timestamptz, lost timestamptz,
                               paid timestamptz';
        child text;
BEGIN
    IF shape = 'plain' THEN
        EXECUTE format('CREATE TABLE sv.%I (%s, PRIMARY KEY (id))', name, cols);
        child := format('sv.%I', name);
    ELSIF shape = 'partitioned' THEN
        EXECUTE format('CREATE TABLE sv.%I (%s, PRIMARY KEY (id, checked_out)) PARTITION BY RANGE (checked_out)', name, cols);
        EXECUTE format('CREATE TABLE sv.%I PARTITION OF sv.%I FOR VALUES FROM (''2023-01-01'') TO (''2024-01-01'')', name || '_2023', name);
        EXECUTE format('CREATE TABLE sv.%I PARTITION OF sv.%I FOR VALUES FROM (''2024-01-01'') TO (''2025-01-01'')', name || '_2024', name);
        EXECUTE format('CREATE TABLE sv.%I PARTITION OF sv.%I DEFAULT', name || '_other', name);
        child := format('sv.%I', name || '_2023');
    ELSE
        EXECUTE format('CREATE TABLE sv.%I (%s, PRIMARY KEY (id))', name, cols);
        EXECUTE format('CREATE TABLE sv.%I (PRIMARY KEY (id)) INHERITS (sv.%I)', name || '_2023', name);
        child := format('sv.%I', name || '_2023');
    END IF;
    PERFORM pals_privacy.bind_loans(format('sv.%I', name)::regclass, 'patron_id', 'item_id', '{returned,lost}', 'paid',
                                    sever_with => strategy, keep_last_borrower => klb);
    INSERT INTO sv.cases (name, rel, child, shape, strategy, klb)
    VALUES (name, format('sv.%I', name)::regclass, child::regclass, shape, strategy, klb);
END $$;

-- Insert a loan (into the child/partition when checked out in 2023).
CREATE FUNCTION sv.ins(c sv.cases, id int, patron bigint, item int, co date,
                       ret date DEFAULT NULL, paid date DEFAULT NULL, renewal_of int DEFAULT NULL) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('INSERT INTO %s (id, patron_id, item_id, checked_out, returned, paid, renewal_of)
                    VALUES ($1, $2, $3, $4, $5, $6, $7)',
                   CASE WHEN extract(year FROM co) = 2023 THEN c.child ELSE c.rel END)
        USING id, patron, item, co, ret, paid, renewal_of;
END $$;

-- Update a loan through the bound (parent) relation.
CREATE FUNCTION sv.upd(c sv.cases, id int, sets text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('UPDATE %s SET %s WHERE id = $1', c.rel, sets) USING id;
END $$;

-- The scenario, one step at a time; returns sv.state() after the step.
CREATE FUNCTION sv.step(c sv.cases, n int) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    CASE n
    WHEN 1 THEN   -- item 100 borrowed and returned by 1; item 200 by 4; item 100 out to 2
        PERFORM sv.ins(c, 1, 1, 100, '2023-01-10');
        PERFORM sv.upd(c, 1, $s$returned = '2023-02-01', paid = '2023-02-01'$s$);
        PERFORM sv.ins(c, 2, 2, 100, '2024-01-10');
        PERFORM sv.ins(c, 3, 4, 200, '2023-05-01');
        PERFORM sv.upd(c, 3, $s$returned = '2023-06-01', paid = '2023-06-01'$s$);
    WHEN 2 THEN   -- 2 returns item 100, which goes out to 3
        PERFORM sv.upd(c, 2, $s$returned = '2024-02-01', paid = '2024-02-01'$s$);
        PERFORM sv.ins(c, 4, 3, 100, '2024-03-01');
    WHEN 3 THEN   -- item 300: 5 returns it owing a fine, then 1 borrows and returns it
        PERFORM sv.ins(c, 5, 5, 300, '2023-03-01');
        PERFORM sv.upd(c, 5, $s$returned = '2023-04-01'$s$);
        PERFORM sv.ins(c, 6, 1, 300, '2024-04-01');
        PERFORM sv.upd(c, 6, $s$returned = '2024-05-01', paid = '2024-05-01'$s$);
    WHEN 4 THEN   -- 5 pays; item 360: 4 returns it owing, then pays (still its last borrower)
        PERFORM sv.upd(c, 5, $s$paid = '2024-06-01'$s$);
        PERFORM sv.ins(c, 7, 4, 360, '2024-02-01');
        PERFORM sv.upd(c, 7, $s$returned = '2024-03-01'$s$);
        PERFORM sv.upd(c, 7, $s$paid = '2024-03-15'$s$);
    WHEN 5 THEN   -- item 360 borrowed and returned by 5
        PERFORM sv.ins(c, 8, 5, 360, '2024-06-01');
        PERFORM sv.upd(c, 8, $s$returned = '2024-07-01', paid = '2024-07-01'$s$);
    WHEN 6 THEN   -- item 400: 2 borrows it and renews it (closes 9, opens 10)
        PERFORM sv.ins(c, 9, 2, 400, '2023-12-01');
        PERFORM sv.upd(c, 9, $s$returned = '2024-01-05', paid = '2024-01-05'$s$);
        PERFORM sv.ins(c, 10, 2, 400, '2024-01-05', renewal_of => 9);
    WHEN 7 THEN   -- renewed again (closes 10, opens 11)
        PERFORM sv.upd(c, 10, $s$returned = '2024-02-05', paid = '2024-02-05'$s$);
        PERFORM sv.ins(c, 11, 2, 400, '2024-02-05', renewal_of => 10);
    WHEN 8 THEN   -- and finally returned
        PERFORM sv.upd(c, 11, $s$returned = '2024-03-05', paid = '2024-03-05'$s$);
    WHEN 9 THEN   -- item 500: a row inserted already closed
        PERFORM sv.ins(c, 12, 3, 500, '2023-08-01', '2023-09-01', '2023-09-01');
    WHEN 10 THEN  -- and another one
        PERFORM sv.ins(c, 13, 4, 500, '2024-08-01', '2024-09-01', '2024-09-01');
    WHEN 11 THEN  -- item 600: borrowed by 5 and lost (closed by the second closed column)
        PERFORM sv.ins(c, 14, 5, 600, '2023-10-01');
        PERFORM sv.upd(c, 14, $s$lost = '2023-12-01', paid = '2023-12-01'$s$);
    WHEN 12 THEN  -- item 600 found again, borrowed and returned by 1
        PERFORM sv.ins(c, 15, 1, 600, '2024-10-01');
        PERFORM sv.upd(c, 15, $s$returned = '2024-11-01', paid = '2024-11-01'$s$);
    END CASE;
    RETURN sv.state(c.rel);
END $$;

-- What each step changes, for loans (keep_last_borrower) and for holds
-- (keep_last_borrower => false): the patron a row has, or S for severed.
CREATE TABLE sv.changes (step int, id int, loans text, holds text);
INSERT INTO sv.changes VALUES
    (1, 1, '1', 'S'), (1, 2, '2', '2'), (1, 3, '4', 'S'),
    (2, 1, 'S', 'S'), (2, 2, '2', 'S'), (2, 4, '3', '3'),
    (3, 5, '5', '5'), (3, 6, '1', 'S'),
    (4, 5, 'S', 'S'), (4, 7, '4', 'S'),
    (5, 7, 'S', 'S'), (5, 8, '5', 'S'),
    (6, 9, '2', 'S'), (6, 10, '2', '2'),
    (7, 9, 'S', 'S'), (7, 10, '2', 'S'), (7, 11, '2', '2'),
    (8, 10, 'S', 'S'), (8, 11, '2', 'S'),
    (9, 12, '3', 'S'),
    (10, 12, 'S', 'S'), (10, 13, '4', 'S'),
    (11, 14, '5', 'S'),
    (12, 14, 'S', 'S'), (12, 15, '1', 'S');

CREATE TABLE sv.steps (step int PRIMARY KEY, what text);
INSERT INTO sv.steps VALUES
    (1, 'first return of item 100 keeps its patron; item 200 returned; item 100 out again'),
    (2, 'second return of item 100 severs the first (not the open loan, not item 200)'),
    (3, 'an unsettled row keeps its patron when the next borrower returns the item'),
    (4, 'settling a row that is no longer the last borrower severs it; settling the last borrower keeps it'),
    (5, 'the next return severs the row that was settled as last borrower'),
    (6, 'a renewal closes the renewed row and opens a new one; both keep the patron'),
    (7, 'a second renewal severs the first renewed row'),
    (8, 'the final return leaves only the last row of the chain identified'),
    (9, 'a row INSERTed already closed is the last borrower'),
    (10, 'a second already-closed INSERT severs the first'),
    (11, 'a row closed by its second closed column (lost) keeps its patron'),
    (12, 'the next return severs the lost row');

-- The logical state expected after a step.
CREATE FUNCTION sv.expected(step int, klb boolean) RETURNS text LANGUAGE sql AS $$
    SELECT string_agg(id || ':' || v, ' ' ORDER BY id)
      FROM (SELECT DISTINCT ON (c.id) c.id, CASE WHEN klb THEN c.loans ELSE c.holds END AS v
              FROM sv.changes c WHERE c.step <= expected.step ORDER BY c.id, c.step DESC) s
$$;

------------------------------------------------------------------------------
-- The matrix: 3 shapes x 3 strategies x loans/holds, 12 steps each
------------------------------------------------------------------------------

DO $$
DECLARE shape text; strat text; klb boolean;
BEGIN
    FOREACH klb IN ARRAY ARRAY[true, false] LOOP
        FOREACH shape IN ARRAY ARRAY['plain', 'partitioned', 'inherited'] LOOP
            FOREACH strat IN ARRAY ARRAY['null', 'patron:0', 'delete'] LOOP
                PERFORM sv.make(format('%s_%s%s', left(shape, 4),
                                       CASE strat WHEN 'patron:0' THEN 'ph' WHEN 'delete' THEN 'del' ELSE 'null' END,
                                       CASE WHEN klb THEN '' ELSE '_holds' END),
                                shape, strat, klb);
            END LOOP;
        END LOOP;
    END LOOP;
END $$;

SELECT is(count(*), 18::bigint, 'the matrix has 18 bound loans tables') FROM pals_privacy.loan_binding;
SELECT is((SELECT count(*) FROM pg_trigger t
            WHERE t.tgname = 'pals_privacy_sever'
              AND t.tgrelid IN (SELECT c.rel FROM sv.cases c WHERE c.name = 'part_null'
                                UNION ALL SELECT inhrelid FROM pg_inherits WHERE inhparent = 'sv.part_null'::regclass)),
          4::bigint, 'part_null: the severing trigger is on the partitioned table and cloned to its 3 partitions');
SELECT is((SELECT count(*) FROM pg_trigger t
            WHERE t.tgname = 'pals_privacy_sever' AND t.tgrelid IN ('sv.inhe_null'::regclass, 'sv.inhe_null_2023'::regclass)),
          2::bigint, 'inhe_null: bind_loans installed the severing trigger on the parent and its child');

SELECT is(sv.step(c, s.step), sv.expect(sv.expected(s.step, c.klb), c.strategy),
          format('%s step %s: %s', c.name, s.step, s.what))
  FROM sv.steps s CROSS JOIN sv.cases c ORDER BY s.step, c.ord;

SELECT is((SELECT count(*) FROM pals_privacy.sever_pending WHERE binding IN (SELECT rel FROM sv.cases)), 0::bigint,
          'the matrix left nothing pending');
SELECT is((SELECT count(*) FROM sv.cases c WHERE EXISTS (
              SELECT 1 FROM pals_privacy.last_borrower lb WHERE lb.binding = c.rel)), 9::bigint,
          'the tracker knows last borrowers of the 9 loans tables (keep_last_borrower), none of the holds tables');
-- the rows of 2023 really are in the child / the 2023 partition
SELECT is(sv.state(c.child), sv.expect('1:S 3:4 5:S 9:S 12:S 14:S', c.strategy),
          format('%s: the 2023 rows are in %s', c.name, c.child))
  FROM sv.cases c WHERE c.shape <> 'plain' AND c.klb ORDER BY c.ord;

------------------------------------------------------------------------------
-- Cross-partition moves (part_null)
------------------------------------------------------------------------------

-- Item 100: row 2 is the last borrower (2024), row 4 is still out.
-- Moving row 2 to the 2023 partition keeps it the last borrower ...
UPDATE sv.part_null SET checked_out = '2023-03-15' WHERE id = 2;
SELECT is((SELECT tableoid::regclass::text FROM sv.part_null WHERE id = 2), 'sv.part_null_2023', 'row 2 moved to the 2023 partition');
SELECT is(sv.patron_of('sv.part_null', 2), '2', 'a last borrower moved to another partition keeps its patron');
-- ... and the next return of the item severs it where it now is
UPDATE sv.part_null SET returned = '2024-04-01', paid = '2024-04-01' WHERE id = 4;
SELECT is(sv.patron_of('sv.part_null', 2), '-', 'the next return severs the moved last borrower');
SELECT is(sv.patron_of('sv.part_null', 4), '3', 'the returning row is the new last borrower');

-- Item 700: row 20 was returned in 2023 owing a fine; row 21 is its last
-- borrower.  Moving the older, unsettled row 20 to another partition (an
-- UPDATE that PostgreSQL runs as DELETE + INSERT) is not a return: the
-- last borrower must keep its patron.
INSERT INTO sv.part_null (id, patron_id, item_id, checked_out, returned) VALUES (20, 5, 700, '2023-05-01', '2023-06-01');
INSERT INTO sv.part_null (id, patron_id, item_id, checked_out, returned, paid) VALUES (21, 1, 700, '2024-05-01', '2024-06-01', '2024-06-01');
UPDATE sv.part_null SET checked_out = '2024-01-15' WHERE id = 20;
SELECT is(sv.patron_of('sv.part_null', 21), '1', 'moving an older closed row across partitions does not sever the last borrower');
SELECT is(sv.patron_of('sv.part_null', 20), '5', 'the moved unsettled row keeps its patron');
UPDATE sv.part_null SET paid = '2024-07-01' WHERE id = 20;
SELECT is(sv.patron_of('sv.part_null', 20), '-', 'once settled, the moved older row is severed');
SELECT is(sv.patron_of('sv.part_null', 21), '1', 'and the last borrower still keeps its patron');

------------------------------------------------------------------------------
-- A child added after binding: re-running bind_loans covers it
------------------------------------------------------------------------------

CREATE TABLE sv.inhe_null_2025 (PRIMARY KEY (id)) INHERITS (sv.inhe_null);
DO $$ BEGIN
    PERFORM pals_privacy.bind_loans('sv.inhe_null', 'patron_id', 'item_id', '{returned,lost}', 'paid',
                                    sever_with => 'null', keep_last_borrower => true);
END $$;
SELECT is((SELECT count(*) FROM pg_trigger WHERE tgname = 'pals_privacy_sever' AND tgrelid = 'sv.inhe_null_2025'::regclass),
          1::bigint, 'bind_loans again with the same settings installs the trigger on a new child');
INSERT INTO sv.inhe_null_2025 (id, patron_id, item_id, checked_out, returned, paid)
VALUES (40, 1, 950, '2025-01-01', '2025-01-10', '2025-01-10');
INSERT INTO sv.inhe_null_2025 (id, patron_id, item_id, checked_out, returned, paid)
VALUES (41, 2, 950, '2025-02-01', '2025-02-10', '2025-02-10');
SELECT is(sv.patron_of('sv.inhe_null', 40), '-', 'a return in the new child severs the earlier row of the item');
SELECT is(sv.patron_of('sv.inhe_null', 41), '2', 'and keeps the last borrower');

------------------------------------------------------------------------------
-- Unbind removes the trigger (from partitions and children too) and
-- severing stops
------------------------------------------------------------------------------

DO $$ BEGIN
    PERFORM pals_privacy.unbind('sv.plai_null');
    PERFORM pals_privacy.unbind('sv.part_ph');
    PERFORM pals_privacy.unbind('sv.inhe_del');
END $$;
SELECT is((SELECT count(*) FROM pg_trigger WHERE tgname = 'pals_privacy_sever' AND tgrelid = 'sv.plai_null'::regclass),
          0::bigint, 'unbind removes the severing trigger of a plain table');
SELECT is((SELECT count(*) FROM pg_trigger WHERE tgname = 'pals_privacy_sever'
            AND tgrelid IN (SELECT 'sv.part_ph'::regclass UNION ALL SELECT inhrelid FROM pg_inherits WHERE inhparent = 'sv.part_ph'::regclass)),
          0::bigint, 'unbind removes the severing trigger of a partitioned table and its partitions');
SELECT is((SELECT count(*) FROM pg_trigger WHERE tgname = 'pals_privacy_sever'
            AND tgrelid IN ('sv.inhe_del'::regclass, 'sv.inhe_del_2023'::regclass)),
          0::bigint, 'unbind removes the severing trigger of an inheritance parent and its child');
SELECT is((SELECT count(*) FROM pals_privacy.last_borrower
            WHERE binding IN ('sv.plai_null'::regclass, 'sv.part_ph'::regclass, 'sv.inhe_del'::regclass)),
          0::bigint, 'unbind forgets the last borrowers of the unbound tables');
DO $$
DECLARE c sv.cases;
BEGIN
    FOR c IN SELECT * FROM sv.cases WHERE name IN ('plai_null', 'part_ph', 'inhe_del') LOOP
        PERFORM sv.ins(c, 30, 1, 900, '2023-07-01', '2023-07-10', '2023-07-10');
        PERFORM sv.ins(c, 31, 2, 900, '2024-07-01', '2024-07-10', '2024-07-10');
    END LOOP;
END $$;
SELECT is(sv.patron_of(c.rel, 30), '1', format('%s: after unbind a second return no longer severs the first', c.name))
  FROM sv.cases c WHERE c.name IN ('plai_null', 'part_ph', 'inhe_del') ORDER BY c.ord;

------------------------------------------------------------------------------
-- One statement closing several rows of the same item (a batch import of
-- old loans, a mass check-in): the item still keeps exactly one identified
-- row, the one closed last
------------------------------------------------------------------------------

CREATE TABLE sv.batch (id int PRIMARY KEY, patron_id bigint, item_id int NOT NULL,
                       checked_out timestamptz NOT NULL, returned timestamptz, paid timestamptz);
DO $$ BEGIN
    PERFORM pals_privacy.bind_loans('sv.batch', 'patron_id', 'item_id', '{returned}', 'paid');
END $$;
INSERT INTO sv.batch VALUES (1, 1, 100, '2024-01-01', '2024-01-10', '2024-01-10'),
                            (2, 2, 100, '2024-02-01', '2024-02-10', '2024-02-10');
SELECT is(sv.state('sv.batch'), '1:- 2:2', 'a two-row INSERT of closed rows of one item keeps the later one identified');
INSERT INTO sv.batch VALUES (3, 3, 200, '2024-01-01', NULL, NULL), (4, 4, 200, '2024-02-01', NULL, NULL);
UPDATE sv.batch SET returned = checked_out + interval '9 days', paid = checked_out + interval '9 days' WHERE id IN (3, 4);
SELECT is(sv.state('sv.batch'), '1:- 2:2 3:- 4:4', 'a two-row UPDATE closing rows of one item keeps the later one identified');

------------------------------------------------------------------------------
-- Koha-style: a return deletes the row from issues and INSERTs it, already
-- closed, into old_issues (the bound table); no settled column
------------------------------------------------------------------------------

CREATE TABLE sv.issues (issue_id int PRIMARY KEY, borrowernumber bigint NOT NULL, itemnumber int NOT NULL,
                        issuedate timestamptz NOT NULL);
CREATE TABLE sv.old_issues (issue_id int PRIMARY KEY, borrowernumber bigint, itemnumber int NOT NULL,
                            issuedate timestamptz NOT NULL, returndate timestamptz);
DO $$ BEGIN
    PERFORM pals_privacy.bind_loans('sv.old_issues', 'borrowernumber', 'itemnumber', '{returndate}',
                                    sever_with => 'patron:0');
END $$;
CREATE FUNCTION sv.koha_return(id int, at timestamptz) RETURNS void LANGUAGE sql AS $$
    INSERT INTO sv.old_issues SELECT issue_id, borrowernumber, itemnumber, issuedate, at FROM sv.issues WHERE issue_id = id;
    DELETE FROM sv.issues WHERE issue_id = id;
$$;
INSERT INTO sv.issues VALUES (1, 1, 100, '2024-01-01'), (2, 3, 200, '2024-01-01');
DO $$ BEGIN PERFORM sv.koha_return(1, '2024-01-20'); PERFORM sv.koha_return(2, '2024-01-21'); END $$;
SELECT is((SELECT string_agg(issue_id || ':' || borrowernumber, ' ' ORDER BY issue_id) FROM sv.old_issues), '1:1 2:3',
          'koha: the first returns keep their patrons');
INSERT INTO sv.issues VALUES (3, 2, 100, '2024-02-01');
DO $$ BEGIN PERFORM sv.koha_return(3, '2024-02-20'); END $$;
SELECT is((SELECT string_agg(issue_id || ':' || borrowernumber, ' ' ORDER BY issue_id) FROM sv.old_issues), '1:0 2:3 3:2',
          'koha: inserting the second closed row of item 100 re-points the first to the placeholder');
INSERT INTO sv.issues VALUES (4, 4, 100, '2024-03-01');
SELECT is((SELECT string_agg(issue_id || ':' || borrowernumber, ' ' ORDER BY issue_id) FROM sv.issues), '4:4',
          'koha: the open loan (in issues) keeps its patron');
DO $$ BEGIN PERFORM sv.koha_return(4, '2024-03-20'); END $$;
SELECT is((SELECT string_agg(issue_id || ':' || borrowernumber, ' ' ORDER BY issue_id) FROM sv.old_issues), '1:0 2:3 3:0 4:4',
          'koha: each item keeps only its last borrower');

------------------------------------------------------------------------------
-- The pending path: a row that cannot be severed never fails the return
------------------------------------------------------------------------------

-- sever_with 'delete', and a fine references the earlier loan
CREATE TABLE sv.fk_loans (id int PRIMARY KEY, patron_id bigint, item_id int NOT NULL,
                          checked_out timestamptz NOT NULL, returned timestamptz, paid timestamptz);
CREATE TABLE sv.fk_fines (id int PRIMARY KEY, loan_id int NOT NULL REFERENCES sv.fk_loans, amount numeric NOT NULL);
DO $$ BEGIN
    PERFORM pals_privacy.bind_loans('sv.fk_loans', 'patron_id', 'item_id', '{returned}', 'paid', sever_with => 'delete');
END $$;
INSERT INTO sv.fk_loans VALUES (1, 1, 100, '2024-01-01', '2024-01-20', '2024-02-01');
INSERT INTO sv.fk_fines VALUES (1, 1, 2.50);
INSERT INTO sv.fk_loans VALUES (2, 2, 100, '2024-03-01', NULL, NULL);
SELECT lives_ok($$UPDATE sv.fk_loans SET returned = '2024-03-20', paid = '2024-03-20' WHERE id = 2$$,
                'fk: the return succeeds although the earlier row cannot be deleted');
SELECT is(sv.state('sv.fk_loans'), '1:1 2:2', 'fk: the earlier row is still there, the return is recorded');
SELECT is((SELECT (returned IS NOT NULL)::text FROM sv.fk_loans WHERE id = 2), 'true', 'fk: the return itself was not rolled back');
SELECT is((SELECT count(*) FROM pals_privacy.sever_pending WHERE binding = 'sv.fk_loans'::regclass), 1::bigint,
          'fk: the earlier row is recorded as pending');
SELECT ok((SELECT reason LIKE '%foreign key%' AND item = '100' AND row_relid = 'sv.fk_loans'::regclass
             FROM pals_privacy.sever_pending WHERE binding = 'sv.fk_loans'::regclass),
          'fk: the pending row names the item and the foreign key error');
SELECT is((SELECT (SELECT id FROM sv.fk_loans WHERE ctid = p.row_tid) FROM pals_privacy.sever_pending_rows p
            WHERE p.relation = 'sv.fk_loans'::regclass AND p.row_relation = 'sv.fk_loans'::regclass),
          1, 'fk: sever_pending_rows points at row 1');

-- an ILS trigger that refuses to change the patron of a loan, or to delete one
CREATE FUNCTION sv.ils_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'ILS: loans are never deleted';
    END IF;
    IF OLD.patron_id IS DISTINCT FROM NEW.patron_id THEN
        RAISE EXCEPTION 'ILS: the patron of a loan cannot change';
    END IF;
    RETURN NEW;
END $$;
CREATE FUNCTION sv.ils_case(name text, strategy text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('CREATE TABLE sv.%I (id int PRIMARY KEY, patron_id bigint, item_id int NOT NULL,
                    checked_out timestamptz NOT NULL, returned timestamptz, paid timestamptz)', name);
    EXECUTE format('CREATE TRIGGER ils_guard BEFORE UPDATE OR DELETE ON sv.%I FOR EACH ROW EXECUTE FUNCTION sv.ils_guard()', name);
    PERFORM pals_privacy.bind_loans(format('sv.%I', name)::regclass, 'patron_id', 'item_id', '{returned}', 'paid',
                                    sever_with => strategy);
    EXECUTE format($q$INSERT INTO sv.%I VALUES (1, 1, 100, '2024-01-01', NULL, NULL), (2, 2, 100, '2024-03-01', NULL, NULL)$q$, name);
    EXECUTE format($q$UPDATE sv.%I SET returned = '2024-01-20', paid = '2024-01-20' WHERE id = 1$q$, name);
END $$;
DO $$ BEGIN
    PERFORM sv.ils_case('ils_null', 'null');
    PERFORM sv.ils_case('ils_ph', 'patron:0');
    PERFORM sv.ils_case('ils_del', 'delete');
END $$;
SELECT lives_ok(format($q$UPDATE sv.%I SET returned = '2024-03-20', paid = '2024-03-20' WHERE id = 2$q$, t),
                format('%s: the return succeeds although the ILS trigger refuses to sever the earlier row', t))
  FROM unnest(ARRAY['ils_null', 'ils_ph', 'ils_del']) t;
SELECT is(sv.state(format('sv.%I', t)::regclass), '1:1 2:2', format('%s: the earlier row keeps its patron for now', t))
  FROM unnest(ARRAY['ils_null', 'ils_ph', 'ils_del']) t;
SELECT is((SELECT string_agg(reason, '; ') FROM pals_privacy.sever_pending WHERE binding = format('sv.%I', t)::regclass),
          CASE t WHEN 'ils_del' THEN 'ILS: loans are never deleted' ELSE 'ILS: the patron of a loan cannot change' END,
          format('%s: the earlier row is pending, with the ILS error as the reason', t))
  FROM unnest(ARRAY['ils_null', 'ils_ph', 'ils_del']) t;

------------------------------------------------------------------------------
-- Reading history opt-in: patron 7 keeps history, patron 8 does not
------------------------------------------------------------------------------

CREATE FUNCTION sv.hist_case(name text, strategy text, mode text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('CREATE TABLE sv.%I (id int PRIMARY KEY, patron_id bigint, item_id int NOT NULL,
                    checked_out timestamptz NOT NULL, returned timestamptz, paid timestamptz)', name);
    PERFORM pals_privacy.bind_loans(format('sv.%I', name)::regclass, 'patron_id', 'item_id', '{returned}', 'paid',
                                    sever_with => strategy, history_mode => mode);
    -- 7 then 8 borrow items 100 and 200; 7 is the last borrower of item 300
    -- (one statement per row: see the multi-row test above)
    EXECUTE format($q$INSERT INTO sv.%I VALUES (1, 7, 100, '2024-01-01', '2024-01-10', '2024-01-10')$q$, name);
    EXECUTE format($q$INSERT INTO sv.%I VALUES (2, 8, 100, '2024-02-01', '2024-02-10', '2024-02-10')$q$, name);
    EXECUTE format($q$INSERT INTO sv.%I VALUES (3, 7, 200, '2024-01-01', '2024-01-10', '2024-01-10')$q$, name);
    EXECUTE format($q$INSERT INTO sv.%I VALUES (4, 8, 200, '2024-02-01', '2024-02-10', '2024-02-10')$q$, name);
    EXECUTE format($q$INSERT INTO sv.%I VALUES (5, 7, 300, '2024-01-01', '2024-01-10', '2024-01-10')$q$, name);
END $$;
DO $$ BEGIN
    PERFORM sv.hist_case('hist_copy_null', 'null', 'copy');
    PERFORM sv.hist_case('hist_copy_ph', 'patron:0', 'copy');
    PERFORM sv.hist_case('hist_copy_del', 'delete', 'copy');
    PERFORM sv.hist_case('hist_in_place', 'null', 'in_place');
END $$;

SELECT is(sv.state(format('sv.%I', t)::regclass), e, format('%s: rows of the opted-in patron are severed after being copied', t))
  FROM (VALUES ('hist_copy_null', '1:- 2:8 3:- 4:8 5:7'), ('hist_copy_ph', '1:0 2:8 3:0 4:8 5:7'),
               ('hist_copy_del', '2:8 4:8 5:7')) v(t, e);
SELECT is((SELECT string_agg(h.patron || ':' || h.item || ':' || (h.row_data ->> 'id') || ':' || (h.row_data ->> 'patron_id'), ' '
                             ORDER BY h.item)
             FROM pals_privacy.private_history h WHERE h.relation = format('sv.%I', t)::regclass),
          '7:100:1:7 7:200:3:7', format('%s: private_history holds the two rows as they were before severing', t))
  FROM unnest(ARRAY['hist_copy_null', 'hist_copy_ph', 'hist_copy_del']) t;
SELECT is(sv.state('sv.hist_in_place'), '1:7 2:8 3:7 4:8 5:7', 'in_place: the opted-in patron''s rows keep their patron');
SELECT is((SELECT count(*) FROM pals_privacy.private_history WHERE relation = 'sv.hist_in_place'::regclass), 0::bigint,
          'in_place: nothing is copied');
SELECT is((SELECT count(*) FROM pals_privacy.private_history WHERE patron <> '7'), 0::bigint,
          'nothing is copied for patrons who did not opt in');

-- 7 withdraws the opt-in
UPDATE sv.patrons SET keep_history = false WHERE id = 7;
SELECT is(sv.state('sv.hist_in_place'), '1:- 2:8 3:- 4:8 5:7',
          'withdrawal severs the history kept in place at once, except the last-borrower row');
SELECT is((SELECT count(*) FROM pals_privacy.private_history WHERE patron = '7'), 0::bigint,
          'withdrawal deletes the copied history');
SELECT is(sv.state(format('sv.%I', t)::regclass), e, format('%s: withdrawal leaves the table as it was', t))
  FROM (VALUES ('hist_copy_null', '1:- 2:8 3:- 4:8 5:7'), ('hist_copy_ph', '1:0 2:8 3:0 4:8 5:7'),
               ('hist_copy_del', '2:8 4:8 5:7')) v(t, e);
-- and opts in again: nothing comes back
UPDATE sv.patrons SET keep_history = true WHERE id = 7;
SELECT is((SELECT count(*) FROM pals_privacy.private_history WHERE patron = '7'), 0::bigint,
          'opting in again brings no copy back');
SELECT is(sv.state('sv.hist_in_place'), '1:- 2:8 3:- 4:8 5:7', 'opting in again brings no patron back');
-- the next borrower of item 300 returns it: 7's row is copied (or kept) again
INSERT INTO sv.hist_copy_null VALUES (6, 8, 300, '2024-03-01', '2024-03-10', '2024-03-10');
INSERT INTO sv.hist_in_place VALUES (6, 8, 300, '2024-03-01', '2024-03-10', '2024-03-10');
SELECT is((SELECT string_agg(h.item || ':' || (h.row_data ->> 'id'), ' ') FROM pals_privacy.private_history h WHERE patron = '7'),
          '300:5', 'after opting in again, the next severed row is copied');
SELECT is(sv.state('sv.hist_copy_null'), '1:- 2:8 3:- 4:8 5:- 6:8', 'and severed');
SELECT is(sv.state('sv.hist_in_place'), '1:- 2:8 3:- 4:8 5:7 6:8', 'in_place: kept with its patron');

------------------------------------------------------------------------------
-- A staff role with rights on the loans table only
------------------------------------------------------------------------------

CREATE TABLE sv.staff_loans (id int PRIMARY KEY, patron_id bigint, item_id int NOT NULL,
                             checked_out timestamptz NOT NULL, returned timestamptz, paid timestamptz);
DO $$ BEGIN
    PERFORM pals_privacy.bind_loans('sv.staff_loans', 'patron_id', 'item_id', '{returned}', 'paid');
END $$;
INSERT INTO sv.staff_loans VALUES
    (1, 1, 100, '2024-01-01', '2024-01-10', '2024-01-10'), (2, 2, 100, '2024-02-01', NULL, NULL),
    (3, 3, 200, '2024-01-01', '2024-01-10', '2024-01-10'), (4, 4, 200, '2024-02-01', NULL, NULL);
CREATE ROLE regress_sv_staff;
GRANT USAGE ON SCHEMA sv TO regress_sv_staff;
GRANT SELECT, INSERT, UPDATE ON sv.staff_loans TO regress_sv_staff;
CREATE SCHEMA regress_sv_evil AUTHORIZATION regress_sv_staff;

SET ROLE regress_sv_staff;
SELECT throws_ok('SELECT * FROM pals_privacy.last_borrower', '42501', NULL, 'staff cannot read last_borrower');
SELECT throws_ok('SELECT * FROM pals_privacy.private_history', '42501', NULL, 'staff cannot read private_history');
SELECT throws_ok('SELECT * FROM pals_privacy.sever_pending', '42501', NULL, 'staff cannot read sever_pending');
SELECT throws_ok('DELETE FROM pals_privacy.last_borrower', '42501', NULL, 'staff cannot change last_borrower');
SELECT throws_ok($$INSERT INTO pals_privacy.private_history (patron, relation, row_data) VALUES ('1', 'sv.staff_loans', '{}')$$,
                 '42501', NULL, 'staff cannot write private_history');
SELECT throws_ok($$SELECT pals_privacy._sever_one('sv.staff_loans', 'sv.staff_loans', '(0,1)')$$, '42501', NULL,
                 'staff cannot call _sever_one');
SELECT throws_ok('CALL pals_privacy.sever_backlog()', '42501', NULL, 'staff cannot call sever_backlog');
-- a return recorded by staff severs like any other (whatever the state of
-- the backend's binding cache: the GRANT above just invalidated it)
SELECT lives_ok($$UPDATE sv.staff_loans SET returned = '2024-02-10', paid = '2024-02-10' WHERE id = 2$$,
                'staff can record a return on a bound table');
-- the staff role puts its own "=" operators first in its search_path;
-- they record in a table of its own what they could see
CREATE TABLE regress_sv_evil.loot (who name, rows bigint);
CREATE FUNCTION regress_sv_evil.oideq(oid, oid) RETURNS boolean LANGUAGE plpgsql SET search_path = pg_catalog AS $f$
BEGIN
    IF has_table_privilege('pals_privacy.last_borrower', 'SELECT') THEN
        INSERT INTO regress_sv_evil.loot SELECT current_user, count(*) FROM pals_privacy.last_borrower;
    END IF;
    RETURN $1 OPERATOR(pg_catalog.=) $2;
END $f$;
CREATE FUNCTION regress_sv_evil.texteq(text, text) RETURNS boolean LANGUAGE plpgsql SET search_path = pg_catalog AS $f$
BEGIN
    IF has_table_privilege('pals_privacy.private_history', 'SELECT') THEN
        INSERT INTO regress_sv_evil.loot SELECT current_user, count(*) FROM pals_privacy.private_history;
    END IF;
    RETURN $1 OPERATOR(pg_catalog.=) $2;
END $f$;
CREATE OPERATOR regress_sv_evil.= (LEFTARG = oid, RIGHTARG = oid, FUNCTION = regress_sv_evil.oideq);
CREATE OPERATOR regress_sv_evil.= (LEFTARG = text, RIGHTARG = text, FUNCTION = regress_sv_evil.texteq);
-- and an integer "=" that records whose rights it runs with
CREATE TABLE regress_sv_evil.ran_as (who name);
CREATE FUNCTION regress_sv_evil.int4eq(integer, integer) RETURNS boolean LANGUAGE plpgsql SET search_path = pg_catalog AS $f$
BEGIN
    INSERT INTO regress_sv_evil.ran_as VALUES (current_user);
    RETURN $1 OPERATOR(pg_catalog.=) $2;
END $f$;
CREATE OPERATOR regress_sv_evil.= (LEFTARG = integer, RIGHTARG = integer, FUNCTION = regress_sv_evil.int4eq);
RESET ROLE;
-- the ILS's own trigger on the table, written the usual way: unqualified
-- operators, no search_path of its own (so the sever fires it as the
-- caller's own UPDATE would: as the staff role, never as the table owner)
CREATE TABLE sv.patron_changes (id int, old_patron bigint);
GRANT INSERT ON sv.patron_changes TO regress_sv_staff;
CREATE FUNCTION sv.note_patron_change() RETURNS trigger LANGUAGE plpgsql AS $f$
BEGIN
    IF NEW.id = OLD.id AND NEW.patron_id IS DISTINCT FROM OLD.patron_id THEN
        INSERT INTO sv.patron_changes VALUES (OLD.id, OLD.patron_id);
    END IF;
    RETURN NULL;
END $f$;
CREATE TRIGGER note_patron_change AFTER UPDATE ON sv.staff_loans
    FOR EACH ROW EXECUTE FUNCTION sv.note_patron_change();
SELECT is(sv.state('sv.staff_loans'), '1:- 2:2 3:3 4:4', 'the return recorded by staff severed the earlier row');
-- (the class lookup loads the binding cache as superuser: the attack
-- below is then independent of the staff return above)
SELECT is(pals_privacy.class_of('regress_sv_staff'), 'staff', 'the staff role is of class staff');
SET ROLE regress_sv_staff;
SET search_path = regress_sv_evil, pg_catalog;
UPDATE sv.staff_loans SET returned = '2024-02-10', paid = '2024-02-10' WHERE id = 4;
RESET search_path;
RESET ROLE;
SELECT is((SELECT count(*) FROM regress_sv_evil.loot), 0::bigint,
          'severing never runs the staff role''s operators with the privileges of the extension');
SELECT is(sv.state('sv.staff_loans'), '1:- 2:2 3:- 4:4', 'the second staff return severed the earlier row too');
SELECT is((SELECT count(*) FROM sv.patron_changes WHERE id = 3 AND old_patron = 3), 1::bigint,
          'the ILS''s own trigger fired for the sever');
SELECT is((SELECT count(*) FROM regress_sv_evil.ran_as WHERE who <> 'regress_sv_staff'), 0::bigint,
          'and ran the staff role''s operator with the staff role''s rights only, never the table owner''s');

------------------------------------------------------------------------------
-- Stale tracker entries: the row an entry names was pruned (its line pointer
-- now holds nothing, or something else) or its block was truncated away.  A
-- return must not act on such a TID blindly; it searches the item instead.
------------------------------------------------------------------------------

CREATE TABLE sv.stale_loans (id int PRIMARY KEY, patron_id bigint, item_id int NOT NULL,
                             checked_out timestamptz NOT NULL, returned timestamptz, paid timestamptz);
DO $$ BEGIN
    PERFORM pals_privacy.bind_loans('sv.stale_loans', 'patron_id', 'item_id', '{returned}', 'paid');
END $$;
INSERT INTO sv.stale_loans VALUES
    (1, 1, 500, '2024-01-01', NULL, NULL), (2, 2, 500, '2024-02-01', NULL, NULL),
    (3, 3, 501, '2024-01-01', NULL, NULL), (4, 4, 501, '2024-02-01', NULL, NULL);
UPDATE sv.stale_loans SET returned = '2024-01-10', paid = '2024-01-10' WHERE id IN (1, 3);
-- item 500's entry names a line pointer past the end of its page, item 501's a block past the end
UPDATE pals_privacy.last_borrower SET row_tid = '(0,250)'
 WHERE binding = 'sv.stale_loans'::regclass AND item = '500';
UPDATE pals_privacy.last_borrower SET row_tid = '(9999,1)'
 WHERE binding = 'sv.stale_loans'::regclass AND item = '501';
SELECT lives_ok($$UPDATE sv.stale_loans SET returned = '2024-02-10', paid = '2024-02-10' WHERE id = 2$$,
                'a return whose tracker entry names a line pointer past the end of its page');
SELECT lives_ok($$UPDATE sv.stale_loans SET returned = '2024-02-10', paid = '2024-02-10' WHERE id = 4$$,
                'a return whose tracker entry names a block past the end of the table');
-- (locking such a TID writes into the page header: the page must still take new rows)
SELECT lives_ok($$INSERT INTO sv.stale_loans VALUES (5, 5, 502, '2024-03-01', NULL, NULL)$$,
                'the table''s page is intact');
SELECT is(sv.state('sv.stale_loans'), '1:- 2:2 3:- 4:4 5:5', 'each item searched: the earlier rows severed, the returned ones kept');
SELECT is((SELECT count(*) FROM pals_privacy.last_borrower t JOIN sv.stale_loans l ON l.ctid = t.row_tid
            WHERE t.binding = 'sv.stale_loans'::regclass AND l.item_id::text = t.item AND l.id IN (2, 4)),
          2::bigint, 'and the tracker names the returned rows again');
SELECT is((SELECT count(*) FROM pals_privacy.sever_pending WHERE row_relid = 'sv.stale_loans'::regclass), 0::bigint,
          'nothing left pending');

SELECT * FROM finish();
ROLLBACK;
