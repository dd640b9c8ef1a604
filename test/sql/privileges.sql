-- Who may execute what (issue 18, docs/privileges.md).  Internal helpers are
-- not executable by PUBLIC, unless docs/privileges.md says why one must be:
--   - the helpers that were left open (_purge_function's predecessor,
--     _require_top_level, _restoring, and the event trigger functions) are
--     refused to a staff role, and the paths that use them still work: a
--     procedure in a transaction block says so, a binding change is audited
--     and a restore's COPY is not, also when the change is sent in the same
--     query string as a COPY, a non-superuser's DDL fires the event
--     triggers (a dropped bound table loses its binding, audited);
--   - the functions of the schema PUBLIC may execute, from the catalog, are
--     exactly those docs/privileges.md lists (read from the file), and a new
--     function left open would be seen.
-- Everything is rolled back.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pals_privacy;
\set privileges_doc `cat docs/privileges.md`
BEGIN;
SELECT plan(18);

CREATE ROLE regress_pv_staff;
CREATE ROLE regress_pv_ils;
CREATE ROLE regress_pv_restored;
SELECT pals_privacy.classify_role('regress_pv_staff', 'staff');
CREATE TEMP TABLE pv_mark AS SELECT coalesce(max(id), 0) AS id,
    (SELECT count(*) FROM pals_privacy.patron_binding) AS bindings FROM pals_privacy.audit_log;
GRANT SELECT ON pv_mark TO PUBLIC;

------------------------------------------------------------------------------
-- The helpers that were executable by anyone
------------------------------------------------------------------------------
SET ROLE regress_pv_staff;
SELECT throws_ok($$SELECT pals_privacy._purge_function('bind_patrons', 'pg_catalog.abs')$$,
                 '42501', 'permission denied for function _purge_function', 'staff cannot call _purge_function');
SELECT throws_ok($$SELECT pals_privacy._require_top_level('run_maintenance')$$,
                 '42501', 'permission denied for function _require_top_level', 'staff cannot call _require_top_level');
SELECT throws_ok($$SELECT pals_privacy._restoring()$$,
                 '42501', 'permission denied for function _restoring', 'staff cannot call _restoring');
SELECT throws_ok($$SELECT pals_privacy._on_sql_drop()$$,
                 '42501', 'permission denied for function _on_sql_drop', 'staff cannot call an event trigger function');
RESET ROLE;

-- the paths through them
SELECT throws_ok($$CALL pals_privacy.run_maintenance()$$, '2D000',
                 'run_maintenance must be called outside a transaction block',
                 'a procedure in a transaction block is still refused with its own error (_require_top_level)');
SELECT lives_ok($$SELECT pals_privacy.classify_role('regress_pv_staff', 'collections')$$, 'a binding change');
SELECT is((SELECT string_agg(event, ' ' ORDER BY id) FROM pals_privacy.audit_log WHERE id > (SELECT id FROM pv_mark)),
          'binding.update', '... is audited (the audit trigger''s WHEN _restoring() ran)');
COPY pals_privacy.role_class (role, class) FROM stdin;
regress_pv_restored	staff
\.
SELECT is((SELECT class FROM pals_privacy.role_class WHERE role = 'regress_pv_restored'::regrole), 'staff',
          'set-up: a restore''s COPY into role_class ...');
SELECT is((SELECT string_agg(event, ' ' ORDER BY id) FROM pals_privacy.audit_log WHERE id > (SELECT id FROM pv_mark)),
          'binding.update', '... appends no entry (_restoring() said so)');
-- _restoring() once read the query string: a binding change sent after a
-- COPY in the same string went unaudited
CREATE TEMP TABLE pv_scratch (a int);
COPY pv_scratch FROM stdin \; SELECT pals_privacy.classify_role('regress_pv_staff', 'staff');
1
\.
SELECT is((SELECT string_agg(event, ' ' ORDER BY id) FROM pals_privacy.audit_log WHERE id > (SELECT id FROM pv_mark)),
          'binding.update binding.update', '... but a binding change sent in the same query string as a COPY is audited');

-- a non-superuser's DDL fires the event triggers, whose functions PUBLIC may
-- no longer execute: the library's owner drops a bound table of its own
CREATE SCHEMA pv AUTHORIZATION regress_pv_ils;
SET ROLE regress_pv_ils;
CREATE TABLE pv.patrons (id bigint PRIMARY KEY, expires date NOT NULL);
RESET ROLE;
SELECT lives_ok($$SELECT pals_privacy.bind_patrons('pv.patrons', 'id', 'expires')$$, 'set-up: a bound table of a non-superuser');
SET ROLE regress_pv_ils;
SELECT lives_ok($$DROP TABLE pv.patrons$$, 'its owner drops it (the sql_drop event trigger runs)');
SELECT lives_ok($$DROP SCHEMA pv$$, 'and its schema (the drop guard runs)');
RESET ROLE;
SELECT is((SELECT count(*) FROM pals_privacy.patron_binding), (SELECT bindings FROM pv_mark),
          'the binding went with the table');
SELECT is((SELECT count(*) FROM pals_privacy.audit_log WHERE id > (SELECT id FROM pv_mark) AND event = 'binding.relation_dropped'),
          1::bigint, 'and that was audited');

------------------------------------------------------------------------------
-- The functions PUBLIC may execute are the documented ones
------------------------------------------------------------------------------
SET LOCAL search_path = public, pg_catalog;   -- regprocedure names them pals_privacy.f(args)
CREATE FUNCTION pg_temp.executable_by_public() RETURNS SETOF text LANGUAGE sql AS $$
    SELECT p.oid::regprocedure::text FROM pg_proc p
     WHERE p.pronamespace = 'pals_privacy'::regnamespace
       AND EXISTS (SELECT FROM aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a
                    WHERE a.grantee = 0 AND a.privilege_type = 'EXECUTE')
$$;
-- each table row of docs/privileges.md that starts with a function in backquotes
CREATE TEMP TABLE documented AS
SELECT m[1] AS f FROM regexp_matches(:'privileges_doc', '^\| `(pals_privacy\.[^`]+)`', 'gn') AS m;
-- the difference, both ways: - documented but not executable, + executable but not documented
CREATE FUNCTION pg_temp.difference() RETURNS text LANGUAGE sql AS $$
    SELECT coalesce(string_agg(d, ' ' ORDER BY d), 'none') FROM (
        (SELECT '-' || f FROM documented EXCEPT SELECT '-' || f FROM pg_temp.executable_by_public() f)
        UNION ALL
        (SELECT '+' || f FROM pg_temp.executable_by_public() f EXCEPT SELECT '+' || f FROM documented)) s(d)
$$;
SELECT cmp_ok((SELECT count(DISTINCT f) FROM documented), '>=', 35::bigint,
              'docs/privileges.md lists the public API and the helpers PUBLIC must execute');
SELECT is(pg_temp.difference(), 'none',
          'the functions PUBLIC may execute are exactly those docs/privileges.md lists');
SAVEPOINT new_helper;
CREATE FUNCTION pals_privacy._regress_new_helper() RETURNS int LANGUAGE sql AS 'SELECT 1';
SELECT pg_temp.difference() AS with_new_helper \gset
ROLLBACK TO new_helper;
SELECT is(:'with_new_helper'::text, '+pals_privacy._regress_new_helper()',
          'a new helper left executable by PUBLIC would fail the comparison');

SELECT * FROM finish();
ROLLBACK;
