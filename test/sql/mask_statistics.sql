-- Planner estimates of a masked column (src/placeholder_stats.c, "Masked
-- columns").  A redacted class reads a masked patron column as CASE WHEN
-- <may see> THEN patron END, whose condition reads the row's identity (the
-- last-borrower check): without statistics for it the planner took it for
-- unique, and a staff read joining an item's history to the patron table
-- hashed the whole patron table at every execution.  The planner of a
-- redacted class now gets the column's distinct count, null fraction and
-- width for the mask, and nothing that depends on the values stored: these
-- tests check the plan it is for, and try to read hidden values out of
-- EXPLAIN's estimates.
--
-- The fixture: 20,001 patrons (0 is the placeholder); 40 items with 250
-- closed loans each: 240 severed to the placeholder, 10 still naming a
-- patron, of which only the item's newest (its last borrower) is visible to
-- staff.  An identical unbound twin has the same statistics.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pals_privacy;

BEGIN;
SELECT plan(11);

CREATE ROLE regress_mst_staff;
SELECT pals_privacy.classify_role('regress_mst_staff', 'staff');
CREATE SCHEMA mst;
GRANT USAGE ON SCHEMA mst TO regress_mst_staff;
CREATE TABLE mst.patrons (id bigint PRIMARY KEY, name text NOT NULL, expires date NOT NULL DEFAULT 'infinity');
INSERT INTO mst.patrons SELECT g, 'patron ' || g FROM generate_series(0, 20000) g;
SELECT pals_privacy.bind_patrons('mst.patrons', 'id', 'expires');
CREATE TABLE mst.loans (id int PRIMARY KEY, patron_id bigint REFERENCES mst.patrons, item_id int NOT NULL,
                        out date NOT NULL, returned date);
INSERT INTO mst.loans
SELECT (i - 1) * 250 + g, CASE WHEN g <= 240 THEN 0 ELSE 1 + ((i * 250 + g) * 7919) % 20000 END, i,
       date '2000-01-01' + g * 20, date '2000-01-01' + g * 20 + 9
  FROM generate_series(1, 40) i CROSS JOIN generate_series(1, 250) g;
CREATE INDEX ON mst.loans (item_id, out);
CREATE TABLE mst.twin (LIKE mst.loans INCLUDING INDEXES);
INSERT INTO mst.twin SELECT * FROM mst.loans;
GRANT SELECT ON mst.patrons, mst.loans, mst.twin TO regress_mst_staff;
SELECT pals_privacy.bind_loans('mst.loans', 'patron_id', 'item_id', ARRAY['returned'], sever_with => 'patron:0');
ANALYZE mst.patrons, mst.loans, mst.twin;

