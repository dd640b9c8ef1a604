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
    -- the patrons stored (rows staff may see are legitimately renewed); the
    -- control shows the check sees a changed patron
    'SELECT string_agg(id || '':'' || patron_id, '','' ORDER BY id) FROM demo.loans WHERE item_id BETWEEN 90001 AND 90005',
    control_stmts => ARRAY['UPDATE demo.loans SET patron_id = 0 WHERE id = 100011']);
