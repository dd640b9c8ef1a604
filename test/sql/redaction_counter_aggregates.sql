-- An aggregate or window function built on a statistics counter
-- (pg_stat_get_*(oid)) would read a bound relation's counters past the
-- rewrite that makes them NULL for a redacted class: the planner hook
-- refuses it (src/redact_rewrite.c, redact_counters_mutator).  Queries with
-- ordinary aggregates are not touched by that rewrite at all (the look
-- before it only lets counters and counter-built aggregates through).
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pals_privacy;

BEGIN;
SELECT plan(7);

CREATE ROLE regress_rca_staff;
SELECT pals_privacy.classify_role('regress_rca_staff', 'staff');
CREATE SCHEMA rca;
GRANT USAGE, CREATE ON SCHEMA rca TO regress_rca_staff;
CREATE TABLE rca.patrons (id bigint PRIMARY KEY, expires date NOT NULL DEFAULT 'infinity');
INSERT INTO rca.patrons SELECT g FROM generate_series(0, 20) g;
SELECT pals_privacy.bind_patrons('rca.patrons', 'id', 'expires');
CREATE TABLE rca.loans (id int PRIMARY KEY, patron_id bigint REFERENCES rca.patrons, item_id int NOT NULL,
                        returned date);
INSERT INTO rca.loans SELECT g, 1 + g % 20, g, NULL FROM generate_series(1, 40) g;
SELECT pals_privacy.bind_loans('rca.loans', 'patron_id', 'item_id', ARRAY['returned'], sever_with => 'patron:0');
GRANT SELECT ON rca.patrons, rca.loans TO regress_rca_staff;

SET ROLE regress_rca_staff;
-- the counter as the aggregate's final function
CREATE AGGREGATE rca.scans(oid) (sfunc = oidlarger, stype = oid, finalfunc = pg_stat_get_numscans);
SELECT throws_ok($$SELECT rca.scans('rca.loans'::regclass::oid)$$, '42501',
                 'aggregate scans is built on a statistics counter',
                 'staff: an aggregate whose final function is a counter is refused');
SELECT throws_ok($$SELECT rca.scans(x) OVER () FROM (VALUES ('rca.loans'::regclass::oid)) v(x)$$, '42501',
                 'aggregate scans is built on a statistics counter',
                 'staff: and as a window function');
SELECT throws_ok($$SELECT count(*) FROM rca.loans WHERE EXISTS (SELECT rca.scans('rca.loans'::regclass::oid))$$, '42501',
                 'aggregate scans is built on a statistics counter',
                 'staff: and in a subquery');
SELECT is((SELECT pg_stat_get_numscans('rca.loans'::regclass)), NULL::bigint,
          'staff: the counter itself reads NULL');
-- ordinary aggregates are untouched, masks and all
SELECT results_eq($$SELECT count(*), count(patron_id), max(item_id) FROM rca.loans$$,
                  $$VALUES (40::bigint, 40::bigint, 40)$$,
                  'staff: count(*), count of a masked column and max() answer as before');
SELECT results_eq($$SELECT patron_id, count(*) OVER (PARTITION BY patron_id) FROM rca.loans WHERE id = 3$$,
                  $$VALUES (4::bigint, 1::bigint)$$,
                  'staff: a window count over the masked column');
RESET ROLE;
SELECT isnt((SELECT rca.scans('rca.loans'::regclass::oid)), NULL::bigint,
            'a superuser reads the counter through the same aggregate');

SELECT * FROM finish();
ROLLBACK;
