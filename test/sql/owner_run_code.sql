-- ILS code a sweep runs (issue 14, "owner-run code"): the extension's sweeps
-- write the ILS's relations in an administrator's or the worker's session,
-- or as the extension owner (SECURITY DEFINER): a superuser.  The ILS's
-- triggers they fire, and the ILS's purge function purge_expired() calls,
-- run as the relation's owner with SET ROLE barred, much as PostgreSQL
-- runs an index's functions at VACUUM (src/ils_owner.c): a trigger
-- function whoever owns it can redefine does not run as superuser at the next
-- sweep.  The sweeps still do their work where the owner has the rights; a
-- row whose ILS trigger needs a right the owner lacks is left pending (a
-- WARNING), never severed half-way.  Every sweep here runs as the test's
-- superuser; the ILS's tables and functions belong to regress_orc_ils.
-- Outside a transaction (sever_backlog and purge_expired commit), cleaned
-- up at the end.  Last, PostgreSQL's functions that run SQL given at run
-- time count as the ILS's code (owner_code_guard.c).
\set pu_schema orc
\i test/purge/fixture.sql
SELECT plan(40);

CREATE ROLE regress_orc_ils NOLOGIN;
GRANT USAGE ON SCHEMA orc TO regress_orc_ils;
-- a table of the superuser's that the ILS's owner may not write
CREATE TABLE orc.secret (note text);

