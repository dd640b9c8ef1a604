-- Redaction per privacy class (src/redact_*.c): what staff, auditors and
-- collections read from bound relations, by every access path we could think
-- of, and that operational roles and superusers read everything.
--
-- "Masked" means the column reads as NULL before anything else sees it: the
-- select list, WHERE, joins, GROUP BY, ORDER BY, aggregates, windows,
-- subqueries, CTEs, views, partitions and inheritance children, cursors,
-- prepared statements, functions, RETURNING, COPY, EXPLAIN ANALYZE, the
-- planner's statistics and error messages.  Row counts stay true.
--
-- The fixture: patrons 41-47.  Loans of item 7 (patrons 42, 43, 44), item 9
-- (47) and an older one of item 2 (46) are closed and settled and were there
-- before bind_loans, so none of them is an item's tracked last borrower: staff
-- see their patron as NULL (sever_backlog() is not run).  Visible to staff:
-- the open loan of item 1 (41), the closed but unsettled loan of item 2 (45),
-- and the last borrower of item 8 (45, returned through UPDATE after
-- binding).  Patron 43 owes 100 in fines, 45 owes 20 in fines and 10 in fees
-- (30 across the two balance relations), 44 owes 8, 46 owes 0.50.
-- Patron names sort in the reverse order of their ids, so that an ORDER BY
-- on a masked name is told from one on the real name.
--
-- Everything runs in one transaction that is rolled back.  Plain statements
-- (COPY, errors whose DETAIL must be gone, parallel plans) are checked by the
-- expected output itself.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pals_privacy;

BEGIN;
SELECT plan(245);

------------------------------------------------------------------------------
-- Roles
------------------------------------------------------------------------------
CREATE ROLE regress_rd_ils;                 -- operational (the ILS)
CREATE ROLE regress_rd_staff;               -- staff
CREATE ROLE regress_rd_other;               -- unclassified: default_class (staff)
CREATE ROLE regress_rd_aud;                 -- auditor
CREATE ROLE regress_rd_coll;                -- collections
CREATE ROLE regress_rd_mixed IN ROLE regress_rd_ils, regress_rd_aud;  -- unclassified: the most restrictive (auditor)
CREATE ROLE regress_rd_bypass BYPASSRLS;    -- staff, with BYPASSRLS
DO $$ BEGIN
    PERFORM pals_privacy.classify_role('regress_rd_ils', 'operational');
    PERFORM pals_privacy.classify_role('regress_rd_staff', 'staff');
    PERFORM pals_privacy.classify_role('regress_rd_aud', 'auditor');
    PERFORM pals_privacy.classify_role('regress_rd_coll', 'collections');
    PERFORM pals_privacy.classify_role('regress_rd_bypass', 'staff');
END $$;

------------------------------------------------------------------------------
-- The ILS (owned by the superuser running the test)
------------------------------------------------------------------------------
CREATE SCHEMA rd;
CREATE TABLE rd.patrons (
    id       bigint PRIMARY KEY,
    name     text NOT NULL,
    card     text UNIQUE,
    email    text,
    notes    text,
    expires  date NOT NULL DEFAULT 'infinity'
);
INSERT INTO rd.patrons (id, name, card, email, notes) VALUES
    (41, 'Tom Ash',   'RD-0041', 'tom@example.org',  'note 41'),
    (42, 'Sue Birch', 'RD-0042', 'sue@example.org',  'note 42'),
    (43, 'Ray Cedar', 'RD-0043', 'ray@example.org',  'note 43'),
    (44, 'Quin Elm',  'RD-0044', 'quin@example.org', 'note 44'),
    (45, 'Pat Fir',   'RD-0045', 'pat@example.org',  'note 45'),
    (46, 'Olga Gum',  'RD-0046', 'olga@example.org', 'note 46'),
    (47, 'Ned Hazel', 'RD-0047', 'ned@example.org',  'note 47');

CREATE TABLE rd.cards (card text PRIMARY KEY, patron_id bigint NOT NULL);
INSERT INTO rd.cards VALUES ('RDX-4101', 41), ('RDX-4201', 42), ('RDX-4301', 43);

CREATE TABLE rd.fines (id int PRIMARY KEY, patron_id bigint NOT NULL, amount numeric(8,2) NOT NULL, reason text);
INSERT INTO rd.fines VALUES (1, 43, 60.00, 'lost'), (2, 43, 40.00, 'damaged'), (3, 44, 5.00, 'late'),
                            (4, 46, 0.50, 'late'), (5, 45, 10.00, 'late'), (6, 45, 10.00, 'late');
CREATE TABLE rd.fees (id int PRIMARY KEY, patron_id bigint NOT NULL, owed numeric(8,2) NOT NULL);
INSERT INTO rd.fees VALUES (1, 45, 10.00), (2, 44, 3.00);
CREATE VIEW rd.balances AS SELECT patron_id, sum(amount) AS owed FROM rd.fines GROUP BY patron_id;

-- loans: partitioned by checkout time
CREATE TABLE rd.loans (
    id           int NOT NULL,
    patron_id    bigint,
    item_id      int NOT NULL,
    checked_out  timestamptz NOT NULL,
    returned     timestamptz,
    paid         timestamptz,
    note         text CHECK (length(note) < 50),
    PRIMARY KEY (id, checked_out)
) PARTITION BY RANGE (checked_out);
CREATE TABLE rd.loans_2023 PARTITION OF rd.loans FOR VALUES FROM ('2023-01-01') TO ('2024-01-01');
CREATE TABLE rd.loans_2024 PARTITION OF rd.loans FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE TABLE rd.loans_2025 PARTITION OF rd.loans FOR VALUES FROM ('2025-01-01') TO ('2027-01-01');
CREATE INDEX loans_patron ON rd.loans (patron_id);
INSERT INTO rd.loans (id, patron_id, item_id, checked_out, returned, paid) VALUES
    (1, 41, 1, '2025-03-01', NULL, NULL),                        -- open
    (2, 45, 2, '2024-02-01', '2024-02-20', NULL),                -- closed, fines owed
    (3, 42, 7, '2023-03-01', '2023-03-10', '2023-03-10'),        -- item 7: three old returns
    (4, 43, 7, '2024-03-01', '2024-03-10', '2024-03-10'),
    (5, 44, 7, '2025-01-05', '2025-01-10', '2025-01-10'),
    (6, 45, 8, '2025-06-01', NULL, NULL),                        -- returned below, after binding
    (7, 47, 9, '2024-06-01', '2024-06-10', '2024-06-10'),        -- item 9: one old return
    (8, 46, 2, '2023-05-01', '2023-05-10', '2023-05-10');        -- item 2: an old return

-- holds: closed when fulfilled or cancelled, no last borrower
CREATE TABLE rd.holds (id int PRIMARY KEY, patron_id bigint, title_id int NOT NULL,
                       placed date NOT NULL, fulfilled date, cancelled date);
CREATE UNIQUE INDEX holds_patron_title ON rd.holds (patron_id, title_id);
CREATE INDEX holds_patron_expr ON rd.holds ((patron_id * 1));     -- has statistics of its own
INSERT INTO rd.holds VALUES
    (1, 41, 100, '2025-01-01', NULL, NULL),
    (2, 42, 100, '2024-01-01', '2024-01-05', NULL),
    (3, 43, 101, '2024-02-01', NULL, '2024-02-03'),
    (4, 43, 102, '2024-03-01', NULL, '2024-03-02');

-- an inheritance parent and child
CREATE TABLE rd.iloans (id int PRIMARY KEY, patron_id bigint, item_id int NOT NULL, returned date, paid date);
CREATE TABLE rd.iloans_old (PRIMARY KEY (id)) INHERITS (rd.iloans);
INSERT INTO rd.iloans VALUES (1, 41, 30, NULL, NULL), (2, 42, 31, '2024-01-10', '2024-01-10');
INSERT INTO rd.iloans_old VALUES (3, 42, 32, '2023-01-10', '2023-01-10'), (4, 43, 33, NULL, NULL);

-- private history: saved searches
CREATE TABLE rd.searches (id int PRIMARY KEY, patron_id bigint, query text);
INSERT INTO rd.searches VALUES (1, 42, 'divorce lawyers'), (2, 43, 'debt relief'), (3, 41, 'knitting');

-- contact fields: patrons.email, addresses.email, addresses.phone (street is not one)
CREATE TABLE rd.addresses (patron_id bigint PRIMARY KEY, street text, email text, phone text);
INSERT INTO rd.addresses
SELECT id, (id - 40) || ' ' || split_part(name, ' ', 2) || ' St', lower(split_part(name, ' ', 1)) || '@home.example',
       '555-01' || id
  FROM rd.patrons WHERE id <= 46;

SELECT lives_ok($$SELECT pals_privacy.bind_patrons('rd.patrons', 'id', 'expires', card_column => 'card',
                                                   name_columns => ARRAY['name']::name[])$$,
                'bind_patrons with name_columns');
