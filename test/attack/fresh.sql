-- test/attack/fresh.sql: reads and writes by MERGE and by a cursor,
-- included by test/sql/attack_fresh.sql before sever_backlog() and after it
-- (:phase).  Items 90001-90005 hold hidden loans of 9001 and 9012; holds
-- 90001-90003 are closed holds of theirs.
SELECT pg_temp.attempt(:'phase' || 'MERGE into a temp table, the loans its source', 'staff',
    ARRAY['CREATE TEMP TABLE atk_m (id bigint, patron_id bigint)',
          'MERGE INTO atk_m t USING demo.loans l ON t.id = l.id
           WHEN NOT MATCHED AND l.item_id BETWEEN 90001 AND 90005 THEN INSERT VALUES (l.id, l.patron_id)',
          'SELECT id, patron_id FROM atk_m']);
SELECT pg_temp.attempt(:'phase' || 'MERGE: the patron in the WHEN condition, the id inserted', 'staff',
    ARRAY['CREATE TEMP TABLE atk_m (id bigint, patron_id bigint)',
          'MERGE INTO atk_m t USING (SELECT l.id, l.patron_id, g FROM demo.loans l, generate_series(9000::bigint, 9020) g
                                     WHERE l.item_id BETWEEN 90001 AND 90005) s ON t.id = s.id
           WHEN NOT MATCHED AND s.patron_id = s.g THEN INSERT VALUES (s.id, s.g)',
          'SELECT id, patron_id FROM atk_m']);
SELECT pg_temp.attempt(:'phase' || 'MERGE of guesses ON the patron column, matched rows updated', 'staff',
    ARRAY['CREATE TEMP TABLE atk_m (id bigint, patron_id bigint)',
          'INSERT INTO atk_m SELECT NULL, g FROM generate_series(9000::bigint, 9020) g',
          'MERGE INTO atk_m t USING (SELECT patron_id, min(id) AS id FROM demo.loans WHERE item_id BETWEEN 90001 AND 90005
                                     GROUP BY patron_id) l ON t.patron_id = l.patron_id
           WHEN MATCHED THEN UPDATE SET id = l.id',
          'SELECT id, patron_id FROM atk_m WHERE id IS NOT NULL']);
SELECT pg_temp.attempt(:'phase' || 'MERGE into a temp table, the holds its source', 'staff',
    ARRAY['CREATE TEMP TABLE atk_m (id bigint, patron_id bigint)',
          'MERGE INTO atk_m t USING demo.holds h ON t.id = h.id
           WHEN NOT MATCHED AND h.id BETWEEN 90001 AND 90003 THEN INSERT VALUES (h.id, h.patron_id)',
          'SELECT id, patron_id FROM atk_m'], 'holds');
SELECT pg_temp.attempt(:'phase' || 'MERGE into a temp table, the private history its source', 'staff',
    ARRAY['CREATE TEMP TABLE atk_m (id bigint, patron_id bigint)',
          'MERGE INTO atk_m t USING demo.reading_history r ON t.id = r.id
           WHEN NOT MATCHED THEN INSERT VALUES (r.id, r.patron_id)',
          'SELECT id, patron_id FROM atk_m'], 'reading_history');
SELECT pg_temp.indist(:'phase' || 'MERGE: rows matched ON patron_id = N, counted', 'staff',
    ARRAY['CREATE TEMP TABLE atk_m (p bigint, hits bigint DEFAULT 0)',
          'INSERT INTO atk_m VALUES (%1$s)',
          'MERGE INTO atk_m t USING demo.loans l ON l.patron_id = t.p WHEN MATCHED THEN UPDATE SET hits = t.hits + 1',
          'SELECT p - p AS zero, hits FROM atk_m']);
