-- test/koha/setup.sql: a database with the Koha-shaped schema, its history, its roles and the
-- DBA's bindings (test/koha/{schema,data,bind}.sql), and the helpers the Koha suites use.
-- Expects psql variable kdb (the database to create); leaves the session connected to it as the
-- superuser, output off.
\o /dev/null
SET client_min_messages = warning;
DROP DATABASE IF EXISTS :kdb WITH (FORCE);
CREATE DATABASE :kdb;
\c :kdb
SET client_min_messages = warning;
-- the ILS connects as one role that owns its schema (Koha's installer creates everything as it);
-- branch staff and report accounts, the catalogue, a collection agency, consortium auditors
DO $$
DECLARE r text;
BEGIN
    FOREACH r IN ARRAY ARRAY['regress_koha', 'regress_koha_sip', 'regress_koha_staff', 'regress_koha_opac', 'regress_koha_collect',
                             'regress_koha_audit'] LOOP
        IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = r) THEN
            EXECUTE format('CREATE ROLE %I LOGIN', r);
        END IF;
    END LOOP;
END $$;
SELECT format('GRANT CREATE ON DATABASE %I TO regress_koha', current_database()) \gexec
SET ROLE regress_koha;
\i test/koha/schema.sql
\i test/koha/data.sql
GRANT USAGE ON SCHEMA koha TO regress_koha_sip, regress_koha_staff, regress_koha_opac, regress_koha_collect, regress_koha_audit;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA koha TO regress_koha_sip, regress_koha_staff;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA koha TO regress_koha_sip, regress_koha_staff;
GRANT SELECT ON ALL TABLES IN SCHEMA koha TO regress_koha_opac, regress_koha_collect, regress_koha_audit;
RESET ROLE;
ANALYZE;

CREATE EXTENSION pals_privacy;
CREATE EXTENSION pgtap;
\i test/koha/bind.sql
SET client_min_messages = warning;
SET pals_privacy.pin_iterations = 10000;
SELECT pals_privacy.set_pin('9002', '4242');
-- (a PIN set by staff is a one-time PIN: W chooses one through the catalogue)
SET ROLE regress_koha_opac;
SELECT pals_privacy.login('21000009002W', '4242');
SELECT pals_privacy.change_pin('4242', '2580');
SELECT pals_privacy.logout();
RESET ROLE;
RESET pals_privacy.pin_iterations;

-- q(role, query): what a role reads, as jsonb rows, in a subtransaction rolled back; the
-- catalogue role logs in as W first; an error is returned as {"error": "SQLSTATE message"}
CREATE FUNCTION pg_temp.q(who text, query text) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE r jsonb;
BEGIN
    BEGIN
        EXECUTE format('SET LOCAL ROLE %I', who);
        IF who = 'regress_koha_opac' THEN
            PERFORM pals_privacy.login('21000009002W', '2580');
        END IF;
        EXECUTE format('SELECT coalesce(jsonb_agg(to_jsonb(x)), ''[]'') FROM (%s) x', query) INTO r;
        RAISE EXCEPTION 'koha_rollback';
    EXCEPTION WHEN OTHERS THEN
        IF SQLERRM <> 'koha_rollback' THEN
            r := jsonb_build_object('error', SQLSTATE || ' ' || SQLERRM);
        END IF;
    END;
    IF who = 'regress_koha_opac' THEN
        PERFORM pals_privacy.logout();
    END IF;
    RETURN r;
END $$;
-- v(role, query): the one value a one-column, one-row query reads, as text
CREATE FUNCTION pg_temp.v(who text, query text) RETURNS text LANGUAGE sql AS $$
    SELECT CASE WHEN j ? 'error' THEN j ->> 'error' ELSE (SELECT value FROM jsonb_each_text(j -> 0) LIMIT 1) END
      FROM pg_temp.q(who, query) j
$$;
