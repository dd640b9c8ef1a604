-- Views bound directly (bind_balance accepts a view), on every supported
-- PostgreSQL version.  How the rewriter leaves an expanded view in the query
-- changed in 16 (the view's *OLD* range table entry is gone; the subquery
-- entry keeps the view's relid and relkind): redaction must recognise the
-- view on both, or a class reads the whole view.  compat.c has the two ways;
-- this suite is what fails if either is wrong (on 18, without the 16 branch,
-- collections read every patron of a bound balance view).
--
-- Also the other version-dependent paths of redaction: a whole-row reference
-- to a bound view (expandRTE), EXPLAIN without ANALYZE (the explain hook's
-- fall-through), and EXPLAIN ANALYZE refused on the view.
--
-- Fixture: patrons 51-54.  vw.fines is not bound; the view vw.balances sums
-- it per patron and is bound with bind_balance: 51 owes 40, 52 owes 30, 53
-- owes 5, 54 owes nothing.  Collections (threshold 25) may see 51 and 52.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pals_privacy;

BEGIN;
SELECT plan(16);

CREATE ROLE regress_vw_coll;
CREATE ROLE regress_vw_staff;
CREATE ROLE regress_vw_patron;
DO $$ BEGIN
    PERFORM pals_privacy.classify_role('regress_vw_coll', 'collections');
    PERFORM pals_privacy.classify_role('regress_vw_staff', 'staff');
END $$;

CREATE SCHEMA vw;
CREATE TABLE vw.patrons (id bigint PRIMARY KEY, name text NOT NULL, expires date NOT NULL DEFAULT 'infinity');
INSERT INTO vw.patrons (id, name) VALUES (51, 'Ann Oak'), (52, 'Bob Pine'), (53, 'Cy Yew'), (54, 'Di Lime');
CREATE TABLE vw.fines (id int PRIMARY KEY, patron_id bigint NOT NULL, amount numeric(8,2) NOT NULL);
INSERT INTO vw.fines VALUES (1, 51, 25.00), (2, 51, 15.00), (3, 52, 30.00), (4, 53, 5.00);
CREATE VIEW vw.balances AS
    SELECT patron_id, sum(amount) AS owed, count(*) AS n_fines FROM vw.fines GROUP BY patron_id;
-- a view of the view, and a security_invoker one
CREATE VIEW vw.debtors AS SELECT patron_id, owed FROM vw.balances WHERE owed > 0;
CREATE VIEW vw.balances_invoker WITH (security_invoker = true) AS SELECT patron_id, owed FROM vw.balances;
GRANT USAGE ON SCHEMA vw TO regress_vw_coll, regress_vw_staff;
GRANT SELECT ON ALL TABLES IN SCHEMA vw TO regress_vw_coll, regress_vw_staff;

DO $$ BEGIN
    PERFORM pals_privacy.bind_patrons('vw.patrons', 'id', 'expires');
    PERFORM pals_privacy.bind_balance('vw.balances', 'patron_id', 'owed');
END $$;
SET pals_privacy.collections_threshold = 25;

SET SESSION AUTHORIZATION regress_vw_staff;
SELECT results_eq('SELECT patron_id FROM vw.balances ORDER BY 1', ARRAY[51, 52, 53]::bigint[],
    'staff: every row of the bound view');
RESET SESSION AUTHORIZATION;

SET SESSION AUTHORIZATION regress_vw_coll;
SELECT is(pals_privacy.current_class(), 'collections', 'regress_vw_coll is collections');
SELECT results_eq('SELECT patron_id FROM vw.balances ORDER BY 1', ARRAY[51, 52]::bigint[],
    'collections: the bound view is filtered to patrons over the threshold');
SELECT is_empty('SELECT 1 FROM vw.balances WHERE patron_id = 53',
    'collections: a patron under the threshold is not in the bound view');
SELECT is((SELECT count(*) FROM vw.balances), 2::bigint, 'collections: count(*) of the bound view');
SELECT results_eq('SELECT patron_id FROM vw.debtors ORDER BY 1', ARRAY[51, 52]::bigint[],
    'collections: a view over the bound view');
SELECT results_eq('SELECT patron_id FROM vw.balances_invoker ORDER BY 1', ARRAY[51, 52]::bigint[],
    'collections: a security_invoker view over the bound view');
SELECT results_eq('SELECT patron_id FROM (SELECT * FROM vw.balances) s ORDER BY 1', ARRAY[51, 52]::bigint[],
    'collections: the bound view in a subquery');
SELECT results_eq('SELECT (b).patron_id FROM (SELECT b FROM vw.balances b) s ORDER BY 1', ARRAY[51, 52]::bigint[],
    'collections: whole-row references to the bound view');
SELECT is((SELECT count(*) FROM vw.balances b WHERE b::text LIKE '(53,%'), 0::bigint,
    'collections: a whole row of the bound view does not give a hidden patron away');
SELECT results_eq('SELECT id FROM vw.patrons ORDER BY 1', ARRAY[51, 52]::bigint[],
    'collections: the bound view''s balances decide the collectible patrons');
SELECT isnt_empty('EXPLAIN (COSTS OFF) SELECT * FROM vw.balances', 'collections: EXPLAIN of the bound view');
SELECT throws_ok('EXPLAIN ANALYZE SELECT * FROM vw.balances', '42501', NULL,
    'collections: EXPLAIN ANALYZE of the bound view');
SELECT throws_ok('EXPLAIN ANALYZE SELECT * FROM vw.debtors', '42501', NULL,
    'collections: EXPLAIN ANALYZE of a view over the bound view');
RESET SESSION AUTHORIZATION;

-- the fixture is what the checks above assume
SELECT results_eq('SELECT patron_id FROM vw.balances ORDER BY 1', ARRAY[51, 52, 53]::bigint[],
    'superuser: every row of the bound view');
SELECT is((SELECT count(*) FROM pals_privacy.bindings WHERE relation = 'vw.balances'::regclass), 1::bigint,
    'the view is bound');

SELECT * FROM finish();
ROLLBACK;