CREATE TABLE orc.patrons (id bigint PRIMARY KEY, expires date NOT NULL, keep_history boolean NOT NULL DEFAULT false);
INSERT INTO orc.patrons VALUES (1, current_date - 200, false), (2, 'infinity', true), (3, 'infinity', false);
CREATE TABLE orc.loans (id int PRIMARY KEY, patron_id bigint, item_id int NOT NULL, returned timestamptz);
CREATE INDEX ON orc.loans (patron_id);
CREATE INDEX ON orc.loans (item_id);
-- history from before binding: items 10, 11 and 12 returned twice (the
-- earlier rows are the backlog's), item 13 once by patron 1 (purged below)
INSERT INTO orc.loans VALUES (1, 3, 10, now() - interval '20 days'), (2, 2, 10, now() - interval '10 days'),
                             (3, 2, 11, now() - interval '20 days'), (4, 3, 11, now() - interval '10 days'),
                             (5, 3, 12, now() - interval '20 days'), (6, 2, 12, now() - interval '10 days'),
                             (7, 1, 13, now() - interval '150 days');
-- notices keyed by the loan (a derived copy)
CREATE TABLE orc.notices (id serial PRIMARY KEY, loan_id int, body text NOT NULL);
CREATE INDEX ON orc.notices (loan_id);
INSERT INTO orc.notices (loan_id, body) VALUES (1, 'notice 1'), (2, 'notice 2'), (3, 'notice 3');

-- what the ILS's triggers record: the sweep (set by the test), the table,
-- the role they ran as and whether it is a superuser
CREATE TABLE orc.fired (sweep text, tbl text, who name, super boolean, note text);
CREATE FUNCTION orc.record() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO orc.fired VALUES (current_setting('orc.sweep', true), TG_TABLE_NAME, current_user,
                                  (SELECT r.rolsuper FROM pg_catalog.pg_roles r WHERE r.rolname = current_user), TG_OP);
    RETURN coalesce(NEW, OLD);
END $$;
-- a trigger function that tries to make its owner a superuser
CREATE FUNCTION orc.escalate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    BEGIN
        ALTER ROLE regress_orc_ils SUPERUSER;
        INSERT INTO orc.fired VALUES (current_setting('orc.sweep', true), TG_TABLE_NAME, current_user, NULL, 'escalated');
    EXCEPTION WHEN insufficient_privilege THEN
        INSERT INTO orc.fired VALUES (current_setting('orc.sweep', true), TG_TABLE_NAME, current_user, NULL, 'refused');
    END;
    RETURN NULL;
END $$;
-- (a row trigger: a direct write of a row fires no statement trigger)
-- a trigger function that needs a right its owner lacks (item 12's rows only)
CREATE FUNCTION orc.needs_secret() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.item_id = 12 THEN
        INSERT INTO orc.secret VALUES ('loan ' || OLD.id);
    END IF;
    RETURN NEW;
END $$;
-- the ILS's purge function
CREATE FUNCTION orc.forget(p bigint) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO orc.fired VALUES (current_setting('orc.sweep', true), 'forget', current_user,
                                  (SELECT r.rolsuper FROM pg_catalog.pg_roles r WHERE r.rolname = current_user), 'purge');
    DELETE FROM orc.patrons WHERE id = p;
END $$;
CREATE TRIGGER record AFTER UPDATE OR DELETE ON orc.loans FOR EACH ROW EXECUTE FUNCTION orc.record();
CREATE TRIGGER record AFTER UPDATE OR DELETE ON orc.notices FOR EACH ROW EXECUTE FUNCTION orc.record();
CREATE TRIGGER record AFTER DELETE ON orc.patrons FOR EACH ROW EXECUTE FUNCTION orc.record();
CREATE TRIGGER escalate AFTER UPDATE ON orc.loans FOR EACH ROW EXECUTE FUNCTION orc.escalate();
CREATE TRIGGER needs_secret BEFORE UPDATE ON orc.loans FOR EACH ROW EXECUTE FUNCTION orc.needs_secret();
ALTER TABLE orc.patrons OWNER TO regress_orc_ils;
ALTER TABLE orc.loans OWNER TO regress_orc_ils;
ALTER TABLE orc.notices OWNER TO regress_orc_ils;
ALTER TABLE orc.fired OWNER TO regress_orc_ils;
ALTER FUNCTION orc.record() OWNER TO regress_orc_ils;
ALTER FUNCTION orc.escalate() OWNER TO regress_orc_ils;
ALTER FUNCTION orc.needs_secret() OWNER TO regress_orc_ils;
ALTER FUNCTION orc.forget(bigint) OWNER TO regress_orc_ils;

SELECT pals_privacy.bind_patrons('orc.patrons', 'id', 'expires', keep_history_column => 'keep_history',
                                 purge_function => 'orc.forget(bigint)');
SELECT pals_privacy.bind_loans('orc.loans', 'patron_id', 'item_id', '{returned}');
SELECT pals_privacy.bind_copy('orc.notices', 'orc.loans', 'loan_id', sever_with => 'delete');
SELECT is((SELECT rolsuper FROM pg_roles WHERE rolname = current_user), true, 'the sweeps below run as a superuser');

-- 1. sever_backlog(): batches of one row (a batch that fails goes row by
-- row through _sever_one)
SET orc.sweep = 'backlog';
CALL pals_privacy.sever_backlog(batch_size => 1);
SELECT is((SELECT string_agg(id || ':' || coalesce(patron_id::text, '-'), ' ' ORDER BY id) FROM orc.loans),
          '1:- 2:2 3:- 4:3 5:3 6:2 7:1', 'backlog: the earlier rows of items 10 and 11 are severed; item 12''s is not (below)');
SELECT is((SELECT count(*) FROM orc.fired WHERE sweep = 'backlog' AND tbl = 'loans' AND note = 'UPDATE'), 2::bigint,
          'backlog: the ILS''s row trigger fired for the two rows severed');
SELECT is((SELECT string_agg(DISTINCT who || '/' || super, ',') FROM orc.fired WHERE sweep = 'backlog' AND super IS NOT NULL),
          'regress_orc_ils/false', 'backlog: the ILS''s triggers ran as the tables'' owner, not as the superuser');
SELECT is((SELECT string_agg(DISTINCT note, ',') FROM orc.fired WHERE sweep = 'backlog' AND note IN ('escalated', 'refused')),
          'refused', 'backlog: a trigger''s ALTER ROLE ... SUPERUSER is refused');
SELECT is((SELECT rolsuper FROM pg_roles WHERE rolname = 'regress_orc_ils'), false, 'backlog: the owner did not become a superuser');
SELECT is((SELECT string_agg(body, ',' ORDER BY id) FROM orc.notices), 'notice 2',
          'backlog: the notices of the severed rows are deleted (copies)');
SELECT is((SELECT count(*) FROM orc.fired WHERE sweep = 'backlog' AND tbl = 'notices' AND note = 'DELETE'
                                          AND who = 'regress_orc_ils' AND NOT super), 2::bigint,
          'backlog: the copies'' ILS trigger ran as their owner');
SELECT is((SELECT string_agg(patron || '/' || item, ',') FROM pals_privacy.private_history WHERE relation = 'orc.loans'::regclass),
          '2/11', 'backlog: the history of patron 2 (opted in) is copied');
-- item 12's earlier row: its trigger writes a table its owner may not write
SELECT is((SELECT count(*) FROM orc.secret), 0::bigint, 'backlog: the trigger that needs a right the owner lacks wrote nothing');
SELECT is((SELECT string_agg(row_relid::regclass || ':' || reason, ',') FROM pals_privacy.sever_pending),
          'orc.loans:permission denied for table secret', 'backlog: that row is left pending, with the reason');

-- 2. the maintenance's retry of pending rows: the owner is given the right
GRANT INSERT ON orc.secret TO regress_orc_ils;
SET orc.sweep = 'retry';
SELECT is(pals_privacy._retry_pending() ->> 'resolved', '1', 'retry: the pending row is severed once the owner has the right');
SELECT is((SELECT patron_id FROM orc.loans WHERE id = 5), NULL, 'retry: item 12''s earlier row lost its patron');
SELECT is((SELECT count(*) FROM pals_privacy.sever_pending), 0::bigint, 'retry: nothing is pending');
SELECT is((SELECT string_agg(DISTINCT who || '/' || super, ',') FROM orc.fired WHERE sweep = 'retry' AND super IS NOT NULL),
          'regress_orc_ils/false', 'retry: the ILS''s triggers ran as the table''s owner');
SELECT is((SELECT string_agg(DISTINCT note, ',') FROM orc.fired WHERE sweep = 'retry' AND note IN ('escalated', 'refused')),
          'refused', 'retry: a trigger''s ALTER ROLE ... SUPERUSER is refused');

-- 3. sever_copies(): an orphan notice (no loan holds its key)
INSERT INTO orc.notices (loan_id, body) VALUES (999, 'orphan');
SET orc.sweep = 'sever_copies';
SELECT is(pals_privacy.sever_copies('orc.notices'), 1::bigint, 'sever_copies: the orphan notice is swept');
SELECT is((SELECT string_agg(who || '/' || super || '/' || note, ',') FROM orc.fired WHERE sweep = 'sever_copies'),
          'regress_orc_ils/false/DELETE', 'sever_copies: the ILS''s trigger ran as the copy''s owner');

-- 4. purge_expired(): patron 1 (expired, one returned loan).  The purge
-- function runs as the patron table's owner, with its privacy class: a
-- staff role may not delete patrons (the purge fails, and says why) ...
SET orc.sweep = 'purge';
CALL pals_privacy.purge_expired() \gset
SELECT is(:'result'::jsonb -> 'errors' ->> 0, '42501: privacy class staff may not delete patrons',
          'purge: the purge function runs with the owner''s class: staff may not delete patrons');
SELECT is((SELECT string_agg(id::text, ',' ORDER BY id) FROM orc.patrons), '1,2,3', '... and nothing is purged');
-- ... the ILS's owner is an operational role
SELECT pals_privacy.classify_role('regress_orc_ils', 'operational');
DELETE FROM orc.fired WHERE sweep = 'purge';
CALL pals_privacy.purge_expired() \gset
SELECT is(:'result'::jsonb -> 'purged', '1', 'purge: patron 1 is purged');
SELECT is((SELECT string_agg(id::text, ',' ORDER BY id) FROM orc.patrons), '2,3', 'purge: the purge function deleted the patron');
SELECT is((SELECT count(*) FROM orc.loans WHERE patron_id = 1), 0::bigint, 'purge: the patron''s loan no longer names them');
SELECT is((SELECT string_agg(DISTINCT tbl || ':' || who || '/' || super, ',' ORDER BY tbl || ':' || who || '/' || super)
             FROM orc.fired WHERE sweep = 'purge' AND super IS NOT NULL),
          'forget:regress_orc_ils/false,loans:regress_orc_ils/false,patrons:regress_orc_ils/false',
          'purge: the purge function and the ILS''s triggers ran as the owner');
SELECT is((SELECT rolsuper FROM pg_roles WHERE rolname = 'regress_orc_ils'), false, 'purge: the owner did not become a superuser');

-- 5. a TRUNCATE of the source sweeps its copies (as the extension owner's
-- trigger): the ILS's trigger on the copy runs as its owner
INSERT INTO orc.notices (loan_id, body) VALUES (4, 'notice 4');
SET orc.sweep = 'truncate';
TRUNCATE orc.loans;
SELECT is((SELECT count(*) FROM orc.notices WHERE body = 'notice 4'), 0::bigint, 'truncate: the notice of a truncated loan is swept');
SELECT is((SELECT string_agg(DISTINCT who || '/' || super, ',') FROM orc.fired WHERE sweep = 'truncate' AND tbl = 'notices'),
          'regress_orc_ils/false', 'truncate: the copy''s ILS trigger ran as its owner');

-- 6. a trigger cannot turn the sweep back to the superuser
CREATE FUNCTION orc.turn_off() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_catalog.set_config('pals_privacy.sweep_as_owner', 'off', true);
    RETURN OLD;
END $$;
ALTER FUNCTION orc.turn_off() OWNER TO regress_orc_ils;
CREATE TRIGGER turn_off BEFORE DELETE ON orc.notices FOR EACH ROW EXECUTE FUNCTION orc.turn_off();
INSERT INTO orc.notices (loan_id, body) VALUES (1000, 'orphan 2');
SET orc.sweep = 'turn_off';
SELECT throws_ok($$SELECT pals_privacy.sever_copies('orc.notices')$$, '42501', NULL,
                 'a trigger a sweep fires cannot turn pals_privacy.sweep_as_owner off');
DROP TRIGGER turn_off ON orc.notices;

-- 7. a statement of a sweep that writes relations of two owners is refused
CREATE ROLE regress_orc_other NOLOGIN;
GRANT USAGE ON SCHEMA orc TO regress_orc_other;
ALTER TABLE orc.fired OWNER TO regress_orc_other;
GRANT INSERT ON orc.fired TO regress_orc_ils;
SELECT throws_ok($$SELECT pals_privacy._run_as_owner('orc.notices',
                   'WITH a AS (DELETE FROM orc.fired RETURNING 1), b AS (DELETE FROM orc.notices RETURNING 1) SELECT count(*) FROM a', '{}')$$,
                 '42501', NULL, '_run_as_owner: the statement runs as the owner (who may not delete from another owner''s table)');
SET pals_privacy.sweep_as_owner = on;
SELECT throws_ok($$WITH a AS (DELETE FROM orc.fired RETURNING 1), b AS (DELETE FROM orc.notices RETURNING 1) SELECT count(*) FROM a$$,
                 '42501', 'pals_privacy: a sweep''s statement writes relations of two owners',
                 'a sweep''s statement writing the relations of two owners is refused');
-- a superuser's own statement in a sweep runs as the table's owner
DELETE FROM orc.notices WHERE body = 'orphan 2';
SELECT is((SELECT count(*) FROM orc.notices WHERE body = 'orphan 2'), 0::bigint,
          'in a sweep, a write of the ILS''s table goes through ...');
SELECT is((SELECT who || '/' || super FROM orc.fired WHERE sweep = 'turn_off' AND tbl = 'notices'),
          'regress_orc_ils/false', '... as its owner');
RESET pals_privacy.sweep_as_owner;
-- outside a sweep, a superuser's own write runs as the superuser
SET orc.sweep = 'own';
INSERT INTO orc.notices (loan_id, body) VALUES (1001, 'orphan 3');
DELETE FROM orc.notices WHERE body = 'orphan 3';
SELECT is((SELECT who || '/' || super FROM orc.fired WHERE sweep = 'own'), current_user || '/true',
          'a superuser''s own DELETE outside a sweep fires the ILS''s trigger as the superuser, as in PostgreSQL');

-- 8. a view of PostgreSQL's own functions that runs SQL given at run time
-- (query_to_xml and the other XML exports, ts_stat, ts_rewrite) counts as
-- code of the ILS's: it resolves its names under the session's path, and
-- would run a temporary view of the session's as the extension owner
-- (src/owner_code_guard.c)
BEGIN;
CREATE SCHEMA orc_views;
CREATE VIEW orc_views.plain AS SELECT pg_catalog.now() AS at;
CREATE VIEW orc_views.xml AS SELECT pg_catalog.query_to_xml('SELECT * FROM balances', false, false, '') AS x;
CREATE VIEW orc_views.stat AS SELECT * FROM pg_catalog.ts_stat('SELECT v FROM balances');
CREATE VIEW orc_views.cursor AS SELECT pg_catalog.cursor_to_xml('c', 1, false, false, '') AS x;
CREATE VIEW orc_views.tbl AS SELECT pg_catalog.table_to_xml('pg_catalog.pg_am', false, false, '') AS x;
CREATE ROLE regress_orc_session NOLOGIN;
SELECT is(pals_privacy._owner_code_guard('orc_views.xml', 'reading orc_views.xml')::text, '',
          'without temporary objects, a view calling query_to_xml is read as before');
-- the session's role makes a temporary object
SET ROLE regress_orc_session;
CREATE TEMP TABLE balances (v tsvector);
RESET ROLE;
SELECT is(pals_privacy._owner_code_guard('orc_views.plain', 'reading orc_views.plain')::text, '',
          'with temporary objects, a view of PostgreSQL''s own functions that run no SQL is still read');
SELECT throws_ok($$SELECT pals_privacy._owner_code_guard('orc_views.xml', 'reading orc_views.xml')$$, '42501',
                 'reading orc_views.xml would run code of the ILS as the extension owner in a session with temporary objects',
                 'with temporary objects, a view calling query_to_xml is refused (it would read the session''s pg_temp.balances as the owner)');
SELECT throws_ok($$SELECT pals_privacy._owner_code_guard('orc_views.stat', 'x')$$, '42501', NULL, '... ts_stat too');
SELECT throws_ok($$SELECT pals_privacy._owner_code_guard('orc_views.cursor', 'x')$$, '42501', NULL, '... cursor_to_xml too');
SELECT throws_ok($$SELECT pals_privacy._owner_code_guard('orc_views.tbl', 'x')$$, '42501', NULL, '... table_to_xml too');
ROLLBACK;

RESET orc.sweep;
DELETE FROM pals_privacy.private_history WHERE relation::text LIKE 'orc.%';
\i test/purge/done.sql
SELECT pals_privacy.unclassify_role('regress_orc_ils');
DROP OWNED BY regress_orc_ils, regress_orc_other;
DROP ROLE regress_orc_ils;
DROP ROLE regress_orc_other;

SELECT * FROM finish();
