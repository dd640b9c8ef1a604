-- A copy's rule kept as a query of its own (issue 17, src/redact_copies.c, "The rule planned once
-- per backend"): the masks call _copy_memo(n, key) alone, and a key without an answer is worked
-- out by the rule's kept plan, started once per run of the staff query and rescanned per key,
-- under a resource owner of its own.  What must hold:
--   1. the answers are the rule's: a copy of the last borrower's loan and of an open loan read
--      whole, of an older loan hidden, by a plain read, a cursor, a function;
--   2. a run that fails after its rule's plan started (an error in the query, in a cursor's
--      FETCH inside a savepoint, in a PL/pgSQL block that catches it) leaves nothing behind: the
--      next reads give the same answers, and no resource leak is reported (the expected file
--      holds no WARNING);
--   3. a cursor's rows are worked out under the cursor's snapshot: a sever between two FETCHes
--      does not show in the cursor, and shows in the next statement;
--   4. a parallel plan keeps the masks in the leader (_copy_memo is PARALLEL RESTRICTED: a worker
--      has no kept plans): with parallel query forced, the answers are the same.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pals_privacy;

BEGIN;
SELECT plan(9);

CREATE SCHEMA po;
CREATE TABLE po.patrons (id bigint PRIMARY KEY, expires date NOT NULL DEFAULT 'infinity', card text UNIQUE);
INSERT INTO po.patrons (id, card) SELECT g, 'PO-' || g FROM generate_series(0, 9) g;
CREATE TABLE po.loans (id int PRIMARY KEY, patron_id bigint REFERENCES po.patrons, item_id int NOT NULL,
                       returned date);
INSERT INTO po.loans VALUES
    (1, 1, 10, '2024-01-10'),   -- hidden from staff: 2 came later
    (2, 2, 10, '2024-02-10'),   -- item 10's last borrower
    (3, 3, 11, NULL);           -- open
CREATE TABLE po.fines (id int PRIMARY KEY, loan_id int, patron_id bigint, n int NOT NULL DEFAULT 1);
INSERT INTO po.fines VALUES (101, 1, 1, 1), (102, 2, 2, 1), (103, 3, 3, 0);
SELECT pals_privacy.bind_patrons('po.patrons', 'id', 'expires', card_column => 'card');
SELECT pals_privacy.bind_loans('po.loans', 'patron_id', 'item_id', '{returned}');
SELECT pals_privacy.bind_copy('po.fines', 'po.loans', key_columns => '{loan_id}', source_keys => '{id}',
                              patron_column => 'patron_id', sever_with => 'null');
CREATE ROLE regress_po_staff;
SELECT pals_privacy.classify_role('regress_po_staff', 'staff');
GRANT USAGE ON SCHEMA po TO regress_po_staff;
GRANT SELECT ON ALL TABLES IN SCHEMA po TO regress_po_staff;
CREATE FUNCTION po.patrons_read() RETURNS text LANGUAGE sql STABLE AS
$$ SELECT string_agg(coalesce(patron_id::text, '-'), ' ' ORDER BY id) FROM po.fines $$;
GRANT EXECUTE ON FUNCTION po.patrons_read() TO regress_po_staff;

SET LOCAL ROLE regress_po_staff;
SELECT is((SELECT string_agg(coalesce(patron_id::text, '-'), ' ' ORDER BY id) FROM po.fines), '- 2 3',
          'staff: the copies of an older loan hidden, of the last borrower''s and an open loan whole');

-- 2. runs that fail after the rule's plan started
SAVEPOINT a;
SELECT count(patron_id), sum(1 / n) FROM po.fines;
ROLLBACK TO SAVEPOINT a;
SELECT is(po.patrons_read(), '- 2 3', 'staff: after a read that failed mid-run, the same answers (through a function)');

DECLARE c CURSOR FOR SELECT coalesce(patron_id::text, '-'), 1 / n FROM po.fines ORDER BY id;
FETCH 1 FROM c;
SAVEPOINT b;
FETCH ALL FROM c;
ROLLBACK TO SAVEPOINT b;
CLOSE c;
SELECT is((SELECT string_agg(coalesce(patron_id::text, '-'), ' ' ORDER BY id) FROM po.fines), '- 2 3',
          'staff: after a cursor''s FETCH failed in a savepoint, the same answers');

DO $$
DECLARE r text;
BEGIN
    BEGIN
        SELECT string_agg(coalesce(patron_id::text, '-') || (1 / n)::text, ' ') INTO r FROM po.fines;
    EXCEPTION WHEN division_by_zero THEN NULL;
    END;
END $$;
SELECT is((SELECT string_agg(coalesce(patron_id::text, '-'), ' ' ORDER BY id) FROM po.fines), '- 2 3',
          'staff: after a PL/pgSQL block caught a read''s error, the same answers');

-- 3. a cursor under its own snapshot, a sever between two FETCHes
RESET ROLE;
CREATE TEMP TABLE fetched (k int GENERATED ALWAYS AS IDENTITY, v text);
GRANT ALL ON fetched TO regress_po_staff;
SET LOCAL ROLE regress_po_staff;
DECLARE d CURSOR FOR SELECT coalesce(patron_id::text, '-') FROM po.fines ORDER BY id;
RESET ROLE;
-- loan 4 of item 10 returned: 2 is no longer its last borrower (severed, its fine's patron cleared)
INSERT INTO po.loans VALUES (4, 4, 10, NULL);
UPDATE po.loans SET returned = '2024-03-10' WHERE id = 4;
SET LOCAL ROLE regress_po_staff;
DO $$
DECLARE
    cur refcursor := 'd';
    r text;
BEGIN
    FETCH NEXT FROM cur INTO r;
    INSERT INTO fetched (v) VALUES (r);
    FETCH NEXT FROM cur INTO r;
    INSERT INTO fetched (v) VALUES (r);
END $$;
CLOSE d;
SELECT is((SELECT string_agg(v, ' ' ORDER BY k) FROM fetched), '- 2',
          'staff: a cursor reads the copies as its snapshot saw the source (the sever after it opened does not show)');
SELECT is((SELECT string_agg(coalesce(patron_id::text, '-'), ' ' ORDER BY id) FROM po.fines), '- - 3',
          'staff: the next statement reads the severed loan''s copy hidden');

-- 4. parallel query forced: the masks stay in the leader
RESET ROLE;
INSERT INTO po.fines SELECT 1000 + g, 3, 3, 1 FROM generate_series(1, 50) g;
ANALYZE po.fines;
SET LOCAL ROLE regress_po_staff;
SELECT is((SELECT count(*) || '/' || count(patron_id) FROM po.fines), '53/51', 'staff: without parallel query');
SELECT set_config(CASE WHEN current_setting('server_version_num')::int >= 160000 THEN 'debug_parallel_query'
                       ELSE 'force_parallel_mode' END, 'on', true) IS NOT NULL AS forced;
SET LOCAL parallel_setup_cost = 0;
SET LOCAL parallel_tuple_cost = 0;
SET LOCAL min_parallel_table_scan_size = 0;
SET LOCAL parallel_leader_participation = off;   -- the rows go through the workers
-- (read by a statement of their own: pgTAP's functions are parallel unsafe)
SELECT count(*) || '/' || count(patron_id) AS counted FROM po.fines \gset
SELECT string_agg(coalesce(patron_id::text, '-'), ' ' ORDER BY id) AS each_row FROM po.fines WHERE id < 1000 \gset
SELECT is(:'counted'::text, '53/51', 'staff: with parallel query forced, the same answers');
SELECT is(:'each_row'::text, '- - 3', 'staff: with parallel query forced, each row''s answer');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
