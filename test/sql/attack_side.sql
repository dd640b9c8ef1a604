-- Attack catalogue: side channels (issue 13, classes 3-6): EXPLAIN ANALYZE by
-- other doors, statistics counters, estimates, the statistics hook with a
-- leaky operator.  Each attempt is an oracle that must not tell patron 9001
-- (hidden rows) from 9002 (none).  Runs before sever_backlog() and again
-- after it with the history of opted-in patrons kept in place.  See
-- test/attack/fixture.sql.
\set atk_db attack_side
\set ECHO none
\i test/attack/fixture.sql
\set ECHO all
SELECT plan(70);

\set phase 'before sever: '
\set ECHO none
\i test/attack/side.sql
\set ECHO all

SET client_min_messages = warning;
CALL pals_privacy.sever_backlog(batch_size => 1000);
ANALYZE demo.loans, demo.holds, demo.reading_history;
SELECT pg_temp.refresh_secrets() > 0 AS secrets_left_in_place;
\set phase 'in place, after sever: '
\set ECHO none
\i test/attack/side.sql
\set ECHO all

SELECT * FROM finish();
\set ECHO none
\i test/attack/done.sql
