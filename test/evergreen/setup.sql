-- test/evergreen/setup.sql: a database with the Evergreen-shaped schema, its history, its roles
-- and the DBA's bindings (test/evergreen/{schema,data,bind}.sql).  Expects psql variable edb
-- (the database to create), and optionally eextra (a file of more data, run as the ILS before
-- binding); leaves the session connected to it as the superuser, output off.
\o /dev/null
-- the ILS connects as one role that owns every schema and table (Evergreen's installer creates
-- them as it); a loader role that is not the owner (bulk loads with COPY), branch staff and
-- report accounts, the OPAC, a collection agency, consortium auditors
\set own_db :edb
\set own_roles 'regress_eg regress_eg_loader regress_eg_staff regress_eg_opac regress_eg_collect regress_eg_audit'
\set own_role_options LOGIN
\i test/own_database.sql
-- the data's times are UTC (pg_regress runs in PST8PDT)
SET timezone = UTC;
SELECT format('GRANT CREATE ON DATABASE %I TO regress_eg', current_database()) \gexec
SET ROLE regress_eg;
\i test/evergreen/schema.sql
\i test/evergreen/data.sql
-- a suite may add shapes of its own to the data before binding (psql variable eextra: a file)
\if :{?eextra}
\i :eextra
\endif
GRANT USAGE ON SCHEMA actor, asset, biblio, action, money, action_trigger, auditor
   TO regress_eg_loader, regress_eg_staff, regress_eg_opac, regress_eg_collect, regress_eg_audit;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA actor, asset, biblio, action, money, action_trigger, auditor
   TO regress_eg_loader, regress_eg_staff;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA actor, asset, biblio, action, money, action_trigger, auditor TO regress_eg_loader, regress_eg_staff;
GRANT SELECT ON ALL TABLES IN SCHEMA actor, asset, biblio, action, money, action_trigger, auditor
   TO regress_eg_opac, regress_eg_collect, regress_eg_audit;
RESET ROLE;
ANALYZE;

CREATE EXTENSION pals_privacy;
CREATE EXTENSION pgtap;
\i test/evergreen/bind.sql
SET client_min_messages = warning;
\set pin_patron 9002
\set pin_card EG9002W
\set pin_role regress_eg_opac
\i test/shape_pin.sql
