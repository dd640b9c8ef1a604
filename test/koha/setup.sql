-- test/koha/setup.sql: a database with the Koha-shaped schema, its history, its roles and the
-- DBA's bindings (test/koha/{schema,data,bind}.sql), and the helpers the Koha suites use.
-- Expects psql variable kdb (the database to create); leaves the session connected to it as the
-- superuser, output off.
\o /dev/null
-- the ILS connects as one role that owns its schema (Koha's installer creates everything as it);
-- branch staff and report accounts, the catalogue, a collection agency, consortium auditors
\set own_db :kdb
\set own_roles 'regress_koha regress_koha_sip regress_koha_staff regress_koha_opac regress_koha_collect regress_koha_audit'
\set own_role_options LOGIN
\i test/own_database.sql
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
\set pin_patron 9002
\set pin_card 21000009002W
\set pin_role regress_koha_opac
\i test/shape_pin.sql

-- q, v, x, w, estimate and tied (test/shape_readers.sql); the catalogue role logs in as W first
\i test/shape_readers.sql
INSERT INTO pg_temp.reader_logins VALUES ('regress_koha_opac', '21000009002W', '2580');
