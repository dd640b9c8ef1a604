-- test/attack/done.sql: drop the suite's database (see fixture.sql)
\c :own_home
SET client_min_messages = warning;
DROP DATABASE :atk_db WITH (FORCE);
