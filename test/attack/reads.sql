-- test/attack/reads.sql: reads by unusual paths, included by
-- test/sql/attack_reads.sql once per privacy class (:cls).  Items
-- 90001-90005 hold hidden loans of 9001 and 9012 for every class; holds
-- 90001-90003 hidden holds; the private history is hidden from all but the
-- patron (the patron class is logged in as 9011).
SELECT pg_temp.attempt('window: max(patron_id) OVER (PARTITION BY id)', :'cls',
    ARRAY['SELECT id, max(patron_id) OVER (PARTITION BY id) AS patron_id FROM demo.loans WHERE item_id BETWEEN 90001 AND 90005']);
SELECT pg_temp.attempt('window: lead() pairs each row with the next one''s patron', :'cls',
    ARRAY['SELECT lead(id) OVER w AS id, lead(patron_id) OVER w AS patron_id FROM demo.loans
            WHERE item_id BETWEEN 90001 AND 90005 WINDOW w AS (ORDER BY id)']);
SELECT pg_temp.attempt('LATERAL (SELECT l.patron_id)', :'cls',
    ARRAY['SELECT l.id, x.patron_id FROM demo.loans l CROSS JOIN LATERAL (SELECT l.patron_id) x WHERE l.item_id BETWEEN 90001 AND 90005']);
SELECT pg_temp.attempt('recursive CTE seeded from the loans', :'cls',
    ARRAY['WITH RECURSIVE r(id, patron_id, d) AS (SELECT id, patron_id, 0 FROM demo.loans WHERE item_id = 90001
                                                 UNION ALL SELECT id, patron_id, d + 1 FROM r WHERE d < 1)
           SELECT id, patron_id FROM r']);
SELECT pg_temp.attempt('recursive CTE of guesses joined to the loans', :'cls',
    ARRAY['WITH RECURSIVE c(p) AS (SELECT 9000::bigint UNION ALL SELECT p + 1 FROM c WHERE p < 9020)
           SELECT l.id, c.p AS patron_id FROM c JOIN demo.loans l ON l.patron_id = c.p']);
SELECT pg_temp.attempt('generate_series of guesses, hash join forced', :'cls',
    ARRAY['SET LOCAL enable_nestloop = off', 'SET LOCAL enable_mergejoin = off',
          'SELECT l.id, g AS patron_id FROM generate_series(9000::bigint, 9020) g JOIN demo.loans l ON l.patron_id = g']);
SELECT pg_temp.attempt('IN (subquery of guesses)', :'cls',
    ARRAY['SELECT id, patron_id FROM demo.loans WHERE patron_id IN (SELECT generate_series(9000::bigint, 9020))']);
SELECT pg_temp.attempt('GROUPING SETS ((patron_id), ())', :'cls',
    ARRAY['SELECT min(id) AS id, patron_id FROM demo.loans WHERE item_id = 90001 GROUP BY GROUPING SETS ((patron_id), ())']);
SELECT pg_temp.attempt('TABLESAMPLE BERNOULLI (100)', :'cls',
    ARRAY['SELECT id, patron_id FROM demo.loans TABLESAMPLE BERNOULLI (100) WHERE item_id = 90001']);
SELECT pg_temp.attempt('TID scan on ctid of a partition', :'cls',
    ARRAY['SELECT id, patron_id FROM demo.loans_2025
            WHERE ctid = ANY (ARRAY(SELECT ctid FROM demo.loans_2025 WHERE item_id = 90001))']);
SELECT pg_temp.attempt('system columns ctid, xmin, tableoid beside the patron', :'cls',
    ARRAY['SELECT id, patron_id, ctid::text, xmin::text, tableoid::regclass::text FROM demo.loans WHERE item_id = 90002']);
SELECT pg_temp.attempt('array_agg of whole rows, unnested', :'cls',
    ARRAY['SELECT (r).id, (r).patron_id FROM (SELECT unnest(array_agg(l)) AS r FROM demo.loans l WHERE item_id = 90001) s']);
SELECT pg_temp.attempt('to_jsonb(row)', :'cls',
    ARRAY['SELECT (j ->> ''id'')::bigint AS id, (j ->> ''patron_id'')::bigint AS patron_id
             FROM (SELECT to_jsonb(l) j FROM demo.loans l WHERE item_id = 90003) s']);
SELECT pg_temp.attempt('the row as text, parsed', :'cls',
    ARRAY['SELECT id, nullif(split_part(trim(both ''()'' from l::text), '','', 2), '''')::bigint AS patron_id
             FROM demo.loans l WHERE item_id = 90004']);
SELECT pg_temp.attempt('a security_barrier view of the attacker''s', :'cls',
    ARRAY['CREATE TEMP VIEW atk_v WITH (security_barrier) AS SELECT id, patron_id, item_id FROM demo.loans',
          'SELECT id, patron_id FROM atk_v WHERE item_id = 90005']);
SELECT pg_temp.attempt('a temp view with row security of its own', :'cls',
    ARRAY['CREATE TEMP VIEW atk_v WITH (security_invoker = false) AS SELECT l.id, l.patron_id FROM demo.loans l, demo.patrons p
            WHERE p.id = 9001 AND l.item_id = 90001',
          'SELECT id, patron_id FROM atk_v']);
SELECT pg_temp.attempt('SELECT ... FOR UPDATE SKIP LOCKED', :'cls',
    ARRAY['SELECT id, patron_id FROM demo.loans WHERE item_id = 90002 FOR UPDATE SKIP LOCKED']);
SELECT pg_temp.attempt('a cursor WITH HOLD of the attacker''s', :'cls',
    ARRAY['DECLARE atk_c CURSOR WITH HOLD FOR SELECT id, patron_id FROM demo.loans WHERE item_id = 90001',
          'FETCH ALL FROM atk_c', 'CLOSE atk_c']);
SELECT pg_temp.attempt('holds: window over closed holds', :'cls',
    ARRAY['SELECT id, first_value(patron_id) OVER (PARTITION BY id) AS patron_id FROM demo.holds WHERE id BETWEEN 90001 AND 90003'],
    'holds');
SELECT pg_temp.attempt('private history: to_jsonb of the rows', :'cls',
    ARRAY['SELECT (to_jsonb(r) ->> ''id'')::bigint AS id, (to_jsonb(r) ->> ''patron_id'')::bigint AS patron_id FROM demo.reading_history r'],
    'reading_history');
SELECT pg_temp.attempt('private history: LATERAL from the patrons', :'cls',
    ARRAY['SELECT x.id, p.id AS patron_id FROM demo.patrons p CROSS JOIN LATERAL
            (SELECT r.id FROM demo.reading_history r WHERE r.patron_id = p.id) x WHERE p.id > 9000'],
    'reading_history');
SELECT pg_temp.attempt('an advisory lock taken on every patron id, read back from pg_locks', :'cls',
    ARRAY['SELECT count(*) FROM demo.loans WHERE item_id BETWEEN 90001 AND 90005 AND pg_try_advisory_xact_lock(patron_id) IS NOT NULL',
          'SELECT objid::bigint AS seen_patron FROM pg_locks WHERE locktype = ''advisory'' AND pid = pg_backend_pid()']);
-- oracles: 9001 (hidden rows) against 9002 (none)
SELECT pg_temp.indist('division by zero in WHERE: 1 / (patron_id - N)', :'cls',
    ARRAY['SELECT count(*) FROM demo.loans WHERE item_id BETWEEN 90001 AND 90005 AND 1 / (patron_id - %1$s) IS NOT NULL']);
SELECT pg_temp.indist('division by zero in CASE in the select list', :'cls',
    ARRAY['SELECT sum(CASE WHEN patron_id = %1$s THEN 1 / (id - id) ELSE 0 END) FROM demo.loans WHERE item_id BETWEEN 90001 AND 90005']);
SELECT pg_temp.indist('division by zero in ORDER BY', :'cls',
    ARRAY['SELECT id FROM demo.loans WHERE item_id = 90001 ORDER BY 1 / (patron_id - %1$s), id']);
SELECT pg_temp.indist('division by zero in HAVING', :'cls',
    ARRAY['SELECT item_id FROM demo.loans WHERE item_id BETWEEN 90001 AND 90005 GROUP BY item_id
            HAVING sum(1 / (patron_id - %1$s)) IS NOT NULL ORDER BY 1']);
SELECT pg_temp.indist('division by zero in a window', :'cls',
    ARRAY['SELECT count(*) OVER (ORDER BY 1 / (patron_id - %1$s)) FROM demo.loans WHERE item_id = 90002 ORDER BY id']);
SELECT pg_temp.indist('division by zero in a JOIN ... ON', :'cls',
    ARRAY['SELECT count(*) FROM demo.loans l JOIN demo.items i ON i.id = l.item_id AND 1 / (l.patron_id - %1$s) IS NOT NULL
            WHERE l.item_id BETWEEN 90001 AND 90005']);
SELECT pg_temp.indist('ORDER BY patron_id = N ... LIMIT 1', :'cls',
    ARRAY['SELECT id FROM demo.loans WHERE item_id = 90001 ORDER BY patron_id = %1$s DESC NULLS LAST, checked_out_at DESC LIMIT 1']);
SELECT pg_temp.indist('row comparison (patron_id, item_id) = (N, 90001)', :'cls',
    ARRAY['SELECT count(*) FROM demo.loans WHERE (patron_id, item_id) = (%1$s, 90001)']);
SELECT pg_temp.indist('row comparison (patron_id, id) >= (N, 0) AND < (N + 1, 0)', :'cls',
    ARRAY['SELECT count(*) FROM demo.loans WHERE (patron_id, id) >= (%1$s, 0) AND (patron_id, id) < (%1$s + 1, 0)']);
SELECT pg_temp.indist('IS NOT DISTINCT FROM N', :'cls',
    ARRAY['SELECT count(*) FROM demo.loans WHERE patron_id IS NOT DISTINCT FROM %1$s']);
SELECT pg_temp.indist('the whole row as text LIKE ''%%,N,%%''', :'cls',
    ARRAY['SELECT count(*) FROM demo.loans l WHERE l::text LIKE ''%%,%1$s,%%''']);
SELECT pg_temp.indist('count of the private history WHERE patron_id = N', :'cls',
    ARRAY['SELECT count(*) FROM demo.reading_history WHERE patron_id = %1$s']);
SELECT pg_temp.indist('EXISTS a hold of patron N', :'cls',
    ARRAY['SELECT EXISTS (SELECT 1 FROM demo.holds WHERE patron_id = %1$s)']);
SELECT pg_temp.indist('a prepared statement, generic plan, WHERE patron_id = $1', :'cls',
    ARRAY['DEALLOCATE ALL', 'SET LOCAL plan_cache_mode = force_generic_plan',
          'PREPARE atk_p(bigint) AS SELECT count(*) FROM demo.loans WHERE patron_id = $1',
          'EXECUTE atk_p(%1$s)', 'DEALLOCATE ALL']);
