-- test/attack/writes.sql: write, then read (issue 13, class 2), included by
-- test/sql/attack_writes.sql once before sever_backlog() and once after it
-- (history kept in place).  Every statement list runs as branch_staff (staff)
-- and as ils_app (the control) in a subtransaction that is rolled back.
-- Items 90001-90005: loans of 9001 and 9012 (opted in) and a newer one of
-- patron 1; before the sever all three are hidden from staff, after it the
-- first two (kept in place).  Holds 90001-90003: closed holds of 9001 and 9012.
SELECT pg_temp.attempt(:'phase' || 'UPDATE SET returned_at = now() on a hidden row (the newest return) ... RETURNING', 'staff',
    ARRAY['UPDATE demo.loans SET returned_at = now(), fines_settled_at = now() WHERE id = 100031 RETURNING id, patron_id']);
SELECT pg_temp.attempt(:'phase' || 'data-modifying CTE, the outer query reads the table', 'staff',
    ARRAY['WITH u AS (UPDATE demo.loans SET fines_settled_at = NULL WHERE item_id = 90005 AND returned_at IS NOT NULL
                      RETURNING id) SELECT l.id, l.patron_id FROM demo.loans l JOIN u USING (id)']);
SELECT pg_temp.attempt(:'phase' || 'INSERT ... ON CONFLICT DO UPDATE SET returned_at = now() RETURNING', 'staff',
    ARRAY['INSERT INTO demo.loans (id, patron_id, item_id, library_id, checked_out_at, due_at)
           SELECT id, 0, item_id, library_id, checked_out_at, due_at FROM demo.loans WHERE id = 100011
           ON CONFLICT (id, checked_out_at) DO UPDATE SET returned_at = now(), fines_settled_at = now()
           RETURNING id, patron_id']);
SELECT pg_temp.attempt(:'phase' || 'UPDATE moving the rows to another partition ... RETURNING', 'staff',
    ARRAY['UPDATE demo.loans SET checked_out_at = checked_out_at + interval ''1 year'', due_at = due_at + interval ''1 year'',
                                 returned_at = returned_at + interval ''1 year'', fines_settled_at = fines_settled_at + interval ''1 year''
            WHERE item_id = 90003 RETURNING id, patron_id']);
SELECT pg_temp.attempt(:'phase' || 'UPDATE ... RETURNING a subquery of the row as it was', 'staff',
    ARRAY['UPDATE demo.loans l SET fines_settled_at = NULL WHERE item_id = 90002 AND returned_at IS NOT NULL
           RETURNING id, (SELECT x.patron_id FROM demo.loans x WHERE x.id = l.id) AS patron_id']);
SELECT pg_temp.no_damage(:'phase' || 'UPDATE SET patron_id = patron_id stores no mask', 'staff',
    ARRAY['UPDATE demo.loans SET patron_id = patron_id, renewal_count = renewal_count + 1 WHERE item_id BETWEEN 90001 AND 90005'],
    'SELECT string_agg(id || '':'' || patron_id, '','' ORDER BY id) FROM demo.loans WHERE item_id BETWEEN 90001 AND 90005',
    'ils_app', ARRAY['UPDATE demo.loans SET patron_id = 0 WHERE item_id BETWEEN 90001 AND 90005']);
SELECT pg_temp.attempt(:'phase' || 'UPDATE SET fines_settled_at = NULL ... RETURNING id, patron_id', 'staff',
    ARRAY['UPDATE demo.loans SET fines_settled_at = NULL WHERE item_id = 90001 AND returned_at IS NOT NULL RETURNING id, patron_id']);
SELECT pg_temp.attempt(:'phase' || 'UPDATE SET fines_settled_at = NULL on every closed loan ... RETURNING', 'staff',
    ARRAY['UPDATE demo.loans SET fines_settled_at = NULL WHERE returned_at IS NOT NULL RETURNING id, patron_id']);
SELECT pg_temp.attempt(:'phase' || 'UPDATE SET returned_at = NULL (re-open) ... RETURNING', 'staff',
    ARRAY['UPDATE demo.loans SET returned_at = NULL, fines_settled_at = NULL WHERE id = 100021 RETURNING id, patron_id']);
SELECT pg_temp.attempt(:'phase' || 'UPDATE SET returned_at = now() on a hidden row, then SELECT the item', 'staff',
    ARRAY['UPDATE demo.loans SET returned_at = now(), fines_settled_at = now() WHERE id = 100031',
          'SELECT id, patron_id FROM demo.loans WHERE item_id = 90003']);
SELECT pg_temp.attempt(:'phase' || 'UPDATE SET fines_settled_at = NULL, then SELECT in the same transaction', 'staff',
    ARRAY['UPDATE demo.loans SET fines_settled_at = NULL WHERE item_id = 90004 AND returned_at IS NOT NULL',
          'SELECT id, patron_id FROM demo.loans WHERE item_id = 90004']);
SELECT pg_temp.attempt(:'phase' || 'UPDATE SET returned_at = NULL, then SELECT the open loans', 'staff',
    ARRAY['UPDATE demo.loans SET returned_at = NULL, fines_settled_at = NULL WHERE id = 100022',
          'SELECT id, patron_id FROM demo.loans WHERE returned_at IS NULL AND item_id = 90002']);
SELECT pg_temp.attempt(:'phase' || 'UPDATE, then JOIN the loans to the patrons', 'staff',
    ARRAY['UPDATE demo.loans SET fines_settled_at = NULL WHERE item_id = 90001 AND returned_at IS NOT NULL',
          'SELECT l.id, p.id AS patron_id FROM demo.loans l JOIN demo.patrons p ON p.id = l.patron_id WHERE l.item_id = 90001']);
SELECT pg_temp.attempt(:'phase' || 'data-modifying CTE: WITH u AS (UPDATE ... RETURNING) SELECT', 'staff',
    ARRAY['WITH u AS (UPDATE demo.loans SET fines_settled_at = NULL WHERE item_id = 90005 AND returned_at IS NOT NULL
                      RETURNING id, patron_id) SELECT id, patron_id FROM u']);
SELECT pg_temp.attempt(:'phase' || 'data-modifying CTE feeding an INSERT ... RETURNING', 'staff',
    ARRAY['WITH u AS (UPDATE demo.loans SET fines_settled_at = NULL WHERE item_id = 90002 AND returned_at IS NOT NULL
                      RETURNING id, patron_id)
           INSERT INTO demo.receipts (patron_id, library_id, printed_at, body)
           SELECT 0, 1, now(), id || '':'' || coalesce(patron_id, -1) FROM u
           RETURNING split_part(body, '':'', 1)::bigint AS id, nullif(split_part(body, '':'', 2), ''-1'')::bigint AS patron_id']);
SELECT pg_temp.attempt(:'phase' || 'INSERT ... ON CONFLICT (id, checked_out_at) DO UPDATE SET fines_settled_at = NULL RETURNING', 'staff',
    ARRAY['INSERT INTO demo.loans (id, patron_id, item_id, library_id, checked_out_at, due_at)
           SELECT id, 0, item_id, library_id, checked_out_at, due_at FROM demo.loans WHERE item_id = 90001
           ON CONFLICT (id, checked_out_at) DO UPDATE SET fines_settled_at = NULL RETURNING id, patron_id']);
SELECT pg_temp.attempt(:'phase' || 'INSERT ... ON CONFLICT DO UPDATE, then SELECT', 'staff',
    ARRAY['INSERT INTO demo.loans (id, patron_id, item_id, library_id, checked_out_at, due_at)
           SELECT id, 0, item_id, library_id, checked_out_at, due_at FROM demo.loans WHERE item_id = 90003
           ON CONFLICT (id, checked_out_at) DO UPDATE SET fines_settled_at = NULL',
          'SELECT id, patron_id FROM demo.loans WHERE item_id = 90003']);
SELECT pg_temp.attempt(:'phase' || 'UPDATE ... WHERE patron_id IS NULL (the masked rows) ... RETURNING', 'staff',
    ARRAY['UPDATE demo.loans SET fines_settled_at = NULL WHERE patron_id IS NULL AND item_id BETWEEN 90001 AND 90005
           RETURNING id, patron_id'], 'loans', 'ils_app',
    ARRAY['UPDATE demo.loans SET fines_settled_at = NULL WHERE item_id BETWEEN 90001 AND 90005 RETURNING id, patron_id']);
SELECT pg_temp.attempt(:'phase' || 'UPDATE a partition directly ... RETURNING', 'staff',
    ARRAY['UPDATE demo.loans_2025 SET fines_settled_at = NULL WHERE item_id = 90002 AND returned_at IS NOT NULL
           RETURNING id, patron_id']);
SELECT pg_temp.attempt(:'phase' || 'UPDATE moving a hidden row to an item without loans, then SELECT it', 'staff',
    ARRAY['UPDATE demo.loans SET item_id = 90008 WHERE id = 100041',
          'SELECT id, patron_id FROM demo.loans WHERE item_id = 90008']);
SELECT pg_temp.attempt(:'phase' || 'UPDATE ... RETURNING to_jsonb of the whole row', 'staff',
    ARRAY['UPDATE demo.loans l SET fines_settled_at = NULL WHERE item_id = 90002 AND returned_at IS NOT NULL
           RETURNING (to_jsonb(l) ->> ''id'')::bigint AS id, (to_jsonb(l) ->> ''patron_id'')::bigint AS patron_id']);
SELECT pg_temp.attempt(:'phase' || 'PREPARE an UPDATE ... RETURNING, EXECUTE it', 'staff',
    ARRAY['DEALLOCATE ALL',
          'PREPARE atk_u(bigint) AS UPDATE demo.loans SET fines_settled_at = NULL WHERE item_id = $1 AND returned_at IS NOT NULL
           RETURNING id, patron_id',
          'EXECUTE atk_u(90001)', 'DEALLOCATE ALL']);
SELECT pg_temp.attempt(:'phase' || 'a PL/pgSQL function of the attacker''s: RETURN QUERY UPDATE ... RETURNING', 'staff',
    ARRAY['CREATE FUNCTION pg_temp.atk_f() RETURNS TABLE (id bigint, patron_id bigint) LANGUAGE plpgsql AS $f$
           BEGIN
               RETURN QUERY UPDATE demo.loans l SET fines_settled_at = NULL WHERE l.item_id = 90004 AND l.returned_at IS NOT NULL
                            RETURNING l.id, l.patron_id;
           END $f$',
          'SELECT * FROM pg_temp.atk_f()']);
SELECT pg_temp.attempt(:'phase' || 'an SQL function of the attacker''s: UPDATE ... RETURNING *', 'staff',
    ARRAY['CREATE FUNCTION pg_temp.atk_s() RETURNS SETOF demo.loans LANGUAGE sql AS $f$
               UPDATE demo.loans SET fines_settled_at = NULL WHERE item_id = 90005 AND returned_at IS NOT NULL RETURNING *
           $f$',
          'SELECT id, patron_id FROM pg_temp.atk_s()']);
SELECT pg_temp.attempt(:'phase' || 'a trigger of the attacker''s on a temp table copies NEW rows of an UPDATE', 'staff',
    ARRAY['CREATE TEMP TABLE atk_log (id bigint, patron_id bigint)',
          'UPDATE demo.loans SET fines_settled_at = NULL WHERE item_id = 90001 AND returned_at IS NOT NULL',
          'INSERT INTO atk_log SELECT id, patron_id FROM demo.loans WHERE item_id = 90001',
          'SELECT id, patron_id FROM atk_log']);
SELECT pg_temp.attempt(:'phase' || 'holds: un-cancel ... RETURNING id, patron_id', 'staff',
    ARRAY['UPDATE demo.holds SET cancelled_at = NULL WHERE id IN (90002, 90003) RETURNING id, patron_id'], 'holds');
SELECT pg_temp.attempt(:'phase' || 'holds: un-fulfil ... RETURNING id, patron_id', 'staff',
    ARRAY['UPDATE demo.holds SET fulfilled_at = NULL WHERE id = 90001 RETURNING id, patron_id'], 'holds');
SELECT pg_temp.attempt(:'phase' || 'holds: un-cancel every hold, then SELECT', 'staff',
    ARRAY['UPDATE demo.holds SET cancelled_at = NULL WHERE cancelled_at IS NOT NULL',
          'SELECT id, patron_id FROM demo.holds WHERE patron_id IS NOT NULL'], 'holds');
SELECT pg_temp.attempt(:'phase' || 'holds: INSERT ... ON CONFLICT (id) DO UPDATE SET cancelled_at = NULL RETURNING', 'staff',
    ARRAY['INSERT INTO demo.holds (id, patron_id, title_id, pickup_library_id, placed_at)
           SELECT id, 0, title_id, pickup_library_id, placed_at FROM demo.holds WHERE id IN (90001, 90002, 90003)
           ON CONFLICT (id) DO UPDATE SET cancelled_at = NULL, fulfilled_at = NULL RETURNING id, patron_id'], 'holds');
-- a count after the write tells 9001 (hidden loans on these items) from 9002 (none)
SELECT pg_temp.indist(:'phase' || 'UPDATE, then count(*) WHERE patron_id = N', 'staff',
    ARRAY['UPDATE demo.loans SET fines_settled_at = NULL WHERE returned_at IS NOT NULL AND item_id BETWEEN 90001 AND 90005',
          'SELECT count(*) FROM demo.loans WHERE patron_id = %1$s']);
-- SET patron_id = patron_id must not store the mask (NULL here would break
-- the NOT NULL column; a nullable one would lose the patron)
-- writes through the ILS's views and rule, and around the last-borrower tracker
SELECT pg_temp.attempt(:'phase' || 'UPDATE through an auto-updatable ILS view ... RETURNING', 'staff',
    ARRAY['UPDATE demo.loan_desk SET fines_settled_at = NULL WHERE item_id = 90001 AND returned_at IS NOT NULL RETURNING id, patron_id']);
SELECT pg_temp.attempt(:'phase' || 'UPDATE through a security_barrier ILS view, then read the table', 'staff',
    ARRAY['UPDATE demo.loan_desk_sb SET fines_settled_at = NULL WHERE item_id = 90002',
          'SELECT id, patron_id FROM demo.loans WHERE item_id = 90002']);
SELECT pg_temp.attempt(:'phase' || 'UPDATE through a view with an INSTEAD OF trigger ... RETURNING', 'staff',
    ARRAY['UPDATE demo.loan_desk_trg SET fines_settled_at = NULL WHERE item_id = 90003 RETURNING id, patron_id']);
SELECT pg_temp.attempt(:'phase' || 'UPDATE of a table with an ILS rule that also updates the loans', 'staff',
    ARRAY['UPDATE demo.loan_reopen SET item_id = 90004',
          'SELECT id, patron_id FROM demo.loans WHERE item_id = 90004']);
SELECT pg_temp.attempt(:'phase' || 're-open the visible last borrower, then read the item', 'staff',
    ARRAY['UPDATE demo.loans SET returned_at = NULL, fines_settled_at = NULL WHERE id = 100013',
          'SELECT id, patron_id FROM demo.loans WHERE item_id = 90001']);
SELECT pg_temp.attempt(:'phase' || 'move the visible last borrower to another item, then read the item', 'staff',
    ARRAY['UPDATE demo.loans SET item_id = 90009 WHERE id = 100023',
          'SELECT id, patron_id FROM demo.loans WHERE item_id = 90002']);
SELECT pg_temp.attempt(:'phase' || 'check out and return the item again, then read the item', 'staff',
    ARRAY['INSERT INTO demo.loans (patron_id, item_id, library_id, checked_out_at, due_at) VALUES (5, 90003, 1, now(), now() + interval ''1 day'')',
          'UPDATE demo.loans SET returned_at = now(), fines_settled_at = now() WHERE item_id = 90003 AND returned_at IS NULL',
          'SELECT id, patron_id FROM demo.loans WHERE item_id = 90003']);