-- a patron named only by hidden rows (not any item's last borrower), and one
-- named by a visible row (a last borrower)
SELECT min(patron_id) AS hidden FROM mst.loans l
 WHERE patron_id <> 0 AND patron_id NOT IN (SELECT patron_id FROM mst.loans WHERE id % 250 = 0) \gset
SELECT patron_id AS shown FROM mst.loans WHERE id = 250 \gset

-- The planner's row estimate for a query, and its plan.
CREATE FUNCTION mst.estimate(query text) RETURNS numeric LANGUAGE plpgsql AS $$
DECLARE
    plan json;
BEGIN
    EXECUTE 'EXPLAIN (FORMAT JSON) ' || query INTO plan;
    RETURN (plan -> 0 -> 'Plan' ->> 'Plan Rows')::numeric;
END $$;
CREATE FUNCTION mst.plan(query text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    line text;
    result text := '';
BEGIN
    FOR line IN EXECUTE 'EXPLAIN (COSTS OFF) ' || query LOOP
        result := result || line || E'\n';
    END LOOP;
    RETURN result;
END $$;
GRANT EXECUTE ON FUNCTION mst.estimate(text), mst.plan(text) TO regress_mst_staff;

SET ROLE regress_mst_staff;

-- What it is for: an item's borrowers grouped by name, the patron table
-- joined on the masked column, looks each loan's patron up by its key
-- (Memoize: most loans name the placeholder) instead of hashing every patron.
SELECT matches(mst.plan($$SELECT p.name, count(*) FROM mst.loans l JOIN mst.patrons p ON p.id = l.patron_id
                          WHERE l.item_id = 7 GROUP BY p.name$$),
               'Memoize.*Index Scan using patrons_pkey',
               'staff: an item''s borrowers are looked up by the patron table''s key, through Memoize');
SELECT is(mst.estimate('SELECT patron_id FROM mst.loans GROUP BY patron_id'),
          (SELECT mst.estimate('SELECT patron_id FROM mst.twin GROUP BY patron_id')),
          'staff: the number of patrons is estimated from the column''s distinct count (as for the unbound twin), not as one per loan');
-- and the answer is still the redacted one: the placeholder's loans (the 240 severed and the 9
-- hidden ones still naming a patron, which read as severing writes them) and the last borrower's
SELECT results_eq($$SELECT p.name, count(*) FROM mst.loans l JOIN mst.patrons p ON p.id = l.patron_id
                    WHERE l.item_id = 7 GROUP BY p.name ORDER BY 1$$,
                  $$VALUES ('patron 0', 249::bigint), ('patron ' || (SELECT ((7 * 250 + 250) * 7919) % 20000 + 1), 1::bigint)$$,
                  'staff: the item''s borrowers are the placeholder''s 249 loans (240 severed, 9 kept hidden) and its last borrower');

-- Trying to read values out of the estimates.  The mask's statistics serve
-- joins, Memoize and group counts.  A join to a table of the session's own
-- whose statistics say which value it holds (a temporary table of 100 rows
-- of one patron id, analyzed) would be estimated from the common values of
-- both sides if the mask had any (the equality of bigints is leakproof): the
-- placeholder names 96 % of the rows, a patron named only by hidden rows a
-- few.  It is estimated the same for each, and for a patron with no rows.
CREATE TEMPORARY TABLE probe (pid bigint);
CREATE FUNCTION pg_temp.probe_estimate(pid bigint) RETURNS numeric LANGUAGE plpgsql AS $$
BEGIN
    TRUNCATE pg_temp.probe;
    INSERT INTO pg_temp.probe SELECT pid FROM generate_series(1, 100);
    ANALYZE pg_temp.probe;
    RETURN mst.estimate('SELECT * FROM mst.loans l JOIN pg_temp.probe x ON x.pid = l.patron_id');
END $$;
SELECT is(pg_temp.probe_estimate(:hidden), pg_temp.probe_estimate(999999),
          'staff: a join to a patron named only by hidden rows is estimated as to a patron with no rows');
SELECT is(pg_temp.probe_estimate(:shown), pg_temp.probe_estimate(999999),
          'staff: and as to a patron named by a visible row');
SELECT is(pg_temp.probe_estimate(0), pg_temp.probe_estimate(999999),
          'staff: no common values: the placeholder''s 9,600 rows are not seen either');
-- conditions the rewrite keeps masked (inside an OR) are estimated without
-- value statistics too
SELECT is(mst.estimate(format('SELECT * FROM mst.loans WHERE patron_id = %s OR out < ''1900-01-01''', :hidden)),
          mst.estimate('SELECT * FROM mst.loans WHERE patron_id = 0 OR out < ''1900-01-01'''),
          'staff: a condition on a hidden patron is estimated as on the placeholder');
SELECT is(mst.estimate('SELECT * FROM mst.loans WHERE patron_id < 10 OR out < ''1900-01-01'''),
          mst.estimate('SELECT * FROM mst.loans WHERE patron_id < 19990 OR out < ''1900-01-01'''),
          'staff: no histogram: a range of patron ids is estimated the same wherever it lies');
SELECT is(mst.estimate(format('SELECT l.patron_id FROM mst.loans l WHERE l.item_id = 3 GROUP BY l.patron_id HAVING l.patron_id = %s', :hidden)),
          mst.estimate('SELECT l.patron_id FROM mst.loans l WHERE l.item_id = 3 GROUP BY l.patron_id HAVING l.patron_id = 999999'),
          'staff: a group of a hidden patron is estimated as a group of no one');
-- the statistics themselves stay out of reach
SELECT is((SELECT count(*) FROM pg_stats WHERE schemaname = 'mst' AND tablename = 'loans'), 0::bigint,
          'staff: pg_stats shows nothing of the bound table');
RESET ROLE;

-- An operational role plans on ANALYZE's statistics, as before: the
-- placeholder's common value shows in its estimate.
SELECT cmp_ok(pg_temp.probe_estimate(0), '>', 9000::numeric,
              'the ILS''s own role: the placeholder''s rows are estimated from ANALYZE''s common values');

SELECT * FROM finish();
ROLLBACK;
