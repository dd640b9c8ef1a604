-- Attack catalogue: row locks on hidden rows (issue 14).  A redacted class
-- with the desk's UPDATE right could take row locks (SELECT ... FOR KEY
-- SHARE / SHARE / NO KEY UPDATE / UPDATE) on rows it reads masked; held in
-- an open or prepared transaction, they made the purge skip those patrons
-- as locked and a return leave them pending.  Row locks now reach only rows
-- the class reads whole, as writes do (and as PostgreSQL's row security
-- applies UPDATE policies to locking reads): every strength, NOWAIT and
-- SKIP LOCKED, through the ILS's views, joins, FOR ... OF, subqueries,
-- CTEs, a partition, PL/pgSQL.  Each attempt counts, as the superuser
-- before the probe is rolled back, the hidden rows (ground truth:
-- pg_temp.secrets) the probe's transaction holds a lock on; the
-- operational control runs the same statement and must lock some, the
-- attacker none.  Runs before sever_backlog() and again after it
-- (opted-in history kept in place).  See test/attack/fixture.sql.
\set atk_db attack_rowlocks
\set ECHO none
\i test/attack/fixture.sql
-- How many rows of rel hidden from cls the running transaction holds a row
-- lock on (its own transaction ids are the newest; a rolled-back probe's
-- lock is no longer in progress).
CREATE FUNCTION pg_temp.locked_sql(cls text, rel text, hidden boolean DEFAULT true) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT format('SELECT count(*) FROM demo.%1$I x
                    WHERE %3$s EXISTS (SELECT 1 FROM pg_temp.secrets s WHERE s.cls = %2$L AND s.rel = %1$L AND s.id = x.id)
                      AND x.xmax::text::bigint >= txid_current() %% 4294967296
                      AND pg_xact_status(x.xmax::text::xid8) = ''in progress''',
                  rel, cls, CASE WHEN hidden THEN '' ELSE 'NOT' END)
$$;
-- one attempt: the attacker first (a control's rolled-back lock stays in
-- the tuple header until overwritten), then the control
CREATE FUNCTION pg_temp.locks(descr text, cls text, stmts text[], rel text DEFAULT 'loans',
                              control text DEFAULT 'ils_app') RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    a jsonb := pg_temp.probe(pg_temp.role_of(cls), stmts, pg_temp.locked_sql(cls, rel));
    c jsonb := pg_temp.probe(control, stmts, pg_temp.locked_sql(cls, rel));
    na bigint := coalesce((a ->> 'check')::bigint, 0);
    nc bigint := coalesce((c ->> 'check')::bigint, 0);
BEGIN
    IF nc > 0 AND na = 0 THEN
        RETURN ok(true, cls || ': ' || descr);
    END IF;
    RETURN ok(false, cls || ': ' || descr) || E'\n' ||
           diag(CASE WHEN nc = 0 THEN '    the control locked no hidden row: ' || coalesce(c ->> 'err', 'no error')
                     ELSE '    LOCKED ' || na || ' hidden rows' END);
END $$;
\set ECHO all
SELECT plan(32);
SELECT pg_temp.refresh_secrets() > 0 AS secrets_found;

------------------------------------------------------------------------------
-- Staff (the desk: UPDATE on loans, holds, ill_requests, a partition)
------------------------------------------------------------------------------
SELECT pg_temp.locks('FOR KEY SHARE on the loans', 'staff', ARRAY['SELECT id FROM demo.loans FOR KEY SHARE']);
SELECT pg_temp.locks('FOR SHARE', 'staff', ARRAY['SELECT id FROM demo.loans FOR SHARE']);
SELECT pg_temp.locks('FOR NO KEY UPDATE', 'staff', ARRAY['SELECT id FROM demo.loans FOR NO KEY UPDATE']);
SELECT pg_temp.locks('FOR UPDATE', 'staff', ARRAY['SELECT id FROM demo.loans FOR UPDATE']);
SELECT pg_temp.locks('FOR UPDATE NOWAIT of one item''s loans', 'staff',
                     ARRAY['SELECT id FROM demo.loans WHERE item_id = 90001 FOR UPDATE NOWAIT']);
SELECT pg_temp.locks('FOR KEY SHARE SKIP LOCKED', 'staff', ARRAY['SELECT id FROM demo.loans FOR KEY SHARE SKIP LOCKED']);
SELECT pg_temp.locks('by patron (an index probe)', 'staff',
                     ARRAY['SELECT id FROM demo.loans WHERE patron_id = 9001 FOR KEY SHARE']);
SELECT pg_temp.locks('WHERE patron_id IS NULL (the masked rows)', 'staff',
                     ARRAY['SELECT id FROM demo.loans WHERE patron_id IS NULL OR patron_id IS NOT NULL FOR KEY SHARE']);
SELECT pg_temp.locks('through the ILS''s view', 'staff', ARRAY['SELECT id FROM demo.loan_desk FOR KEY SHARE']);
SELECT pg_temp.locks('through a security_barrier view', 'staff', ARRAY['SELECT id FROM demo.loan_desk_sb FOR UPDATE']);
SELECT pg_temp.locks('through a view with an INSTEAD OF trigger', 'staff', ARRAY['SELECT id FROM demo.loan_desk_trg FOR SHARE']);
SELECT pg_temp.locks('a join, FOR KEY SHARE OF the loans', 'staff',
                     ARRAY['SELECT l.id FROM demo.loans l JOIN demo.items i ON i.id = l.item_id FOR KEY SHARE OF l']);
SELECT pg_temp.locks('a join, FOR UPDATE of every relation', 'staff',
                     ARRAY['SELECT l.id FROM demo.items i JOIN demo.loans l ON l.item_id = i.id FOR UPDATE']);
SELECT pg_temp.locks('a join, FOR UPDATE OF both', 'staff',
                     ARRAY['SELECT l.id FROM demo.items i JOIN demo.loans l ON l.item_id = i.id FOR UPDATE OF i, l']);
SELECT pg_temp.locks('a subquery in FROM, locked from outside', 'staff',
                     ARRAY['SELECT s.id FROM (SELECT id FROM demo.loans) s FOR KEY SHARE']);
SELECT pg_temp.locks('a locking subquery in WHERE', 'staff',
                     ARRAY['SELECT 1 WHERE EXISTS (SELECT id FROM demo.loans FOR KEY SHARE)',
                           'SELECT count(*) FROM (SELECT id FROM demo.loans FOR KEY SHARE) s']);
SELECT pg_temp.locks('a CTE', 'staff',
                     ARRAY['WITH x AS MATERIALIZED (SELECT id FROM demo.loans FOR KEY SHARE) SELECT count(*) FROM x']);
SELECT pg_temp.locks('a partition read directly', 'staff', ARRAY['SELECT id FROM demo.loans_2025 FOR UPDATE']);
SELECT pg_temp.locks('PL/pgSQL (PERFORM ... FOR KEY SHARE)', 'staff',
                     ARRAY['DO $$ BEGIN PERFORM id FROM demo.loans FOR KEY SHARE; END $$']);
SELECT pg_temp.locks('a cursor', 'staff',
                     ARRAY['DO $$ DECLARE c refcursor; r record; BEGIN OPEN c FOR SELECT id FROM demo.loans FOR UPDATE;
                              LOOP FETCH c INTO r; EXIT WHEN NOT FOUND; END LOOP; END $$']);
SELECT pg_temp.locks('FOR UPDATE on the holds', 'staff', ARRAY['SELECT id FROM demo.holds FOR UPDATE'], 'holds');
SELECT pg_temp.locks('FOR KEY SHARE on the interlibrary-loan requests', 'staff',
                     ARRAY['SELECT id FROM demo.ill_requests FOR KEY SHARE'], 'ill_requests');
-- what the desk needs still works: it locks the rows it reads whole
SELECT cmp_ok((pg_temp.probe('branch_staff', ARRAY['SELECT id FROM demo.loans WHERE returned_at IS NULL FOR UPDATE'],
                             pg_temp.locked_sql('staff', 'loans', false)) ->> 'check')::bigint, '>', 0::bigint,
              'staff: FOR UPDATE still locks the open loans it reads whole');
SELECT is((pg_temp.probe('branch_staff', ARRAY['SELECT count(*) AS n FROM (SELECT id FROM demo.loans FOR KEY SHARE) s']) -> 'rows' -> 0 ->> 'n')::bigint,
          (SELECT count(*) FROM demo.loans l WHERE NOT EXISTS (SELECT 1 FROM pg_temp.secrets s WHERE s.cls = 'staff'
                                                               AND s.rel = 'loans' AND s.id = l.id)),
          'staff: a locking read returns the rows it locked: those it reads whole');

------------------------------------------------------------------------------
-- The patron class (UPDATE on holds and the reading history), logged in
------------------------------------------------------------------------------
SELECT pg_temp.locks('FOR UPDATE on the holds (another patron''s)', 'patron',
                     ARRAY['SELECT id FROM demo.holds FOR UPDATE'], 'holds');
SELECT pg_temp.locks('FOR KEY SHARE on the reading history', 'patron',
                     ARRAY['SELECT id FROM demo.reading_history FOR KEY SHARE'], 'reading_history');

------------------------------------------------------------------------------
-- After sever_backlog(): the opted-in history kept in place stays hidden
------------------------------------------------------------------------------
\o /dev/null
CALL pals_privacy.sever_backlog(batch_size => 1000);
\o
SELECT pg_temp.refresh_secrets() > 0 AS secrets_left_in_place;
SELECT pg_temp.locks('after the backlog: FOR KEY SHARE', 'staff', ARRAY['SELECT id FROM demo.loans FOR KEY SHARE']);
SELECT pg_temp.locks('after the backlog: FOR UPDATE NOWAIT by patron', 'staff',
                     ARRAY['SELECT id FROM demo.loans WHERE patron_id = 9001 FOR UPDATE NOWAIT']);
SELECT pg_temp.locks('after the backlog: through the view', 'staff', ARRAY['SELECT id FROM demo.loan_desk FOR SHARE']);
SELECT pg_temp.locks('after the backlog: a join FOR NO KEY UPDATE OF l', 'staff',
                     ARRAY['SELECT l.id FROM demo.loans l JOIN demo.patrons p ON p.id = l.patron_id FOR NO KEY UPDATE OF l']);
SELECT pg_temp.locks('after the backlog: the holds', 'staff', ARRAY['SELECT id FROM demo.holds FOR KEY SHARE'], 'holds');
SELECT cmp_ok((pg_temp.probe('branch_staff', ARRAY['SELECT id FROM demo.loans WHERE returned_at IS NULL FOR UPDATE'],
                             pg_temp.locked_sql('staff', 'loans', false)) ->> 'check')::bigint, '>', 0::bigint,
              'staff: after the backlog, FOR UPDATE still locks open loans');

SELECT * FROM finish();
\set ECHO none
\i test/attack/done.sql
