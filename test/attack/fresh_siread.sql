-- test/attack/fresh_siread.sql: one serializable-isolation oracle of
-- test/sql/attack_fresh.sql, included with :descr, :who (the attacker's
-- role) and :q (a statement, %s the patron id) set.  Each run is a
-- transaction of its own at SERIALIZABLE (predicate locks last until the
-- transaction ends, a rolled-back subtransaction's too), as the operational
-- control for 9001 (A, hidden rows) and 9002 (B, none), then as the
-- attacker for both; pg_temp.siread() returns what the statement left in
-- pg_locks (or the error that refused it).
BEGIN ISOLATION LEVEL SERIALIZABLE;
SELECT pg_temp.siread('ils_app', format(:'q', 9001)) AS siread_ca \gset
ROLLBACK;
BEGIN ISOLATION LEVEL SERIALIZABLE;
SELECT pg_temp.siread('ils_app', format(:'q', 9002)) AS siread_cb \gset
ROLLBACK;
BEGIN ISOLATION LEVEL SERIALIZABLE;
SELECT pg_temp.siread(:'who', format(:'q', 9001)) AS siread_a \gset
ROLLBACK;
BEGIN ISOLATION LEVEL SERIALIZABLE;
SELECT pg_temp.siread(:'who', format(:'q', 9002)) AS siread_b \gset
ROLLBACK;
SELECT pg_temp.same_for_both(:'descr', :'siread_ca', :'siread_cb', :'siread_a', :'siread_b');