DO $$ BEGIN
    PERFORM pals_privacy.bind_cards('rd.cards', 'card', 'patron_id');
    PERFORM pals_privacy.bind_balance('rd.fines', 'patron_id', 'amount');
    PERFORM pals_privacy.bind_balance('rd.fees', 'patron_id', 'owed');
    PERFORM pals_privacy.bind_loans('rd.loans', 'patron_id', 'item_id', ARRAY['returned'], 'paid', build_tracker => false);
    PERFORM pals_privacy.bind_loans('rd.holds', 'patron_id', 'title_id', ARRAY['fulfilled', 'cancelled'],
                                    keep_last_borrower => false);
    PERFORM pals_privacy.bind_loans('rd.iloans', 'patron_id', 'item_id', ARRAY['returned'], 'paid', build_tracker => false);
    PERFORM pals_privacy.bind_private_history('rd.searches', 'patron_id');
    PERFORM pals_privacy.bind_contact('rd.patrons', 'email', 'id', 'email');
    PERFORM pals_privacy.bind_contact('rd.addresses', 'email', 'patron_id', 'email');
    PERFORM pals_privacy.bind_contact('rd.addresses', 'phone', 'patron_id', 'phone');
    PERFORM pals_privacy.grant_consent('46', 'newsletter', 'email', evidence => 'signed form');
END $$;

-- ILS views over the bound tables, owned by the table owner
CREATE VIEW rd.loan_report AS
    SELECT l.id, l.item_id, l.patron_id, p.name, p.card
      FROM rd.loans l LEFT JOIN rd.patrons p ON p.id = l.patron_id;
CREATE VIEW rd.loan_report_invoker WITH (security_invoker = true) AS
    SELECT l.id, l.item_id, l.patron_id, p.name, p.card
      FROM rd.loans l LEFT JOIN rd.patrons p ON p.id = l.patron_id;
CREATE VIEW rd.sue_loans AS SELECT id, item_id FROM rd.loans WHERE patron_id = 42;
CREATE VIEW rd.search_report AS SELECT patron_id, query FROM rd.searches;
-- and one owned by the operational role
CREATE VIEW rd.ils_loans AS SELECT id, item_id, patron_id FROM rd.loans;
ALTER VIEW rd.ils_loans OWNER TO regress_rd_ils;

-- functions
CREATE FUNCTION rd.item_patrons_sql(i int) RETURNS SETOF bigint LANGUAGE sql STABLE
    AS $$ SELECT patron_id FROM rd.loans WHERE item_id = i ORDER BY id $$;            -- inlined
CREATE FUNCTION rd.item_patrons_sql_noinline(i int) RETURNS SETOF bigint LANGUAGE sql STABLE
    SET search_path = pg_catalog
    AS $$ SELECT patron_id FROM rd.loans WHERE item_id = i ORDER BY id $$;            -- SET: not inlined
CREATE FUNCTION rd.patron_of_loan(i int) RETURNS bigint LANGUAGE sql STABLE
    AS $$ SELECT patron_id FROM rd.loans WHERE id = i $$;
CREATE FUNCTION rd.item_patrons_plpgsql(i int) RETURNS SETOF bigint LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN QUERY SELECT patron_id FROM rd.loans WHERE item_id = i ORDER BY id;
END $$;
CREATE FUNCTION rd.item_patrons_dynamic(i int) RETURNS SETOF bigint LANGUAGE plpgsql AS $$
BEGIN
    RETURN QUERY EXECUTE 'SELECT patron_id FROM rd.loans WHERE item_id = $1 ORDER BY id' USING i;
END $$;
CREATE FUNCTION rd.loans_of(p bigint) RETURNS bigint LANGUAGE plpgsql STABLE AS $$
DECLARE n bigint;
BEGIN
    SELECT count(*) INTO n FROM rd.loans WHERE patron_id = p;
    RETURN n;
END $$;
CREATE FUNCTION rd.loan_patron(rd.loans) RETURNS bigint LANGUAGE sql AS $$ SELECT $1.patron_id $$;
CREATE FUNCTION rd.item_patrons_secdef_staff(i int) RETURNS SETOF bigint LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog AS $$
BEGIN
    RETURN QUERY SELECT patron_id FROM rd.loans WHERE item_id = i ORDER BY id;
END $$;
ALTER FUNCTION rd.item_patrons_secdef_staff(int) OWNER TO regress_rd_staff;
CREATE FUNCTION rd.item_patrons_secdef_super(i int) RETURNS SETOF bigint LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog AS $$
BEGIN
    RETURN QUERY SELECT patron_id FROM rd.loans WHERE item_id = i ORDER BY id;
END $$;
CREATE FUNCTION rd.item_patrons_secdef_ils(i int) RETURNS SETOF bigint LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog AS $$
BEGIN
    RETURN QUERY SELECT patron_id FROM rd.loans WHERE item_id = i ORDER BY id;
END $$;
ALTER FUNCTION rd.item_patrons_secdef_ils(int) OWNER TO regress_rd_ils;
-- a leaky function: writes down every value it is shown
CREATE TABLE rd.leaks (v text);
CREATE FUNCTION rd.leak(v bigint) RETURNS boolean LANGUAGE plpgsql COST 0.0001 AS $$
BEGIN
    INSERT INTO rd.leaks VALUES (coalesce(v::text, '-'));
    RETURN true;
END $$;
CREATE FUNCTION rd.leak_text(v text) RETURNS boolean LANGUAGE plpgsql COST 0.0001 AS $$
BEGIN
    INSERT INTO rd.leaks VALUES (coalesce(v, '-'));
    RETURN true;
END $$;
CREATE TABLE rd.scratch (id int, patron_id bigint);

-- every role reads and writes everything (redaction comes on top of privileges)
GRANT USAGE ON SCHEMA rd TO regress_rd_ils, regress_rd_staff, regress_rd_other, regress_rd_aud, regress_rd_coll,
                            regress_rd_mixed, regress_rd_bypass;
GRANT CREATE ON SCHEMA rd TO regress_rd_staff;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA rd
   TO regress_rd_ils, regress_rd_staff, regress_rd_other, regress_rd_aud, regress_rd_coll, regress_rd_mixed,
      regress_rd_bypass;

-- item 8 comes back through the ILS: row 6 becomes its last borrower
SET SESSION AUTHORIZATION regress_rd_ils;
UPDATE rd.loans SET returned = '2025-06-10', paid = '2025-06-10' WHERE id = 6;
RESET SESSION AUTHORIZATION;

-- planner statistics
CREATE STATISTICS rd.holds_stx (ndistinct, dependencies, mcv) ON patron_id, title_id FROM rd.holds;
CREATE STATISTICS rd.loans_2023_stx (mcv) ON patron_id, item_id FROM rd.loans_2023;
CREATE STATISTICS rd.patrons_stx (mcv) ON name, card FROM rd.patrons;
CREATE STATISTICS rd.iloans_old_stx ON (patron_id + 0), item_id FROM rd.iloans_old;
ANALYZE rd.patrons, rd.cards, rd.fines, rd.fees, rd.loans, rd.holds, rd.iloans, rd.iloans_old, rd.searches,
        rd.addresses;

