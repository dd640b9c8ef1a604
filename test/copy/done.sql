-- test/copy/done.sql (see fixture.sql): drop the suite's database and roles
\c :own_home
SET client_min_messages = warning;
DROP DATABASE :cp_db WITH (FORCE);
DROP ROLE :cp_staff;
DROP ROLE :cp_ils;
