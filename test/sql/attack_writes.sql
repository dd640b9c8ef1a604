-- Attack catalogue: write, then read (issue 13, class 2).  Staff hold UPDATE
-- on the columns that decide visibility; no write of theirs may bring a
-- hidden patron out, in RETURNING, a CTE, ON CONFLICT or a later read in the
-- same transaction.  Runs before sever_backlog() and again after it with the
-- history of opted-in patrons kept in place.  See test/attack/fixture.sql.
\set atk_db attack_writes
\set ECHO none
\i test/attack/fixture.sql
\set ECHO all
SELECT plan(74);

\set phase 'before sever: '
\set ECHO none
\i test/attack/writes.sql
\set ECHO all

SET client_min_messages = warning;
CALL pals_privacy.sever_backlog(batch_size => 1000);
ANALYZE demo.loans, demo.holds, demo.reading_history;
SELECT pg_temp.refresh_secrets() > 0 AS secrets_left_in_place;
\set phase 'in place, after sever: '
\set ECHO none
\i test/attack/writes.sql
\set ECHO all

SELECT * FROM finish();
\set ECHO none
\i test/attack/done.sql