-- helpers: the first value of a statement's first row (as text); the same or
-- the error's SQLSTATE; the number of rows a statement processed; the
-- SQLSTATE and DETAIL of the error a statement raises
CREATE FUNCTION pg_temp.val(sql text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE r text;
BEGIN
    EXECUTE sql INTO r;
    RETURN r;
END $$;
CREATE FUNCTION pg_temp.try_val(sql text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE r text;
BEGIN
    EXECUTE sql INTO r;
    RETURN r;
EXCEPTION WHEN OTHERS THEN
    RETURN 'ERROR ' || SQLSTATE;
END $$;
CREATE FUNCTION pg_temp.nrows(sql text) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE n bigint;
BEGIN
    EXECUTE sql;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END $$;
CREATE FUNCTION pg_temp.err(sql text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE st text; d text;
BEGIN
    EXECUTE sql;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, d = PG_EXCEPTION_DETAIL;
    RETURN st || ' ' || coalesce(d, '');
END $$;
-- ok when sql raises the SQLSTATE given and the DETAIL caught does not contain
-- hidden; else not ok, with what was caught
CREATE FUNCTION pg_temp.detail_hides(sql text, state text, hidden text, descr text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE e text := pg_temp.err(sql);
BEGIN
    IF e LIKE state || ' %' AND strpos(e, hidden) = 0 THEN
        RETURN ok(true, descr);
    END IF;
    RETURN ok(false, descr) || E'\n' || diag('    caught: ' || e);
END $$;
-- row_security = off for the duration of one call
CREATE FUNCTION pg_temp.item7_without_rls() RETURNS text LANGUAGE plpgsql SET row_security = off AS $$
BEGIN
    RETURN (SELECT coalesce(string_agg(patron_id::text, ','), '') FROM rd.loans WHERE item_id = 7);
EXCEPTION WHEN OTHERS THEN
    RETURN 'ERROR ' || SQLSTATE;
END $$;

------------------------------------------------------------------------------
-- Superusers and operational roles read everything
------------------------------------------------------------------------------
SELECT results_eq('SELECT patron_id FROM rd.loans WHERE item_id = 7 ORDER BY id', ARRAY[42, 43, 44]::bigint[],
    'superuser: the old loans of item 7 as stored');
SELECT is((SELECT count(*) FROM rd.searches), 3::bigint, 'superuser: every private history row');
SELECT ok((SELECT count(*) FROM pg_stats WHERE schemaname = 'rd' AND tablename IN ('loans', 'loans_2023', 'holds', 'patrons')) > 0,
    'superuser: pg_stats of bound relations');
SELECT ok((SELECT count(*) FROM pg_stats_ext WHERE schemaname = 'rd') > 0, 'superuser: pg_stats_ext of bound relations');
SELECT ok((SELECT count(*) FROM pg_stats_ext_exprs WHERE schemaname = 'rd') > 0, 'superuser: pg_stats_ext_exprs of bound relations');
SELECT ok((SELECT count(*) FROM pg_stats WHERE schemaname = 'rd' AND tablename = 'holds_patron_expr') > 0,
    'superuser: pg_stats of an expression index on a bound relation');
SELECT results_eq('SELECT * FROM rd.item_patrons_secdef_staff(7)', ARRAY[NULL, NULL, NULL]::bigint[],
    'superuser calling a SECURITY DEFINER function owned by staff: inside it the class is staff''s');

SET SESSION AUTHORIZATION regress_rd_ils;
SELECT is(pals_privacy.current_class(), 'operational', 'regress_rd_ils is operational');
SELECT results_eq('SELECT patron_id FROM rd.loans WHERE item_id = 7 ORDER BY id', ARRAY[42, 43, 44]::bigint[],
    'operational: the old loans of item 7 as stored');
SELECT is((SELECT array_agg(patron_id ORDER BY id) FROM rd.holds), ARRAY[41, 42, 43, 43]::bigint[],
    'operational: every hold with its patron');
SELECT is((SELECT count(*) FROM rd.searches), 3::bigint, 'operational: every private history row');
SELECT results_eq('SELECT name, card, email, notes FROM rd.patrons WHERE id = 42',
    $$VALUES ('Sue Birch'::text, 'RD-0042'::text, 'sue@example.org'::text, 'note 42'::text)$$,
    'operational: every column of the patron table');
SELECT is((SELECT count(name) FROM rd.loan_report WHERE item_id = 7), 3::bigint, 'operational: through an ILS view');
-- Bound tables have row security on (a pass-through policy and the preload
-- guard), which PostgreSQL takes as a reason to show their pg_stats rows to
-- the owner only; the operational role, which reads every row anyway, sees
-- them all the same (row security that is only pals_privacy's filters
-- nothing for it).
SELECT cmp_ok((SELECT count(*) FROM pg_stats WHERE schemaname = 'rd' AND tablename IN ('loans', 'loans_2023', 'holds', 'patrons')), '>', 0::bigint,
    'operational (not the owner): pg_stats of bound relations are shown');
-- (pg_stats_ext, pg_stats_ext_exprs and the pg_stats rows of an index are shown
-- by PostgreSQL (15.7 and later) to members of the table's owner only: the
-- operational role sees none of them, with or without the extension)
SELECT lives_ok('EXPLAIN ANALYZE SELECT * FROM rd.loans WHERE patron_id = 42', 'operational: EXPLAIN ANALYZE');
RESET SESSION AUTHORIZATION;

------------------------------------------------------------------------------
-- Staff: what they still see
------------------------------------------------------------------------------
SET SESSION AUTHORIZATION regress_rd_staff;
SELECT is(pals_privacy.current_class(), 'staff', 'regress_rd_staff is staff');
SELECT is((SELECT patron_id FROM rd.loans WHERE id = 1), 41::bigint, 'staff: an open loan shows its patron');
SELECT is((SELECT patron_id FROM rd.loans WHERE id = 2), 45::bigint, 'staff: a closed loan with fines owed shows its patron');
SELECT is((SELECT patron_id FROM rd.loans WHERE id = 6), 45::bigint, 'staff: the last borrower of an item shows its patron');
SELECT is((SELECT count(*) FROM rd.loans), 8::bigint, 'staff: row counts stay true');
SELECT is((SELECT count(*) FROM rd.loans WHERE item_id = 7), 3::bigint, 'staff: item 7 was lent three times');
SELECT results_eq('SELECT name, card, email, notes FROM rd.patrons WHERE id = 42',
    $$VALUES ('Sue Birch'::text, 'RD-0042'::text, 'sue@example.org'::text, 'note 42'::text)$$,
    'staff: every column of the patron table');
SELECT is((SELECT patron_id FROM rd.holds WHERE id = 1), 41::bigint, 'staff: an open hold shows its patron');
SELECT is((SELECT patron_id FROM rd.iloans WHERE id = 4), 43::bigint, 'staff: an open loan in an inheritance child, through the parent');
SELECT is((SELECT count(email) + count(phone) FROM rd.addresses), 12::bigint, 'staff: every contact field');
SELECT is((SELECT sum(amount) FROM rd.fines) + (SELECT sum(owed) FROM rd.fees), 138.50::numeric, 'staff: every balance');
SELECT is((SELECT count(*) FROM rd.cards), 3::bigint, 'staff: every card');

------------------------------------------------------------------------------
-- Staff: closed, settled loans that are not the last borrower (items 7, 9, 2)
------------------------------------------------------------------------------
-- select list, *, WHERE
SELECT results_eq('SELECT patron_id FROM rd.loans WHERE item_id = 7 ORDER BY id', ARRAY[NULL, NULL, NULL]::bigint[],
    'select list: NULL');
SELECT results_eq('SELECT patron_id FROM (SELECT * FROM rd.loans WHERE id IN (7, 8)) s ORDER BY id',
    ARRAY[NULL, NULL]::bigint[], 'SELECT *: NULL');
SELECT is_empty('SELECT id FROM rd.loans WHERE patron_id = 42', 'WHERE patron_id = 42 matches nothing');
SELECT is((SELECT count(*) FROM rd.loans WHERE patron_id = 43), 0::bigint, 'count(*) WHERE patron_id = 43 is 0');
SELECT is((SELECT count(*) FROM rd.loans WHERE patron_id IN (42, 43, 44, 46, 47)), 0::bigint, 'WHERE patron_id IN (...)');
SELECT is((SELECT count(*) FROM rd.loans WHERE patron_id = ANY ('{42,43,44,46,47}'::bigint[])), 0::bigint,
    'WHERE patron_id = ANY (array)');
SELECT is((SELECT count(*) FROM rd.loans WHERE patron_id BETWEEN 42 AND 44), 0::bigint, 'WHERE patron_id BETWEEN');
SELECT is((SELECT count(*) FROM rd.loans WHERE item_id = 7 AND patron_id IS NOT NULL), 0::bigint, 'WHERE patron_id IS NOT NULL');
SELECT results_eq('SELECT id FROM rd.loans WHERE patron_id::text LIKE ''4%'' ORDER BY id', ARRAY[1, 2, 6],
    'WHERE patron_id::text LIKE: only the visible patrons');
SELECT is((SELECT count(*) FROM rd.loans WHERE (patron_id, item_id) = (44, 7)), 0::bigint, 'WHERE (patron_id, item_id) = (...)');
-- joins
SELECT is_empty('SELECT p.name FROM rd.loans l JOIN rd.patrons p ON p.id = l.patron_id WHERE l.item_id = 7',
    'JOIN to the patron table');
SELECT results_eq('SELECT p.name FROM rd.loans l LEFT JOIN rd.patrons p ON p.id = l.patron_id WHERE l.item_id = 7 ORDER BY l.id',
    ARRAY[NULL, NULL, NULL]::text[], 'LEFT JOIN to the patron table');
SET enable_nestloop = off; SET enable_mergejoin = off;
SELECT is((SELECT count(*) FROM rd.loans l JOIN rd.patrons p ON p.id = l.patron_id), 3::bigint,
    'hash join: only the three visible loans join');
SET enable_hashjoin = off; SET enable_mergejoin = on;
SELECT is((SELECT count(*) FROM rd.loans l JOIN rd.patrons p ON p.id = l.patron_id), 3::bigint,
    'merge join: only the three visible loans join');
RESET enable_nestloop; RESET enable_mergejoin; RESET enable_hashjoin;
SELECT is_empty('SELECT l.id FROM rd.patrons p JOIN rd.loans l ON l.patron_id = p.id WHERE p.name = ''Sue Birch''',
    'JOIN from a patron''s name');
SELECT is_empty('SELECT v.x FROM (VALUES (42::bigint), (43), (44), (46), (47)) v(x) JOIN rd.loans l ON l.patron_id = v.x',
    'JOIN to a list of guesses');
-- subqueries
SELECT is((SELECT (SELECT patron_id FROM rd.loans WHERE id = 5)), NULL::bigint, 'scalar subquery');
SELECT results_eq('SELECT (SELECT name FROM rd.patrons p WHERE p.id = l.patron_id) FROM rd.loans l WHERE l.item_id = 7 ORDER BY l.id',
    ARRAY[NULL, NULL, NULL]::text[], 'correlated subquery in the select list');
SELECT is((SELECT count(*) FROM rd.patrons p WHERE EXISTS (SELECT 1 FROM rd.loans l WHERE l.patron_id = p.id AND l.item_id = 7)),
    0::bigint, 'EXISTS');
SELECT results_eq('SELECT id FROM rd.patrons p WHERE NOT EXISTS (SELECT 1 FROM rd.loans l WHERE l.patron_id = p.id) ORDER BY id',
    ARRAY[42, 43, 44, 46, 47]::bigint[], 'NOT EXISTS: patrons with no visible loan');
SELECT results_eq('SELECT name FROM rd.patrons WHERE id IN (SELECT patron_id FROM rd.loans WHERE returned IS NOT NULL) ORDER BY name',
    ARRAY['Pat Fir'], 'IN (subquery): only the visible closed loans');
SELECT is((SELECT count(*) FROM rd.patrons p CROSS JOIN LATERAL
             (SELECT 1 FROM rd.loans l WHERE l.patron_id = p.id AND l.item_id = 7) x), 0::bigint, 'LATERAL');
-- grouping and aggregates
SELECT results_eq('SELECT patron_id, count(*) FROM rd.loans WHERE item_id = 7 GROUP BY patron_id',
    $$VALUES (NULL::bigint, 3::bigint)$$, 'GROUP BY patron_id: one group of three');
SELECT results_eq('SELECT patron_id, count(*) FROM rd.loans WHERE item_id = 7 GROUP BY GROUPING SETS ((patron_id), ()) ORDER BY 1, 2',
    $$VALUES (NULL::bigint, 3::bigint), (NULL, 3)$$, 'GROUPING SETS');
SELECT is_empty('SELECT item_id FROM rd.loans GROUP BY item_id HAVING bool_or(patron_id IN (42, 43, 44, 46, 47))', 'HAVING');
SELECT is((SELECT count(DISTINCT patron_id) FROM rd.loans WHERE item_id = 7), 0::bigint, 'count(DISTINCT patron_id)');
SELECT is((SELECT num_nonnulls(min(patron_id), max(patron_id), sum(patron_id), avg(patron_id), bit_or(patron_id))
             FROM rd.loans WHERE item_id = 7), 0, 'min, max, sum, avg, bit_or');
SELECT is((SELECT max(patron_id) FROM rd.loans), 45::bigint, 'max(patron_id) of the table: the highest visible one');
SELECT is((SELECT array_agg(patron_id ORDER BY id) FROM rd.loans WHERE item_id = 7), ARRAY[NULL, NULL, NULL]::bigint[], 'array_agg');
SELECT is((SELECT string_agg(patron_id::text, ',') FROM rd.loans WHERE item_id IN (7, 9)), NULL::text, 'string_agg');
SELECT is((SELECT jsonb_agg(patron_id ORDER BY id) FROM rd.loans WHERE item_id = 7), '[null, null, null]'::jsonb, 'jsonb_agg');
-- windows
SELECT results_eq('SELECT max(patron_id) OVER () FROM rd.loans WHERE item_id IN (7, 9) ORDER BY id',
    ARRAY[NULL, NULL, NULL, NULL]::bigint[], 'window: max() OVER ()');
SELECT results_eq('SELECT rank() OVER (ORDER BY patron_id) FROM rd.loans WHERE item_id = 7 ORDER BY id',
    ARRAY[1, 1, 1]::bigint[], 'window: rank() OVER (ORDER BY patron_id): all tied');
SELECT results_eq('SELECT count(*) OVER (PARTITION BY patron_id) FROM rd.loans WHERE item_id = 7 ORDER BY id',
    ARRAY[3, 3, 3]::bigint[], 'window: PARTITION BY patron_id: one partition');
-- DISTINCT, ORDER BY
SELECT results_eq('SELECT DISTINCT patron_id FROM rd.loans WHERE item_id = 7', ARRAY[NULL]::bigint[], 'DISTINCT');
SELECT results_eq('SELECT DISTINCT ON (patron_id) id FROM rd.loans WHERE item_id = 7 ORDER BY patron_id, id', ARRAY[3],
    'DISTINCT ON (patron_id)');
SELECT results_eq('SELECT id FROM rd.loans WHERE item_id = 7 ORDER BY patron_id DESC NULLS LAST, id', ARRAY[3, 4, 5],
    'ORDER BY patron_id: no order');
SELECT is((SELECT id FROM rd.loans WHERE item_id = 7 ORDER BY patron_id = 44 DESC NULLS LAST, id LIMIT 1), 3,
    'ORDER BY patron_id = 44 ... LIMIT 1');
-- index paths
SET enable_seqscan = off; SET enable_bitmapscan = off;
SELECT is((SELECT count(*) FROM rd.loans WHERE patron_id = 44), 0::bigint, 'index scan on patron_id');
SELECT results_eq('SELECT patron_id FROM rd.loans WHERE patron_id > 0 ORDER BY patron_id', ARRAY[41, 45, 45]::bigint[],
    'index-only scan on patron_id: only the visible values');
SET enable_indexscan = off; SET enable_bitmapscan = on;
SELECT is((SELECT count(*) FROM rd.loans WHERE patron_id IN (42, 43)), 0::bigint, 'bitmap scan on patron_id');
RESET enable_seqscan; RESET enable_bitmapscan; RESET enable_indexscan;
-- CTEs, set operations
SELECT is((WITH h AS MATERIALIZED (SELECT patron_id FROM rd.loans WHERE item_id = 7) SELECT count(patron_id) FROM h),
    0::bigint, 'materialized CTE');
SELECT is((WITH h AS (SELECT * FROM rd.loans) SELECT count(*) FROM h WHERE patron_id = 42), 0::bigint,
    'CTE with the filter outside');
SELECT is((WITH RECURSIVE c(i) AS (SELECT 40::bigint UNION ALL SELECT i + 1 FROM c WHERE i < 50)
           SELECT array_agg(i ORDER BY i) FROM c WHERE EXISTS (SELECT 1 FROM rd.loans l WHERE l.patron_id = c.i)),
    ARRAY[41, 45]::bigint[], 'recursive CTE probing every id: only the visible ones');
SELECT is((WITH RECURSIVE r(p, depth) AS (SELECT patron_id, 1 FROM rd.loans WHERE item_id = 7
                                          UNION ALL SELECT p, depth + 1 FROM r WHERE depth < 3)
           SELECT count(p) FROM r), 0::bigint, 'recursive CTE seeded from the loans');
SELECT results_eq('SELECT patron_id FROM rd.loans WHERE item_id = 7 UNION SELECT patron_id FROM rd.holds WHERE id > 1',
    ARRAY[NULL]::bigint[], 'UNION');
SELECT results_eq('SELECT id FROM rd.patrons INTERSECT SELECT patron_id FROM rd.loans WHERE item_id IN (2, 7, 9) ORDER BY 1',
    ARRAY[45]::bigint[], 'INTERSECT: only the visible patron of items 2, 7, 9');
SELECT results_eq('SELECT id FROM rd.patrons WHERE id BETWEEN 42 AND 47 EXCEPT SELECT patron_id FROM rd.loans ORDER BY 1',
    ARRAY[42, 43, 44, 46, 47]::bigint[], 'EXCEPT: removes only the visible patron');
-- whole rows, JSON
SELECT is((SELECT (s.l).patron_id FROM (SELECT l FROM rd.loans l WHERE id = 3) s), NULL::bigint,
    'whole-row reference: SELECT l FROM rd.loans l');
SELECT ok((SELECT l::text LIKE '(3,,7,%' FROM rd.loans l WHERE id = 3), 'whole row as text');
SELECT is((SELECT to_jsonb(l) -> 'patron_id' FROM rd.loans l WHERE id = 4), 'null'::jsonb, 'to_jsonb(l)');
SELECT is((SELECT count(*) FROM json_array_elements((SELECT json_agg(l) FROM rd.loans l WHERE item_id = 7)) e
            WHERE e ->> 'patron_id' IS NOT NULL), 0::bigint, 'json_agg(l)');
SELECT is((SELECT count(*) FROM rd.loans l, jsonb_each_text(to_jsonb(l)) e
            WHERE e.key = 'patron_id' AND e.value IN ('42', '43', '44', '46', '47')), 0::bigint, 'jsonb_each_text(to_jsonb(l))');
SELECT is((SELECT rd.loan_patron(l) FROM rd.loans l WHERE id = 5), NULL::bigint, 'a function of the whole row');
-- casts and error oracles
SELECT is((SELECT num_nonnulls(patron_id::text, patron_id::numeric, patron_id::int, to_char(patron_id, 'FM999'),
                               md5(patron_id::text), hashint8(patron_id)) FROM rd.loans WHERE id = 3), 0,
    'casts and functions of the value');
SELECT is((SELECT format('%s|%s', coalesce(patron_id, -1), patron_id IS DISTINCT FROM 42) FROM rd.loans WHERE id = 3),
    '-1|t', 'coalesce and IS DISTINCT FROM');
SELECT is(pg_temp.try_val('SELECT 1 / (patron_id - 42) FROM rd.loans WHERE id = 3'), NULL,
    'error oracle: 1 / (patron_id - 42) does not divide by zero');
SELECT is(pg_temp.try_val('SELECT count(CASE WHEN patron_id = 44 THEN 1 / (id - id) END) FROM rd.loans'), '0',
    'error oracle: CASE WHEN patron_id = 44 THEN 1 / 0');
SELECT is(pg_temp.try_val('SELECT sum((patron_id * 1e17)::bigint) FROM rd.loans WHERE id IN (3, 4, 5)'), NULL,
    'error oracle: an overflowing cast');
SELECT is((SELECT count(*) FROM rd.loans WHERE rd.leak(patron_id)), 8::bigint, 'a leaky function in WHERE sees every row');
SELECT is((SELECT count(*) FROM rd.leaks WHERE v IN ('42', '43', '44', '46', '47')), 0::bigint,
    'but none of the hidden patrons');
SELECT is((SELECT count(*) FROM rd.searches WHERE rd.leak_text(query)), 0::bigint,
    'a leaky function on the private history: no row');
SELECT is((SELECT count(*) FROM rd.leaks WHERE v IN ('divorce lawyers', 'debt relief', 'knitting')), 0::bigint,
    'and it was shown none');
-- other scans
SELECT is((SELECT count(patron_id) FROM rd.loans TABLESAMPLE SYSTEM (100) WHERE item_id = 7), 0::bigint, 'TABLESAMPLE');
SELECT is((SELECT patron_id FROM rd.loans_2023 WHERE ctid = '(0,1)'), NULL::bigint, 'TID scan');
SELECT results_eq('SELECT patron_id FROM rd.loans WHERE item_id = 7 ORDER BY id FOR UPDATE', ARRAY[]::bigint[],
    'SELECT ... FOR UPDATE: locks (and returns) only rows read whole, none of the three hidden ones');
-- partitions and inheritance
SELECT is((SELECT patron_id FROM rd.loans_2023 WHERE id = 3), NULL::bigint, 'a partition, queried directly');
SELECT is((SELECT count(*) FROM rd.loans_2024 WHERE patron_id IN (43, 47)), 0::bigint, 'a partition, WHERE patron_id');
SELECT is((SELECT patron_id FROM rd.loans WHERE checked_out >= '2025-01-01' AND id = 5), NULL::bigint,
    'the parent, pruned to one partition');
SELECT is((SELECT count(*) FROM rd.iloans WHERE patron_id = 42), 0::bigint, 'an inheritance parent (parent and child rows)');
SELECT is((SELECT patron_id FROM ONLY rd.iloans WHERE id = 2), NULL::bigint, 'an inheritance parent, ONLY');
SELECT is((SELECT patron_id FROM rd.iloans_old WHERE id = 3), NULL::bigint, 'an inheritance child, queried directly');
-- holds (keep_last_borrower => false), private history
SELECT is((SELECT array_agg(coalesce(patron_id::text, '-') ORDER BY id) FROM rd.holds), '{41,-,-,-}'::text[],
    'holds: closed holds have no patron, the open one has');
SELECT is((SELECT count(*) FROM rd.holds WHERE patron_id = 43), 0::bigint, 'holds: WHERE patron_id = 43');
SELECT is((SELECT count(*) FROM rd.searches), 0::bigint, 'private history: no rows');
SELECT is_empty('SELECT query FROM rd.searches WHERE patron_id = 42', 'private history: WHERE patron_id = 42');
SELECT is_empty('SELECT s.query FROM rd.patrons p JOIN rd.searches s ON s.patron_id = p.id', 'private history: JOIN from patrons');
-- views
SELECT results_eq('SELECT name FROM rd.loan_report WHERE item_id = 7 ORDER BY id', ARRAY[NULL, NULL, NULL]::text[],
    'a view owned by the table owner');
SELECT is((SELECT count(*) FROM rd.loan_report WHERE patron_id = 44), 0::bigint, 'a view owned by the table owner, WHERE patron_id');
SELECT results_eq('SELECT name FROM rd.loan_report_invoker WHERE item_id = 7 ORDER BY id', ARRAY[NULL, NULL, NULL]::text[],
    'a security_invoker view');
SELECT is_empty('SELECT id FROM rd.sue_loans', 'a view that filters on the patron column itself');
SELECT results_eq('SELECT patron_id FROM rd.ils_loans WHERE item_id = 7 ORDER BY id', ARRAY[NULL, NULL, NULL]::bigint[],
    'a view owned by the operational role');
SELECT is((SELECT count(*) FROM rd.search_report), 0::bigint, 'a view of the private history');
CREATE VIEW rd.staff_view AS SELECT id, patron_id FROM rd.loans;
SELECT is((SELECT count(patron_id) FROM rd.staff_view WHERE id IN (3, 4, 5, 7, 8)), 0::bigint, 'a view staff created');
-- copies made by staff (read back by the superuser)
CREATE MATERIALIZED VIEW rd.mv_item7 AS SELECT id, patron_id FROM rd.loans WHERE item_id = 7;
CREATE TABLE rd.staff_copy AS SELECT * FROM rd.loans WHERE item_id IN (2, 7, 9);
RESET SESSION AUTHORIZATION;
SELECT is((SELECT count(patron_id) FROM rd.mv_item7), 0::bigint, 'a materialized view staff created holds no hidden patron');
SELECT is((SELECT array_agg(coalesce(patron_id::text, '-') ORDER BY id) FROM rd.staff_copy), '{45,-,-,-,-,-}'::text[],
    'CREATE TABLE AS by staff copied no hidden patron');
SET SESSION AUTHORIZATION regress_rd_staff;
REFRESH MATERIALIZED VIEW rd.mv_item7;
RESET SESSION AUTHORIZATION;
SELECT is((SELECT count(patron_id) FROM rd.mv_item7), 0::bigint, 'nor after staff refreshed it');
SET SESSION AUTHORIZATION regress_rd_staff;
-- functions
SELECT results_eq('SELECT * FROM rd.item_patrons_sql(7)', ARRAY[NULL, NULL, NULL]::bigint[], 'an inlined SQL function');
SELECT results_eq('SELECT * FROM rd.item_patrons_sql_noinline(7)', ARRAY[NULL, NULL, NULL]::bigint[], 'a SQL function not inlined');
SELECT is(rd.patron_of_loan(4), NULL::bigint, 'a scalar SQL function');
SELECT results_eq('SELECT * FROM rd.item_patrons_plpgsql(7)', ARRAY[NULL, NULL, NULL]::bigint[], 'a PL/pgSQL function');
SELECT results_eq('SELECT * FROM rd.item_patrons_dynamic(7)', ARRAY[NULL, NULL, NULL]::bigint[], 'a PL/pgSQL function, dynamic SQL');
SELECT is(rd.loans_of(42), 0::bigint, 'a PL/pgSQL function counting a patron''s loans');
SELECT results_eq('SELECT * FROM rd.item_patrons_secdef_staff(7)', ARRAY[NULL, NULL, NULL]::bigint[],
    'a SECURITY DEFINER function owned by a staff role gives nothing more');
SELECT results_eq('SELECT * FROM rd.item_patrons_secdef_super(7)', ARRAY[42, 43, 44]::bigint[],
    'the documented exception: a SECURITY DEFINER function owned by a superuser reads as its owner');
SELECT results_eq('SELECT * FROM rd.item_patrons_secdef_ils(7)', ARRAY[42, 43, 44]::bigint[],
    'the documented exception: a SECURITY DEFINER function owned by an operational role reads as its owner');
-- cursors
DECLARE rd_c1 CURSOR FOR SELECT patron_id FROM rd.loans WHERE item_id = 7 ORDER BY id;
SELECT results_eq('rd_c1'::refcursor, ARRAY[NULL, NULL, NULL]::bigint[], 'a cursor');
DECLARE rd_c2 SCROLL CURSOR FOR SELECT id FROM rd.loans WHERE patron_id IN (42, 43, 44) ORDER BY id;
SELECT results_eq('rd_c2'::refcursor, ARRAY[]::int[], 'a scroll cursor WHERE patron_id IN (...)');
CLOSE rd_c1; CLOSE rd_c2;
-- EXPLAIN
SELECT throws_ok('EXPLAIN ANALYZE SELECT * FROM rd.loans WHERE patron_id = 42', '42501', NULL,
    'EXPLAIN ANALYZE of the loans');
SELECT throws_ok('EXPLAIN (ANALYZE, COSTS off) SELECT count(*) FROM rd.loan_report', '42501', NULL, 'EXPLAIN ANALYZE of a view');
SELECT throws_ok('EXPLAIN ANALYZE SELECT * FROM rd.loans_2023 WHERE patron_id = 42', '42501', NULL,
    'EXPLAIN ANALYZE of a partition');
SELECT throws_ok('EXPLAIN ANALYZE SELECT * FROM rd.searches WHERE patron_id = 42', '42501', NULL,
    'EXPLAIN ANALYZE of the private history');
SELECT throws_ok('EXPLAIN ANALYZE SELECT * FROM rd.patrons', '42501', NULL, 'EXPLAIN ANALYZE of the patron table');
SELECT throws_ok('EXPLAIN ANALYZE UPDATE rd.loans SET note = note WHERE patron_id = 42 AND id < 0', '42501', NULL,
    'EXPLAIN ANALYZE of an UPDATE');
SELECT lives_ok('EXPLAIN SELECT * FROM rd.loans WHERE patron_id = 42', 'plain EXPLAIN works');
SELECT lives_ok('EXPLAIN ANALYZE SELECT * FROM rd.leaks', 'EXPLAIN ANALYZE of an unbound table works');
-- planner statistics
SELECT is((SELECT count(*) FROM pg_stats WHERE schemaname = 'rd' AND tablename IN ('loans', 'loans_2023', 'loans_2024', 'loans_2025')),
    0::bigint, 'pg_stats: nothing of the loans and their partitions');
SELECT is((SELECT count(*) FROM pg_stats WHERE schemaname = 'rd' AND tablename IN ('iloans', 'iloans_old', 'holds')),
    0::bigint, 'pg_stats: nothing of the inheritance parent and child, nor the holds');
SELECT is((SELECT count(*) FROM pg_stats WHERE schemaname = 'rd'
              AND tablename IN ('patrons', 'cards', 'fines', 'fees', 'searches', 'addresses')),
    0::bigint, 'pg_stats: nothing of the other bound relations');
-- (the next three hold with PostgreSQL alone for a role that does not own the
-- table; they guard against a change that would show them)
SELECT is((SELECT count(*) FROM pg_stats_ext WHERE schemaname = 'rd'), 0::bigint, 'pg_stats_ext: nothing');
SELECT is((SELECT count(*) FROM pg_stats_ext_exprs WHERE schemaname = 'rd'), 0::bigint, 'pg_stats_ext_exprs: nothing');
SELECT is((SELECT count(*) FROM pg_stats WHERE schemaname = 'rd' AND tablename = 'holds_patron_expr'), 0::bigint,
    'pg_stats: nothing of an expression index');
SELECT throws_ok('SELECT * FROM pg_statistic', '42501', NULL, 'pg_statistic itself');
SELECT throws_ok('SELECT * FROM pg_statistic_ext_data', '42501', NULL, 'pg_statistic_ext_data itself');
-- ways around
SELECT ok(pg_temp.item7_without_rls() IN ('', 'ERROR 42501'), 'SET row_security = off: nothing more');
SELECT throws_ok('SET pals_privacy.default_class = ''operational''', '42501', NULL, 'staff cannot change default_class');
SELECT throws_ok('SELECT pals_privacy.classify_role(''regress_rd_staff'', ''operational'')', '42501', NULL,
    'staff cannot reclassify themselves');
SELECT throws_ok('SET ROLE regress_rd_ils', '42501', NULL, 'staff cannot become the ILS');
SELECT throws_ok('ALTER TABLE rd.loans DISABLE ROW LEVEL SECURITY', '42501', NULL, 'staff cannot alter the table');
SELECT throws_ok('SELECT * FROM pals_privacy.private_history', '42501', NULL, 'staff cannot read the copied private history');
SELECT throws_ok('SELECT * FROM pals_privacy.last_borrower', '42501', NULL, 'staff cannot read the last-borrower tracker');
-- a session purpose narrows contact fields to the patrons who consented
SET pals_privacy.purpose = 'newsletter';
SELECT results_eq('SELECT id FROM rd.patrons WHERE email IS NOT NULL ORDER BY id', ARRAY[46]::bigint[],
    'purpose newsletter: e-mail addresses of consenting patrons only');
SELECT is_empty('SELECT id FROM rd.patrons WHERE email = ''sue@example.org''', 'purpose newsletter: WHERE email = ...');
SELECT results_eq('SELECT patron_id FROM rd.addresses WHERE email IS NOT NULL ORDER BY 1', ARRAY[46]::bigint[],
    'purpose newsletter: in a second contact relation too');
SELECT is((SELECT count(phone) FROM rd.addresses), 0::bigint, 'purpose newsletter: no one consented by phone');
SELECT is((SELECT name FROM rd.patrons WHERE id = 42), 'Sue Birch', 'purpose newsletter: other columns are unaffected');
RESET pals_privacy.purpose;
SELECT is((SELECT count(email) FROM rd.patrons), 7::bigint, 'without a purpose: every e-mail address again');
RESET SESSION AUTHORIZATION;

------------------------------------------------------------------------------
-- Plans and classes: prepared statements across SET ROLE, PL/pgSQL plans,
-- reclassification, default_class, membership
------------------------------------------------------------------------------
SET ROLE regress_rd_ils;
PREPARE rd_q1 AS SELECT patron_id FROM rd.loans WHERE item_id = 7 ORDER BY id;
SELECT results_eq('rd_q1', ARRAY[42, 43, 44]::bigint[], 'prepared and run as operational: as stored');
SET ROLE regress_rd_staff;
SELECT results_eq('rd_q1', ARRAY[NULL, NULL, NULL]::bigint[], 'the same prepared statement after SET ROLE staff: masked');
SET ROLE regress_rd_ils;
SELECT results_eq('rd_q1', ARRAY[42, 43, 44]::bigint[], 'and after SET ROLE back to operational: as stored');
SET ROLE regress_rd_staff;
PREPARE rd_q3 AS SELECT patron_id FROM rd.loans WHERE item_id = 7 ORDER BY id;
SELECT results_eq('rd_q3', ARRAY[NULL, NULL, NULL]::bigint[], 'prepared and run as staff: masked');
RESET ROLE;
SELECT results_eq('rd_q3', ARRAY[42, 43, 44]::bigint[], 'the staff''s prepared statement run by the superuser: as stored');
SET plan_cache_mode = force_generic_plan;
PREPARE rd_q2(bigint) AS SELECT count(*) FROM rd.loans WHERE patron_id = $1;
SET ROLE regress_rd_ils;
SELECT results_eq('EXECUTE rd_q2(42)', ARRAY[1::bigint], 'a generic plan as operational finds patron 42');
SET ROLE regress_rd_staff;
SELECT results_eq('EXECUTE rd_q2(42)', ARRAY[0::bigint], 'the same generic plan as staff does not');
RESET plan_cache_mode;
SET ROLE regress_rd_ils;
SELECT is(rd.loans_of(43), 1::bigint, 'a PL/pgSQL function''s cached plan as operational');
SET ROLE regress_rd_staff;
SELECT is(rd.loans_of(43), 0::bigint, 'the same function and plan as staff');
SELECT is(pals_privacy.current_class(), 'staff', 'SET ROLE from a superuser session: the class of the role');
RESET ROLE;

SELECT is(current_setting('pals_privacy.default_class'), 'staff', 'default_class is staff');
SET SESSION AUTHORIZATION regress_rd_other;
SELECT is(pals_privacy.current_class(), 'staff', 'an unclassified role is staff');
SELECT results_eq('SELECT patron_id FROM rd.loans WHERE item_id = 7 ORDER BY id', ARRAY[NULL, NULL, NULL]::bigint[],
    'an unclassified role sees what staff see');
PREPARE rd_q4 AS SELECT count(name) FROM rd.patrons;
SELECT results_eq('rd_q4', ARRAY[7::bigint], 'unclassified (staff): patron names');
RESET SESSION AUTHORIZATION;
SELECT pals_privacy.classify_role('regress_rd_other', 'auditor');
SET SESSION AUTHORIZATION regress_rd_other;
SELECT results_eq('rd_q4', ARRAY[0::bigint], 'classified auditor: the same prepared statement hides names at once');
RESET SESSION AUTHORIZATION;
SELECT pals_privacy.unclassify_role('regress_rd_other');
SET pals_privacy.default_class = 'auditor';
SET SESSION AUTHORIZATION regress_rd_other;
SELECT is(pals_privacy.current_class(), 'auditor', 'default_class auditor: an unclassified role is auditor');
SELECT results_eq('rd_q4', ARRAY[0::bigint], 'and the prepared statement follows');
RESET SESSION AUTHORIZATION;
RESET pals_privacy.default_class;
SET SESSION AUTHORIZATION regress_rd_other;
SELECT results_eq('rd_q4', ARRAY[7::bigint], 'default_class back to staff: names again');
RESET SESSION AUTHORIZATION;
DEALLOCATE rd_q1; DEALLOCATE rd_q2; DEALLOCATE rd_q3; DEALLOCATE rd_q4;

SET SESSION AUTHORIZATION regress_rd_bypass;
SELECT results_eq('SELECT patron_id FROM rd.loans WHERE item_id = 7 ORDER BY id', ARRAY[NULL, NULL, NULL]::bigint[],
    'a staff role with BYPASSRLS: masked all the same');
SELECT is((SELECT count(*) FROM rd.searches), 0::bigint, 'a staff role with BYPASSRLS: no private history');
RESET SESSION AUTHORIZATION;

SET SESSION AUTHORIZATION regress_rd_mixed;
SELECT is(pals_privacy.current_class(), 'auditor', 'a member of an operational and an auditor role is auditor');
SELECT is((SELECT count(name) FROM rd.patrons), 0::bigint, 'and sees no names');
SELECT is((SELECT count(patron_id) FROM rd.loans WHERE item_id = 7), 0::bigint, 'nor the patrons of old loans');
RESET SESSION AUTHORIZATION;

------------------------------------------------------------------------------
-- Auditors: every patron row, nothing but the id
------------------------------------------------------------------------------
SET SESSION AUTHORIZATION regress_rd_aud;
SELECT is(pals_privacy.current_class(), 'auditor', 'regress_rd_aud is auditor');
SELECT results_eq('SELECT id FROM rd.patrons ORDER BY id', ARRAY[41, 42, 43, 44, 45, 46, 47]::bigint[],
    'auditor: every patron row, with its id');
SELECT is((SELECT count(*) FROM rd.patrons WHERE num_nonnulls(name, card, email, notes, expires) > 0), 0::bigint,
    'auditor: every other patron column NULL');
SELECT is_empty('SELECT id FROM rd.patrons WHERE name = ''Sue Birch''', 'auditor: WHERE name = ...');
SELECT is_empty('SELECT id FROM rd.patrons WHERE card = ''RD-0042''', 'auditor: WHERE card = ...');
SELECT results_eq('SELECT id FROM rd.patrons ORDER BY name, id', ARRAY[41, 42, 43, 44, 45, 46, 47]::bigint[],
    'auditor: ORDER BY name has nothing to sort');
SELECT is((SELECT count(*) FROM rd.patrons p, jsonb_each_text(to_jsonb(p)) e WHERE e.key <> 'id' AND e.value IS NOT NULL),
    0::bigint, 'auditor: to_jsonb of patron rows');
SELECT is((SELECT count(*) FROM rd.loans), 8::bigint, 'auditor: loan row counts stay true');
SELECT is((SELECT count(patron_id) FROM rd.loans), 0::bigint, 'auditor: no loan has a patron, open ones included');
SELECT is_empty('SELECT id FROM rd.loans WHERE patron_id = 41', 'auditor: WHERE patron_id = 41 (an open loan)');
SELECT is((SELECT count(patron_id) FROM rd.holds) + (SELECT count(patron_id) FROM rd.iloans), 0::bigint,
    'auditor: no hold, no inherited loan has a patron');
SELECT is((SELECT count(*) FROM rd.addresses WHERE email IS NOT NULL OR phone IS NOT NULL), 0::bigint,
    'auditor: contact fields NULL');
SELECT is((SELECT count(card) FROM rd.cards), 0::bigint, 'auditor: card numbers NULL');
SELECT is((SELECT count(*) FROM rd.searches), 0::bigint, 'auditor: no private history');
SELECT is_empty('SELECT p.id FROM rd.loans l JOIN rd.patrons p ON p.id = l.patron_id', 'auditor: loans JOIN patrons');
SELECT is((SELECT count(name) + count(patron_id) FROM rd.loan_report), 0::bigint, 'auditor: through an ILS view');
SELECT throws_ok('EXPLAIN ANALYZE SELECT * FROM rd.patrons WHERE name = ''Sue Birch''', '42501', NULL, 'auditor: EXPLAIN ANALYZE');
SELECT is((SELECT count(*) FROM pg_stats WHERE schemaname = 'rd'), 0::bigint, 'auditor: pg_stats');
SELECT is((SELECT count(*) FROM pg_stats_ext WHERE schemaname = 'rd'), 0::bigint, 'auditor: pg_stats_ext');
RESET SESSION AUTHORIZATION;

------------------------------------------------------------------------------
-- Collections: the patrons who owe more than collections_threshold, and of
-- them only name, card and contact fields
------------------------------------------------------------------------------
SELECT is(current_setting('pals_privacy.collections_threshold'), '25', 'collections_threshold defaults to 25');
SET SESSION AUTHORIZATION regress_rd_coll;
SELECT throws_ok('SET pals_privacy.collections_threshold = 0', '42501', NULL, 'collections cannot lower their threshold');
RESET SESSION AUTHORIZATION;
SET pals_privacy.collections_threshold = 25;
SET SESSION AUTHORIZATION regress_rd_coll;
SELECT is(pals_privacy.current_class(), 'collections', 'regress_rd_coll is collections');
SELECT results_eq('SELECT id FROM rd.patrons ORDER BY id', ARRAY[43, 45]::bigint[],
    'collections: the patrons owing more than 25 (45 owes 20 + 10 in two balance relations)');
SELECT results_eq('SELECT name, card, email FROM rd.patrons ORDER BY id',
    $$VALUES ('Ray Cedar'::text, 'RD-0043'::text, 'ray@example.org'::text), ('Pat Fir', 'RD-0045', 'pat@example.org')$$,
    'collections: their name, card and e-mail');
SELECT is((SELECT count(*) FROM rd.patrons WHERE num_nonnulls(notes, expires) > 0), 0::bigint,
    'collections: their other columns NULL');
SELECT is_empty('SELECT id FROM rd.patrons WHERE notes = ''note 43''', 'collections: WHERE on another column');
SELECT is_empty('SELECT id FROM rd.patrons WHERE id = 44 OR card = ''RD-0044''', 'collections: a patron owing less');
SELECT results_eq('SELECT id FROM rd.fines ORDER BY id', ARRAY[1, 2, 5, 6], 'collections: only their fines');
SELECT results_eq('SELECT patron_id FROM rd.fees ORDER BY 1', ARRAY[45]::bigint[], 'collections: only their fees');
SELECT results_eq('SELECT patron_id FROM rd.balances ORDER BY 1', ARRAY[43, 45]::bigint[],
    'collections: an ILS view of the balances');
SELECT results_eq('SELECT card FROM rd.cards ORDER BY 1', ARRAY['RDX-4301'], 'collections: only their cards');
SELECT results_eq('SELECT patron_id, email, phone FROM rd.addresses ORDER BY 1',
    $$VALUES (43::bigint, 'ray@home.example'::text, '555-0143'::text), (45, 'pat@home.example', '555-0145')$$,
    'collections: only their contact rows');
SELECT is((SELECT count(patron_id) FROM rd.loans), 0::bigint, 'collections: no loan has a patron');
SELECT is_empty('SELECT id FROM rd.loans WHERE patron_id = 43', 'collections: WHERE patron_id = 43 on loans');
SELECT is((SELECT count(patron_id) FROM rd.holds), 0::bigint, 'collections: no hold has a patron');
SELECT is((SELECT count(*) FROM rd.searches), 0::bigint, 'collections: no private history');
SELECT is_empty('SELECT p.id FROM rd.loans l JOIN rd.patrons p ON p.id = l.patron_id', 'collections: loans JOIN patrons');
SELECT throws_ok('EXPLAIN ANALYZE SELECT * FROM rd.patrons', '42501', NULL, 'collections: EXPLAIN ANALYZE');
SELECT is((SELECT count(*) FROM pg_stats WHERE schemaname = 'rd'), 0::bigint, 'collections: pg_stats');
RESET SESSION AUTHORIZATION;
SET pals_privacy.collections_threshold = 1000;
SET SESSION AUTHORIZATION regress_rd_coll;
SELECT is((SELECT count(*) FROM rd.patrons), 0::bigint, 'collections, threshold 1000: nobody');
RESET SESSION AUTHORIZATION;
SET pals_privacy.collections_threshold = 4;
SET SESSION AUTHORIZATION regress_rd_coll;
SELECT results_eq('SELECT id FROM rd.patrons ORDER BY id', ARRAY[43, 44, 45]::bigint[], 'collections, threshold 4: 44 too');
RESET SESSION AUTHORIZATION;
SET pals_privacy.collections_threshold = 25;

------------------------------------------------------------------------------
-- COPY, parallel plans, error details: checked by the expected output
------------------------------------------------------------------------------
SET SESSION AUTHORIZATION regress_rd_staff;
COPY (SELECT id, patron_id, item_id FROM rd.loans WHERE item_id IN (1, 2, 7, 8) ORDER BY id) TO STDOUT;
COPY rd.loans_2023 (id, patron_id, item_id) TO STDOUT;
COPY rd.holds (id, patron_id, title_id) TO STDOUT;
COPY rd.iloans TO STDOUT;
COPY rd.iloans_old (id, patron_id, item_id) TO STDOUT;
COPY rd.searches TO STDOUT;
-- parallel plans (workers or not, the leader runs it under Gather)
SET parallel_setup_cost = 0; SET parallel_tuple_cost = 0; SET min_parallel_table_scan_size = 0;
-- force_parallel_mode was renamed debug_parallel_query in PostgreSQL 16
SELECT CASE WHEN current_setting('server_version_num')::int >= 160000 THEN 'debug_parallel_query'
            ELSE 'force_parallel_mode' END AS debug_parallel \gset
SET max_parallel_workers_per_gather = 2; SET :debug_parallel = on;
SELECT count(*) AS parallel_count_42 FROM rd.loans WHERE patron_id = 42;
SELECT string_agg(coalesce(patron_id::text, '-'), ',' ORDER BY id) AS parallel_item_7 FROM rd.loans WHERE item_id = 7;
SELECT count(*) AS parallel_searches FROM rd.searches;
RESET parallel_setup_cost; RESET parallel_tuple_cost; RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather; RESET :debug_parallel;
-- integrity violations cannot echo a hidden row: a row whose patron the class may not
-- see is not written at all (UPDATE 0; under 0.1.0 each failed without DETAIL)
SAVEPOINT rd_err;
UPDATE rd.holds SET title_id = 102 WHERE id = 3;
ROLLBACK TO SAVEPOINT rd_err;
UPDATE rd.loans SET note = repeat('x', 60) WHERE id = 4;
ROLLBACK TO SAVEPOINT rd_err;
UPDATE rd.loans SET id = NULL WHERE id = 5;
ROLLBACK TO SAVEPOINT rd_err;
-- the same, with a SECURITY DEFINER function of an exempt owner running in the
-- statement (the extension's own has_consent(), an ILS function)
UPDATE rd.holds SET title_id = 102 WHERE id = 3 AND pals_privacy.has_consent('41', 'notices', 'email') IS NOT NULL;
ROLLBACK TO SAVEPOINT rd_err;
UPDATE rd.holds SET title_id = 102 WHERE id = 3 AND EXISTS (SELECT rd.item_patrons_secdef_ils(7));
ROLLBACK TO SAVEPOINT rd_err;
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_rd_aud;
COPY rd.patrons (id, name, card, email) TO STDOUT;
COPY rd.loans_2025 (id, patron_id, item_id) TO STDOUT;
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_rd_coll;
COPY rd.patrons (id, name, card, email, notes) TO STDOUT;
COPY rd.addresses (patron_id, email) TO STDOUT;
RESET SESSION AUTHORIZATION;

------------------------------------------------------------------------------
-- Staff write: check-out and check-in work; a write never reads a hidden value
------------------------------------------------------------------------------
SET SESSION AUTHORIZATION regress_rd_staff;
-- a PL/pgSQL function of the staff's own can catch an error and return its
-- DETAIL as data: it must not hold the hidden value there either
-- a row whose patron the class may not see is not written at all, so no
-- integrity error can echo it (the DETAIL is hidden anyway: see above)
SELECT is(pg_temp.nrows('UPDATE rd.holds SET title_id = 102 WHERE id = 3'), 0::bigint,
    'a hidden hold is not updated (nothing for a unique violation to name)');
SELECT is(pg_temp.nrows('UPDATE rd.loans SET note = repeat(''x'', 60) WHERE id = 4'), 0::bigint,
    'a hidden loan is not updated (nothing for a check violation to show)');
SELECT is(pg_temp.nrows('UPDATE rd.loans SET id = NULL WHERE id = 5'), 0::bigint,
    'a hidden loan is not updated (nothing for a not-null violation to show)');
SELECT is(pg_temp.nrows('UPDATE rd.loans SET note = ''probe'' WHERE patron_id = 42'), 0::bigint,
    'UPDATE ... WHERE patron_id = 42 updates nothing');
SELECT is(pg_temp.nrows('DELETE FROM rd.loans WHERE patron_id IN (43, 44)'), 0::bigint,
    'DELETE ... WHERE patron_id IN (43, 44) deletes nothing');
SELECT is(pg_temp.nrows('UPDATE rd.holds SET placed = placed WHERE patron_id = 42'), 0::bigint,
    'UPDATE holds ... WHERE patron_id = 42 updates nothing');
SELECT is(pg_temp.nrows('DELETE FROM rd.searches'), 0::bigint, 'DELETE FROM the private history deletes nothing');
SELECT throws_ok('MERGE INTO rd.loans l USING (VALUES (7)) v(id) ON l.id = v.id
                   WHEN MATCHED AND l.patron_id = 47 THEN UPDATE SET note = ''hit''', '42501', NULL,
    'MERGE into a bound relation is refused');
SELECT is(pg_temp.nrows('UPDATE rd.patrons p SET notes = notes FROM rd.loans l WHERE l.patron_id = p.id AND l.item_id = 7'),
    0::bigint, 'UPDATE patrons FROM the loans of item 7 updates nothing');
-- (the conflict's WHERE sees the mask and skips the row, or the conflict check
-- refuses it, depending on the order the server version evaluates them in)
SELECT ok(coalesce(pg_temp.try_val('INSERT INTO rd.loans (id, item_id, checked_out) VALUES (7, 9, ''2024-06-01'')
                   ON CONFLICT (id, checked_out) DO UPDATE SET note = ''hit'' WHERE rd.loans.patron_id = 47
                   RETURNING note'), 'none') IN ('none', 'ERROR 42501'),
    'INSERT ... ON CONFLICT DO UPDATE ... WHERE patron_id = 47 of a row with a hidden patron updates nothing');
SELECT throws_ok('INSERT INTO rd.holds (id, patron_id, title_id, placed) VALUES (3, NULL, 0, ''2025-01-01'')
                   ON CONFLICT (id) DO UPDATE SET title_id = coalesce(rd.holds.patron_id, -1) RETURNING title_id',
    '42501', NULL, 'INSERT ... ON CONFLICT DO UPDATE SET x = the existing row''s hidden patron is refused (a mask is never stored)');
SELECT is(pg_temp.nrows('UPDATE rd.loans SET note = patron_id::text WHERE id = 7
                         RETURNING coalesce(patron_id::text, ''-'') || ''/'' || coalesce(note, ''-'')'), 0::bigint,
    'UPDATE ... SET note = patron_id of a hidden loan: nothing updated, nothing returned');
SELECT is(pg_temp.nrows('DELETE FROM rd.loans WHERE id = 8 RETURNING coalesce(patron_id::text, ''-'')'), 0::bigint,
    'DELETE ... RETURNING patron_id of a hidden loan: nothing deleted, nothing returned');
SELECT lives_ok('INSERT INTO rd.scratch SELECT id, patron_id FROM rd.loans WHERE item_id = 7',
    'INSERT ... SELECT from the loans');
SELECT lives_ok($$INSERT INTO rd.loans (id, patron_id, item_id, checked_out) VALUES (20, 41, 10, '2025-07-01')$$,
    'staff check an item out');
SELECT is((SELECT patron_id FROM rd.loans WHERE id = 20), 41::bigint, 'and see who has it');
SELECT is(pg_temp.nrows($$UPDATE rd.loans SET returned = '2025-07-02', paid = '2025-07-02' WHERE id = 20$$), 1::bigint,
    'staff check it in');
SELECT is((SELECT patron_id FROM rd.loans WHERE id = 20), 41::bigint, 'and still see its last borrower');
SELECT is(pg_temp.val($$INSERT INTO rd.holds VALUES (5, 44, 103, '2025-07-01') RETURNING patron_id$$), '44',
    'staff place a hold and see whose it is');
RESET SESSION AUTHORIZATION;

-- what the writes left behind, as stored
SELECT results_eq('SELECT id, patron_id, note FROM rd.loans WHERE id IN (3, 4, 5, 7) ORDER BY id',
    $$VALUES (3, 42::bigint, NULL::text), (4, 43, NULL), (5, 44, NULL), (7, 47, NULL)$$,
    'superuser: the hidden patrons are intact, no note was written from them');
SELECT is((SELECT count(patron_id) FROM rd.scratch), 0::bigint, 'superuser: INSERT ... SELECT by staff copied no hidden patron');
SELECT is((SELECT count(*) FROM rd.loans WHERE note IN ('probe', 'hit')), 0::bigint, 'superuser: no probe was written');
SELECT is((SELECT patron_id FROM rd.loans WHERE id = 20), 41::bigint, 'superuser: the new loan as written');

-- An index on the masked column must not bring a hidden row to a condition
-- that fails on it: loan 3 (patron 42, hidden from staff) would make 1/(id - 3)
-- divide by zero, and only rows of patron 42 are fetched through the index.
SET SESSION AUTHORIZATION regress_rd_staff;
SET enable_seqscan = off;
SET enable_bitmapscan = off;
SELECT lives_ok($$SELECT count(*) FROM rd.loans WHERE patron_id = 42 AND 1 / (id - 3) IS NOT NULL$$,
    'index on the masked column: the hidden row of patron 42 never reaches a failing condition');
SELECT lives_ok($$SELECT count(*) FROM rd.loans WHERE patron_id IN (42, 99) AND 1 / (id - 3) IS NOT NULL$$,
    'nor with IN (...)');
SELECT is((SELECT count(*) FROM rd.loans WHERE patron_id = 42 AND id = 3), 0::bigint,
    'and the hidden row does not match either');
RESET enable_bitmapscan;
RESET enable_seqscan;
RESET SESSION AUTHORIZATION;

-- Server log messages (auto_explain's EXPLAIN ANALYZE output is one) stay in
-- the server log for a redacted session, even with client_min_messages = log:
-- no LOG line may appear below.
SET SESSION AUTHORIZATION regress_rd_staff;
SET client_min_messages = log;
DO $$ BEGIN RAISE LOG 'pals_privacy redaction test: this line must not reach a staff session'; END $$;
RESET client_min_messages;
SET client_min_messages = warning;
RESET SESSION AUTHORIZATION;

SELECT * FROM finish();
ROLLBACK;
