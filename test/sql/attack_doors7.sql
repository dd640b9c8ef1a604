-- Attack catalogue: doors a fresh attacker with a staff account (and the
-- desk's write rights) tried after the earlier catalogue, in
-- test/attack/doors7.sql: the WHERE of ON CONFLICT DO UPDATE, which
-- PostgreSQL evaluates on the existing row before it checks that the row may
-- be written; a generated column of the patron (VIRTUAL on PostgreSQL 18,
-- which the planner expands after the planner hook, STORED before); EXPLAIN
-- ANALYZE itself; pg_stats of a partition and of an expression index,
-- pg_stats_ext and pg_stats_ext_exprs read directly; a cast of the patron to
-- a domain whose CHECK records every value it is given (in WHERE and in a
-- join); DISTINCT ON; the extension's run-time check _last_borrower() called
-- by hand (PUBLIC may execute it), to plant answers the rewritten query
-- would reuse; the loans as the FROM of an UPDATE of the items.  Every attempt has an operational (or superuser) control that
-- gets the hidden pair out or tells A from B.  Runs before sever_backlog()
-- and again after it (opted-in history kept in place).  The doors that
-- reach the extension's own SQL through the attacker's temporary schema are
-- test/sql/attack_search_path.sql.  See test/attack/fixture.sql.
\set atk_db attack_doors7
\set ECHO none
\i test/attack/fixture.sql
\set ECHO all
-- a generated column of the patron: VIRTUAL where the server has them
DO $$
BEGIN
    EXECUTE format('ALTER TABLE demo.ill_requests ADD COLUMN atk_who text GENERATED ALWAYS AS (''patron '' || patron_id) %s',
                   CASE WHEN current_setting('server_version_num')::int >= 180000 THEN 'VIRTUAL' ELSE 'STORED' END);
END $$;
ANALYZE demo.ill_requests;
SELECT plan(27);

-- the ILL requests 1-10 are closed requests of 9001 and 9012, hidden from
-- staff until sever_backlog() severs them (to NULL)
\set ECHO none
-- a generated column computed from the patron, VIRTUAL on 18 (expanded by
-- the planner after the rewrite) and STORED before
SELECT pg_temp.attempt('a generated column of the patron (atk_who), read', 'staff',
    ARRAY['SELECT id, nullif(substr(atk_who, 8), '''')::bigint AS patron_id FROM demo.ill_requests'], 'ill_requests');
SELECT pg_temp.attempt('the generated column in a whole row', 'staff',
    ARRAY['SELECT (to_jsonb(r) ->> ''id'')::bigint AS id, nullif(substr(to_jsonb(r) ->> ''atk_who'', 8), '''')::bigint AS patron_id
             FROM demo.ill_requests r'], 'ill_requests');
SELECT pg_temp.attempt('UPDATE ... RETURNING the generated column', 'staff',
    ARRAY['UPDATE demo.ill_requests SET note = ''x'' RETURNING id, nullif(substr(atk_who, 8), '''')::bigint AS patron_id'],
    'ill_requests');
SELECT pg_temp.indist('WHERE on the generated column = ''patron N''', 'staff',
    ARRAY['SELECT count(*) FROM demo.ill_requests WHERE atk_who = ''patron %1$s''']);
SELECT pg_temp.indist('an error in a function of the generated column', 'staff',
    ARRAY['SELECT count(*) FROM demo.ill_requests WHERE CASE WHEN atk_who = ''patron %1$s'' THEN 1 / (id - id) END IS NOT NULL']);
\set ECHO all

\set phase 'before sever: '
\set ECHO none
\i test/attack/doors7.sql
\set ECHO all

SET client_min_messages = warning;
CALL pals_privacy.sever_backlog(batch_size => 1000);
ANALYZE demo.loans, demo.holds, demo.reading_history;
SELECT pg_temp.refresh_secrets() > 0 AS secrets_left_in_place;
\set phase 'in place, after sever: '
\set ECHO none
\i test/attack/doors7.sql
\set ECHO all

SELECT * FROM finish();
\set ECHO none
\i test/attack/done.sql
