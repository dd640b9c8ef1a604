-- test/shelf/setup.sql: a database with the Shelfmark-shaped schema, its history, its roles and
-- the DBA's bindings (test/shelf/{schema,data,bind}.sql), and the helpers the Shelfmark suites
-- use.  Expects psql variable sdb (the database to create); leaves the session connected to it
-- as the superuser, output off.
\o /dev/null
SET client_min_messages = warning;
DROP DATABASE IF EXISTS :sdb WITH (FORCE);
CREATE DATABASE :sdb;
\c :sdb
SET client_min_messages = warning;
-- the ILS connects as ONE superuser role; a desk account with a desk's rights; the catalogue, a
-- collection agency, consortium auditors
DO $$
DECLARE r text;
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'regress_shelf_ils') THEN
        CREATE ROLE regress_shelf_ils LOGIN SUPERUSER;
    END IF;
    FOREACH r IN ARRAY ARRAY['regress_shelf_desk', 'regress_shelf_opac', 'regress_shelf_collect', 'regress_shelf_audit'] LOOP
        IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = r) THEN
            EXECUTE format('CREATE ROLE %I LOGIN', r);
        END IF;
    END LOOP;
END $$;
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
SET pals_privacy.pin_iterations = 10000;
SELECT pals_privacy.set_pin('00000000-0000-0000-0000-000000009002', '4242');
SET ROLE regress_shelf_opac;
SELECT pals_privacy.login('SHW9002', '4242');
SELECT pals_privacy.change_pin('4242', '2580');
SELECT pals_privacy.logout();
RESET ROLE;
RESET pals_privacy.pin_iterations;

-- (pg_temp.m(n) and pg_temp.l(n), the uuids of member n and loan n: test/shelf/data.sql)
-- q(role, query): what a role reads, as jsonb rows, in a subtransaction rolled back; the
-- catalogue role logs in as W first; an error is returned as {"error": "SQLSTATE message"}
CREATE FUNCTION pg_temp.q(who text, query text) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE r jsonb;
BEGIN
    BEGIN
        EXECUTE format('SET LOCAL ROLE %I', who);
        IF who = 'regress_shelf_opac' THEN
            PERFORM pals_privacy.login('SHW9002', '2580');
        END IF;
        EXECUTE format('SELECT coalesce(jsonb_agg(to_jsonb(x)), ''[]'') FROM (%s) x', query) INTO r;
        RAISE EXCEPTION 'shelf_rollback';
    EXCEPTION WHEN OTHERS THEN
        IF SQLERRM <> 'shelf_rollback' THEN
            r := jsonb_build_object('error', SQLSTATE || ' ' || SQLERRM);
        END IF;
    END;
    IF who = 'regress_shelf_opac' THEN
        PERFORM pals_privacy.logout();
    END IF;
    RETURN r;
END $$;
-- v(role, query): the one value a one-column, one-row query reads, as text
CREATE FUNCTION pg_temp.v(who text, query text) RETURNS text LANGUAGE sql AS $$
    SELECT CASE WHEN j ? 'error' THEN j ->> 'error' ELSE (SELECT value FROM jsonb_each_text(j -> 0) LIMIT 1) END
      FROM pg_temp.q(who, query) j
$$;
-- x(role, statement): run a statement as a role, rolled back; what it returns (RETURNING rows,
-- as jsonb), or the number of rows it changed, or the error with its DETAIL
CREATE FUNCTION pg_temp.x(who text, stmt text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE r text; n bigint; d text; j jsonb;
BEGIN
    BEGIN
        EXECUTE format('SET LOCAL ROLE %I', who);
        IF stmt ~* 'returning' THEN
            EXECUTE format('WITH w AS (%s) SELECT coalesce(jsonb_agg(to_jsonb(w)), ''[]'') FROM w', stmt) INTO j;
            r := j::text;
        ELSE
            EXECUTE stmt;
            GET DIAGNOSTICS n = ROW_COUNT;
            r := n::text;
        END IF;
        RAISE EXCEPTION 'shelf_rollback';
    EXCEPTION WHEN OTHERS THEN
        IF SQLERRM <> 'shelf_rollback' THEN
            GET STACKED DIAGNOSTICS d = PG_EXCEPTION_DETAIL;
            r := SQLSTATE || ' ' || SQLERRM || coalesce(' DETAIL: ' || nullif(d, ''), '');
        END IF;
    END;
    RETURN r;
END $$;
-- w(writer, statement, reader, query): in one transaction rolled back, a statement as one role
-- (NULL: the superuser), then what another reads, as jsonb rows (or the error)
CREATE FUNCTION pg_temp.w(writer text, stmt text, reader text, query text) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE r jsonb;
BEGIN
    BEGIN
        IF writer IS NOT NULL THEN
            EXECUTE format('SET LOCAL ROLE %I', writer);
        END IF;
        EXECUTE stmt;
        EXECUTE format('SET LOCAL ROLE %I', reader);
        EXECUTE format('SELECT coalesce(jsonb_agg(to_jsonb(x)), ''[]'') FROM (%s) x', query) INTO r;
        RAISE EXCEPTION 'shelf_rollback';
    EXCEPTION WHEN OTHERS THEN
        IF SQLERRM <> 'shelf_rollback' THEN
            r := jsonb_build_object('error', SQLSTATE || ' ' || SQLERRM);
        END IF;
    END;
    RETURN r;
END $$;
-- the planner's row estimate of a query, as a role
CREATE FUNCTION pg_temp.estimate(who text, query text) RETURNS numeric LANGUAGE plpgsql AS $$
DECLARE j json;
BEGIN
    BEGIN
        EXECUTE format('SET LOCAL ROLE %I', who);
        EXECUTE 'EXPLAIN (FORMAT JSON) ' || query INTO j;
        RAISE EXCEPTION 'shelf_rollback';
    EXCEPTION WHEN OTHERS THEN
        IF SQLERRM <> 'shelf_rollback' THEN
            RAISE;
        END IF;
    END;
    RETURN (j -> 0 -> 'Plan' ->> 'Plan Rows')::numeric;
END $$;
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
