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