-- a cursor FOR UPDATE over hidden rows, then UPDATE ... WHERE CURRENT OF
SELECT pg_temp.attempt(:'phase' || 'UPDATE ... WHERE CURRENT OF a cursor FOR UPDATE over hidden rows, RETURNING', 'staff',
    ARRAY['DECLARE atk_cu CURSOR FOR SELECT id FROM demo.loans_2025 WHERE item_id = 90001 ORDER BY id FOR UPDATE',
          'FETCH 1 FROM atk_cu',
          'UPDATE demo.loans_2025 SET fines_settled_at = NULL WHERE CURRENT OF atk_cu RETURNING id, patron_id',
          'CLOSE atk_cu']);
SELECT pg_temp.attempt(:'phase' || 'UPDATE ... WHERE CURRENT OF, then read the row back', 'staff',
    ARRAY['DECLARE atk_cu CURSOR FOR SELECT id FROM demo.loans_2025 WHERE item_id = 90002 ORDER BY id FOR UPDATE',
          'FETCH 1 FROM atk_cu',
          'UPDATE demo.loans_2025 SET returned_at = NULL, fines_settled_at = NULL WHERE CURRENT OF atk_cu',
          'CLOSE atk_cu',
          'SELECT id, patron_id FROM demo.loans WHERE item_id = 90002']);
-- withdrawing a patron's reading-history opt-in severs their kept history at
-- once, in the same transaction: which masked rows turned into the
-- placeholder tells which hidden loans and holds were theirs (and a rollback
-- leaves no trace).  The control withdraws it as the ILS and reads which
-- rows that severed.
SELECT pg_temp.attempt(:'phase' || 'withdraw 9001''s opt-in, then see which masked loans turned into the placeholder', 'staff',
    ARRAY['CREATE TEMP TABLE atk_b AS SELECT id FROM demo.loans WHERE patron_id IS NULL AND item_id BETWEEN 90001 AND 90005',
          'UPDATE demo.patrons SET keep_history = false WHERE id = 9001',
          'SELECT b.id, 9001::bigint AS patron_id FROM atk_b b JOIN demo.loans l USING (id) WHERE l.patron_id = 0'],
    'loans', 'ils_app',
    ARRAY['UPDATE demo.patrons SET keep_history = false WHERE id = 9001',
          'SELECT id, 9001::bigint AS patron_id FROM demo.loans WHERE item_id BETWEEN 90001 AND 90005 AND patron_id = 0']);
SELECT pg_temp.attempt(:'phase' || 'withdraw 9001''s opt-in, then see which holds turned into the placeholder', 'staff',
    ARRAY['CREATE TEMP TABLE atk_b AS SELECT id FROM demo.holds WHERE patron_id IS NULL',
          'UPDATE demo.patrons SET keep_history = false WHERE id = 9001',
          'SELECT b.id, 9001::bigint AS patron_id FROM atk_b b JOIN demo.holds h USING (id) WHERE h.patron_id = 0'],
    'holds', 'ils_app',
    ARRAY['UPDATE demo.patrons SET keep_history = false WHERE id = 9001',
          'SELECT id, 9001::bigint AS patron_id FROM demo.holds WHERE patron_id = 0']);
GRANT UPDATE (keep_history) ON demo.patrons TO opac;  -- (the catalogue's opt-in page)
SELECT is(pg_temp.probe('opac', ARRAY['UPDATE demo.patrons SET keep_history = false WHERE id = 9011 RETURNING id'],
                        'SELECT string_agg(id || '':'' || patron_id, '','' ORDER BY id) FROM demo.loans WHERE id IN (100101, 100102)')
          - 'rows', '{"err": null, "check": "100101:9011,100102:0"}',
          :'phase' || 'patron: a logged-in patron withdraws its own opt-in (its closed loan severed at once)');
SELECT is(pg_temp.probe('branch_staff', ARRAY['UPDATE demo.patrons SET keep_history = true
            WHERE id = (SELECT min(id) FROM demo.patrons WHERE NOT keep_history AND id > 0) RETURNING id']) ->> 'err',
          NULL, :'phase' || 'staff: turning an opt-in on is not restricted');
