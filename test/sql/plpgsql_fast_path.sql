-- A plan that reads no relation and calls no statistics counter is the same
-- whoever plans it, so the planner hook no longer marks it as depending on
-- the role: PL/pgSQL evaluates such expressions (x := x + 1) on its fast
-- path, which a role-dependent plan is refused (src/redact_hooks.c,
-- query_role_independent).  A plan that calls a counter still depends on
-- the role: its rewrite for a redacted class must not be skipped by a plan
-- another role cached in the same session.
SET client_min_messages = warning;
-- (a search path without "$user": SET ROLE must not change it, which would
-- make every cached plan be checked again anyway)
SET search_path = public;
CREATE EXTENSION IF NOT EXISTS pals_privacy;

BEGIN;
SELECT plan(4);

CREATE ROLE regress_pfp_staff;
SELECT pals_privacy.classify_role('regress_pfp_staff', 'staff');
CREATE SCHEMA pfp;
GRANT USAGE ON SCHEMA pfp TO regress_pfp_staff;
CREATE TABLE pfp.patrons (id bigint PRIMARY KEY, expires date NOT NULL DEFAULT 'infinity');
INSERT INTO pfp.patrons SELECT g FROM generate_series(0, 5) g;
SELECT pals_privacy.bind_patrons('pfp.patrons', 'id', 'expires');
CREATE TABLE pfp.loans (id int PRIMARY KEY, patron_id bigint REFERENCES pfp.patrons, item_id int NOT NULL,
                        returned date);
INSERT INTO pfp.loans SELECT g, 1 + g % 5, g, NULL FROM generate_series(1, 10) g;
SELECT pals_privacy.bind_loans('pfp.loans', 'patron_id', 'item_id', ARRAY['returned'], sever_with => 'patron:0');
GRANT SELECT ON pfp.loans TO regress_pfp_staff;
SELECT count(*) FROM pfp.loans;    -- a scan, so that the counter is not zero for the superuser

-- a counter read by a PL/pgSQL assignment: planned once per session and
-- kept while it stays valid (the relation as a parameter: a regclass
-- constant would make the plan depend on the relation, and so on the role)
CREATE FUNCTION pfp.scans(r oid) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE n bigint;
BEGIN
    n := pg_stat_get_numscans(r);
    RETURN n;
END $$;
-- and plain arithmetic, which must keep giving the same answers
CREATE FUNCTION pfp.sum_to(k int) RETURNS int LANGUAGE plpgsql AS $$
DECLARE x int := 0;
BEGIN
    FOR i IN 1..k LOOP x := x + i; END LOOP;
    RETURN x;
END $$;
GRANT EXECUTE ON FUNCTION pfp.scans(oid), pfp.sum_to(int) TO regress_pfp_staff;

SELECT isnt(pfp.scans('pfp.loans'::regclass), NULL::bigint, 'the superuser reads the counter through the assignment');
SET ROLE regress_pfp_staff;
SELECT is(pfp.scans('pfp.loans'::regclass), NULL::bigint,
          'staff, in the same session, read it NULL: the plan the superuser cached is not reused');
SELECT is(pfp.sum_to(1000), 500500, 'staff: simple expressions answer as before');
RESET ROLE;
SELECT is(pfp.sum_to(1000), 500500, 'the superuser: the same');

SELECT * FROM finish();
ROLLBACK;
