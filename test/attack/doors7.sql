-- test/attack/doors7.sql: doors a staff account (with the desk's write
-- rights) tried in test/sql/attack_doors7.sql, included once before
-- sever_backlog() and once after it (:phase).  Items 90001-90005 hold hidden
-- loans of 9001 and 9012.
-- the conflict's WHERE reads the existing row: evaluated before the check
-- that the row may be written (PostgreSQL's own order for row security)
SELECT pg_temp.indist(:'phase' || 'INSERT ... ON CONFLICT DO UPDATE ... WHERE loans.patron_id = N (the existing row''s patron)', 'staff',
    ARRAY['INSERT INTO demo.loans (id, patron_id, item_id, library_id, checked_out_at, due_at)
           VALUES (100011, 1, 90001, 1, ''2025-03-04'', ''2025-04-01'')
           ON CONFLICT (id, checked_out_at) DO UPDATE SET due_at = excluded.due_at
           WHERE demo.loans.patron_id = %1$s RETURNING id']);
SELECT pg_temp.indist(:'phase' || 'ON CONFLICT DO UPDATE ... WHERE 1 / (loans.patron_id - N) > 0 (an error in the conflict''s WHERE)', 'staff',
    ARRAY['INSERT INTO demo.loans (id, patron_id, item_id, library_id, checked_out_at, due_at)
           VALUES (100011, 1, 90001, 1, ''2025-03-04'', ''2025-04-01'')
           ON CONFLICT (id, checked_out_at) DO UPDATE SET due_at = excluded.due_at
           WHERE 1 / (demo.loans.patron_id - %1$s) > 0 RETURNING id']);
-- EXPLAIN ANALYZE itself (row counts, rows removed by filter)
SELECT pg_temp.indist(:'phase' || 'EXPLAIN ANALYZE of WHERE patron_id = N (rows, rows removed by filter)', 'staff',
    ARRAY['EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) SELECT count(*) FROM demo.loans WHERE patron_id = %1$s']);
-- statistics read from the catalog views directly: the loans, a partition,
-- the partitions' expression index (patron_id + 0), the extended statistics
-- of the holds
SELECT pg_temp.attempt(:'phase' || 'pg_stats of the loans, a partition and the expression index', 'staff',
    ARRAY['SELECT DISTINCT (regexp_matches(most_common_vals::text || coalesce(histogram_bounds::text, ''''), ''\d+'', ''g''))[1]::bigint AS seen_patron
             FROM pg_stats WHERE schemaname = ''demo'' AND tablename IN (''loans'', ''loans_2025'', ''loans_2025_expr_idx'')
              AND attname IN (''patron_id'', ''expr'')'], 'loans', 'superuser');
SELECT pg_temp.attempt(:'phase' || 'pg_stats_ext and pg_stats_ext_exprs of the holds', 'staff',
    ARRAY['SELECT DISTINCT (regexp_matches(s::text, ''\d+'', ''g''))[1]::bigint AS seen_patron
             FROM (SELECT e::text AS s FROM pg_stats_ext e WHERE statistics_schemaname = ''demo''
                   UNION ALL SELECT x::text FROM pg_stats_ext_exprs x WHERE statistics_schemaname = ''demo'') q'],
    'loans', 'superuser');
-- a cast of the patron to a domain of the attacker's, whose CHECK records
-- every value it is given
SELECT pg_temp.attempt(:'phase' || 'a cast to a domain whose CHECK records the values, in WHERE', 'staff',
    ARRAY['CREATE TABLE pg_temp.atk_seen (v bigint)',
          'CREATE FUNCTION pg_temp.atk_note(v bigint) RETURNS boolean LANGUAGE plpgsql AS
             $f$ BEGIN INSERT INTO pg_temp.atk_seen VALUES (v); RETURN true; END $f$',
          'CREATE DOMAIN pg_temp.atk_dom AS bigint CHECK (pg_temp.atk_note(VALUE))',
          'SELECT count(*) FROM demo.loans WHERE item_id BETWEEN 90001 AND 90005 AND patron_id::pg_temp.atk_dom = 9001',
          'SELECT DISTINCT v AS seen_patron FROM pg_temp.atk_seen']);
SELECT pg_temp.attempt(:'phase' || 'the same domain in a join condition to a table of guesses', 'staff',
    ARRAY['CREATE TABLE pg_temp.atk_seen (v bigint)',
          'CREATE FUNCTION pg_temp.atk_note(v bigint) RETURNS boolean LANGUAGE plpgsql AS
             $f$ BEGIN INSERT INTO pg_temp.atk_seen VALUES (v); RETURN true; END $f$',
          'CREATE DOMAIN pg_temp.atk_dom AS bigint CHECK (pg_temp.atk_note(VALUE))',
          'CREATE TABLE pg_temp.atk_guess (p bigint)', 'INSERT INTO pg_temp.atk_guess VALUES (9001), (9012)',
          'SELECT count(*) FROM demo.loans l JOIN pg_temp.atk_guess g ON l.patron_id::pg_temp.atk_dom = g.p',
          'SELECT DISTINCT v AS seen_patron FROM pg_temp.atk_seen']);
SELECT pg_temp.attempt(:'phase' || 'DISTINCT ON (patron_id)', 'staff',
    ARRAY['SELECT DISTINCT ON (patron_id) id, patron_id FROM demo.loans WHERE item_id BETWEEN 90001 AND 90005 ORDER BY patron_id, id']);
-- the extension's run-time check called by hand: pals_privacy._last_borrower
-- (PUBLIC may execute it) in a WHERE of the attacker's, and its answers
-- kept across statements
SELECT pg_temp.attempt(:'phase' || '_last_borrower() called by hand for every row, then read', 'staff',
    ARRAY['SELECT count(*) FROM demo.loans l WHERE pals_privacy._last_borrower(''demo.loans''::regclass::oid, l.item_id::text, l.tableoid, l.ctid) IS NOT NULL',
          'SELECT count(*) FROM demo.loans l WHERE pals_privacy._last_borrower(''demo.loans''::regclass::oid, ''90001'', ''demo.loans_2025''::regclass::oid, ''(0,1)''::tid) IS NOT NULL',
          'SELECT id, patron_id FROM demo.loans WHERE item_id BETWEEN 90001 AND 90005']);
-- the loans as the FROM of an UPDATE of another table (the desk may update
-- items): its WHERE and RETURNING read the loans as a SELECT does
SELECT pg_temp.attempt(:'phase' || 'UPDATE items ... FROM loans ... RETURNING the loan''s patron', 'staff',
    ARRAY['UPDATE demo.items i SET status = i.status FROM demo.loans l
            WHERE l.item_id = i.id AND i.id BETWEEN 90001 AND 90005 AND l.checked_out_at < ''2025-04-30''
           RETURNING l.id, l.patron_id']);
SELECT pg_temp.indist(:'phase' || 'UPDATE items ... FROM loans WHERE the loan''s patron = N RETURNING the item', 'staff',
    ARRAY['UPDATE demo.items i SET status = i.status FROM demo.loans l
            WHERE l.item_id = i.id AND l.patron_id = %1$s RETURNING i.id']);
