-- test/shelf/setup.sql: a database with the Shelfmark-shaped schema, its history, its roles and
-- the DBA's bindings (test/shelf/{schema,data,bind}.sql), and the helpers the Shelfmark suites
-- use.  Expects psql variable sdb (the database to create); leaves the session connected to it
-- as the superuser, output off.
\o /dev/null
-- the ILS connects as ONE superuser role; a desk account with a desk's rights; the catalogue, a
-- collection agency, consortium auditors
\set own_db :sdb
\set own_roles 'regress_shelf_ils regress_shelf_desk regress_shelf_opac regress_shelf_collect regress_shelf_audit'
\set own_role_options LOGIN
\i test/own_database.sql
ALTER ROLE regress_shelf_ils SUPERUSER;
SET ROLE regress_shelf_ils;
\i test/shelf/schema.sql
\i test/shelf/data.sql
-- the desk: reads every ILS table, writes circulation (loans, charges and their links, the
-- tally its checkouts update, notices), creates temporary tables, prepares statements
GRANT USAGE ON SCHEMA members, stock, circ, msg TO regress_shelf_desk, regress_shelf_opac, regress_shelf_collect, regress_shelf_audit;
GRANT SELECT ON ALL TABLES IN SCHEMA members, stock, circ, msg TO regress_shelf_desk, regress_shelf_opac, regress_shelf_collect, regress_shelf_audit;
GRANT INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA circ, msg TO regress_shelf_desk;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA circ, msg TO regress_shelf_desk;
RESET ROLE;
SELECT format('GRANT TEMPORARY ON DATABASE %I TO regress_shelf_desk', current_database()) \gexec
ANALYZE;

CREATE EXTENSION pals_privacy;
CREATE EXTENSION pgtap;
\o
SET client_min_messages = notice;
\i test/shelf/bind.sql
\o /dev/null
-- (granted after binding: the balance view is created by bind.sql)
GRANT SELECT ON circ.member_balance TO regress_shelf_desk, regress_shelf_opac, regress_shelf_collect, regress_shelf_audit;
SET client_min_messages = warning;
\set pin_patron 00000000-0000-0000-0000-000000009002
\set pin_card SHW9002
\set pin_role regress_shelf_opac
\i test/shape_pin.sql

-- (pg_temp.m(n) and pg_temp.l(n), the uuids of member n and loan n: test/shelf/data.sql)
-- q, v, x, w, estimate and tied (test/shape_readers.sql); the catalogue role logs in as W first
\i test/shape_readers.sql
INSERT INTO pg_temp.reader_logins VALUES ('regress_shelf_opac', 'SHW9002', '2580');
-- cur(role, query): the rows a role fetches through a scrollable cursor (FETCH LAST, then
-- backwards), as jsonb
CREATE FUNCTION pg_temp.cur(who text, query text) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE c refcursor := 'shelf_cur'; r record; j jsonb := '[]';
BEGIN
    BEGIN
        EXECUTE format('SET LOCAL ROLE %I', who);
        OPEN c SCROLL FOR EXECUTE query;
        FETCH LAST FROM c INTO r;
        WHILE FOUND LOOP
            j := j || jsonb_build_array(to_jsonb(r));
            FETCH PRIOR FROM c INTO r;
        END LOOP;
        CLOSE c;
        RAISE EXCEPTION 'shelf_rollback';
    EXCEPTION WHEN OTHERS THEN
        IF SQLERRM <> 'shelf_rollback' THEN
            j := jsonb_build_object('error', SQLSTATE || ' ' || SQLERRM);
        END IF;
    END;
    RETURN j;
END $$;
