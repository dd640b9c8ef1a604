-- Severed and kept rows read alike (issue 14).  A staff account can bring a
-- purge about (it sets a card's expiry), and a withdrawn opt-in severs a
-- patron's kept history at once: whoever compares a read before with a read
-- after must not learn which rows were that patron's.  So a row kept
-- identified (history kept in place for an opted-in patron) reads, for every
-- class that does not read its patron, as it will read once severed:
--   - sever_with => 'patron:<id>': staff read a hidden patron (and
--     requestor) as the placeholder, which severing writes (before: NULL,
--     and a severed row the placeholder);
--   - sever_with => 'null': NULL, as before;
--   - sever_with => 'delete': staff read no closed row whose patron they do
--     not read, collections and auditors (who read no loan's patron) only
--     the open rows, which no purge takes.
-- Three loan relations, one per strategy, the same history in each: patrons
-- 1, 2 and 6 opted in (history in place), 3 and 4 not, 5 has open loans;
-- a copy of the placeholder loans (bind_copy, 'patron:0': a notice per
-- loan), which reads a hidden source and a severed one alike; a generated
-- column computed from the patron (the ILS's 'patron ' || patron_id).
-- Each class reads every relation in many shapes (the rows whole, system
-- columns, joins to the patron table on each patron column, IS NULL,
-- IS DISTINCT FROM, GROUP BY, counts, WHERE on the placeholder as a
-- constant and as a parameter) before and after:
--   1. the purge of patron 1, whose rows every redacted class reads hidden:
--      every read the same (the operational role's differs: control);
--   2. the purge of patron 6, an item's last borrower with an unsettled
--      return and the requestor of a visible row: staff read differences
--      only in rows they read as patron 6's; collections and auditors none;
--   3. patron 2 withdrawing the opt-in (the ILS writes it): every read the
--      same.
-- The procedures COMMIT, so this file runs outside a transaction block and
-- cleans up after itself.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pals_privacy;
\set VERBOSITY terse

SELECT plan(63);

CREATE SCHEMA sr;
CREATE TABLE sr.patrons (id bigint PRIMARY KEY, name text NOT NULL, expires date NOT NULL DEFAULT 'infinity',
                         keep_history boolean NOT NULL DEFAULT false);
INSERT INTO sr.patrons (id, name, keep_history) VALUES
    (0, 'Placeholder', false), (1, 'Ada Kept', true), (2, 'Bo Kept', true), (3, 'Cy Severed', false),
    (4, 'Di Severed', false), (5, 'Ed Open', false), (6, 'Fay Visible', true);
CREATE TABLE sr.loans_ph (id int PRIMARY KEY, patron_id bigint NOT NULL REFERENCES sr.patrons, requestor bigint NOT NULL REFERENCES sr.patrons,
                          item_id int NOT NULL, branch text NOT NULL, checked_out timestamptz NOT NULL, returned timestamptz,
                          paid timestamptz);
CREATE TABLE sr.loans_null (LIKE sr.loans_ph);
ALTER TABLE sr.loans_null ALTER patron_id DROP NOT NULL, ALTER requestor DROP NOT NULL,
    ADD PRIMARY KEY (id), ADD FOREIGN KEY (patron_id) REFERENCES sr.patrons, ADD FOREIGN KEY (requestor) REFERENCES sr.patrons;
CREATE TABLE sr.loans_del (LIKE sr.loans_null);
ALTER TABLE sr.loans_del ALTER patron_id SET NOT NULL,
    ADD PRIMARY KEY (id), ADD FOREIGN KEY (patron_id) REFERENCES sr.patrons, ADD FOREIGN KEY (requestor) REFERENCES sr.patrons;
-- a copy of the placeholder loans' identity (bind_copy), re-pointed with them; a generated column
CREATE TABLE sr.notices (id int PRIMARY KEY, loan_id int NOT NULL, patron_id bigint NOT NULL REFERENCES sr.patrons, body text);
ALTER TABLE sr.loans_ph ADD COLUMN who text GENERATED ALWAYS AS ('patron ' || patron_id) STORED;
CREATE INDEX ON sr.loans_ph (patron_id);
CREATE INDEX ON sr.loans_null (patron_id);
CREATE INDEX ON sr.loans_del (patron_id);

\o /dev/null
SELECT pals_privacy.bind_patrons('sr.patrons', 'id', 'expires', keep_history_column => 'keep_history');
SELECT pals_privacy.bind_loans(t, 'patron_id', 'item_id', '{returned}', settled_column => 'paid', sever_with => s,
                               history_mode => 'in_place', more_patron_columns => '{requestor}', hide_columns => '{checked_out}')
  FROM (VALUES ('sr.loans_ph'::regclass, 'patron:0'), ('sr.loans_null', 'null'), ('sr.loans_del', 'delete')) b (t, s);
SELECT pals_privacy.bind_copy('sr.notices', 'sr.loans_ph', key_column => 'loan_id', patron_column => 'patron_id', sever_with => 'patron:0');
\o

CREATE ROLE regress_sr_ils;
CREATE ROLE regress_sr_staff;
CREATE ROLE regress_sr_aud;
CREATE ROLE regress_sr_coll;
\o /dev/null
SELECT pals_privacy.classify_role('regress_sr_ils', 'operational'), pals_privacy.classify_role('regress_sr_staff', 'staff'),
       pals_privacy.classify_role('regress_sr_aud', 'auditor'), pals_privacy.classify_role('regress_sr_coll', 'collections');
\o
GRANT USAGE ON SCHEMA sr TO regress_sr_ils, regress_sr_staff, regress_sr_aud, regress_sr_coll;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA sr TO regress_sr_ils, regress_sr_staff;
GRANT SELECT ON ALL TABLES IN SCHEMA sr TO regress_sr_aud, regress_sr_coll;

-- The history, written by the ILS as checkouts and returns (the severing
-- trigger keeps opted-in patrons' rows in place, severs the others'):
-- (item, patron, requestor, settled) in order; the last row of each item is
-- its last borrower.  Patron 1's rows are all hidden (never a last borrower,
-- all settled; the requestor of a kept row of patron 2 and of a severed one).
-- Patron 6 is item 3's last borrower, has an unsettled return (item 4) and
-- a hidden kept row (item 5), and placed item 1's last hold (requestor).
CREATE FUNCTION pg_temp.circulate(rel regclass) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    h int[] := ARRAY[[1, 1, 1, 1], [1, 3, 3, 1], [1, 2, 1, 1], [1, 4, 4, 1], [1, 3, 6, 1],
                     [2, 2, 2, 1], [2, 1, 1, 1], [2, 3, 1, 1], [2, 4, 4, 1],
                     [3, 3, 3, 1], [3, 1, 1, 1], [3, 2, 2, 1], [3, 6, 6, 1],
                     [4, 4, 4, 1], [4, 2, 2, 1], [4, 1, 1, 1], [4, 3, 3, 1], [4, 6, 6, 0],
                     [5, 6, 6, 1], [5, 2, 2, 1], [5, 3, 3, 1],
                     [6, 5, 5, 1], [6, 4, 4, 1], [6, 5, 5, -1]];
    at timestamptz := '2025-01-06 10:00+00';
BEGIN
    FOR i IN 1 .. array_length(h, 1) LOOP
        at := at + interval '1 day 1 hour';
        EXECUTE format('INSERT INTO %s (id, patron_id, requestor, item_id, branch, checked_out) VALUES ($1, $2, $3, $4, $5, $6)', rel)
          USING i, h[i][2], h[i][3], h[i][1], 'branch ' || (i % 3), at;
        IF h[i][4] >= 0 THEN
            EXECUTE format('UPDATE %s SET returned = $2, paid = CASE WHEN $3 THEN $2 END WHERE id = $1', rel)
              USING i, at + interval '3 days', h[i][4] = 1;
        END IF;
    END LOOP;
END $$;
SET ROLE regress_sr_ils;
SELECT pg_temp.circulate('sr.loans_ph'), pg_temp.circulate('sr.loans_null'), pg_temp.circulate('sr.loans_del');
-- a notice about every loan, naming its patron (the placeholder for those severed already)
INSERT INTO sr.notices SELECT id, id, patron_id, 'item ' || item_id || ' is due' FROM sr.loans_ph;
RESET ROLE;
ANALYZE sr.patrons, sr.loans_ph, sr.loans_null, sr.loans_del, sr.notices;

-- ground truth: each relation keeps patron 1's rows identified, has severed rows, and patron 6 is a last borrower
SELECT is((SELECT string_agg(format('%s:%s kept, %s severed', t, kept, severed), '; ' ORDER BY t)
             FROM (SELECT 'ph' t, count(*) FILTER (WHERE patron_id = 1) kept, count(*) FILTER (WHERE patron_id = 0) severed FROM sr.loans_ph
                   UNION ALL SELECT 'null', count(*) FILTER (WHERE patron_id = 1), count(*) FILTER (WHERE patron_id IS NULL) FROM sr.loans_null
                   UNION ALL SELECT 'del', count(*) FILTER (WHERE patron_id = 1), 24 - count(*) FROM sr.loans_del) x),
          'del:4 kept, 7 severed; null:4 kept, 7 severed; ph:4 kept, 7 severed',
          'ground truth: patron 1''s four rows are kept in place in each relation, seven rows of patrons 3, 4 and 5 severed');

CREATE FUNCTION pg_temp.plan_lines(q text) RETURNS SETOF text LANGUAGE plpgsql AS $$
BEGIN
    RETURN QUERY EXECUTE 'EXPLAIN (COSTS OFF) ' || q;
END $$;

-- One read: every shape, as one role, keyed so that two reads compare row by row.
CREATE TABLE pg_temp.reads (at text, who text, rel text, k text, v jsonb);
CREATE FUNCTION pg_temp.read_all(at text, who text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    rel text;
    q text;
    r record;
    got jsonb := '[]';
BEGIN
    BEGIN
        EXECUTE format('SET LOCAL ROLE %I', who);
        FOREACH rel IN ARRAY ARRAY['sr.loans_ph', 'sr.loans_null', 'sr.loans_del'] LOOP
            FOREACH q IN ARRAY ARRAY[
                -- the rows whole, their system columns, each patron column joined to the patron table
                'SELECT ''row '' || l.id AS k, jsonb_build_object(''whole'', to_jsonb(l), ''patron'', l.patron_id, ''requestor'', l.requestor,
                        ''null'', l.patron_id IS NULL, ''not_ph'', l.patron_id IS DISTINCT FROM 0, ''req_null'', l.requestor IS NULL,
                        ''xmin'', l.xmin, ''ctid'', l.ctid, ''tableoid'', l.tableoid::regclass, ''name'', p.name, ''req_name'', q.name) AS v
                   FROM %1$s l LEFT JOIN sr.patrons p ON p.id = l.patron_id LEFT JOIN sr.patrons q ON q.id = l.requestor',
                -- counts, groups
                'SELECT ''counts'' AS k, jsonb_build_object(''all'', count(*), ''null'', count(*) FILTER (WHERE patron_id IS NULL),
                        ''ph'', count(*) FILTER (WHERE patron_id = 0), ''distinct'', count(DISTINCT patron_id),
                        ''req_ph'', count(*) FILTER (WHERE requestor = 0), ''req_null'', count(*) FILTER (WHERE requestor IS NULL),
                        ''paid'', count(paid), ''out'', count(checked_out)) AS v FROM %1$s',
                'SELECT ''by patron '' || coalesce(patron_id::text, ''-'') AS k, jsonb_build_object(''n'', count(*), ''items'', array_agg(item_id ORDER BY item_id)) AS v
                   FROM %1$s GROUP BY patron_id',
                'SELECT ''by requestor '' || coalesce(requestor::text, ''-'') AS k, jsonb_build_object(''n'', count(*)) AS v FROM %1$s GROUP BY requestor',
                'SELECT ''joined '' || p.name AS k, jsonb_build_object(''n'', count(*)) AS v FROM %1$s l JOIN sr.patrons p ON p.id = l.patron_id GROUP BY p.name',
                'SELECT ''by item '' || item_id AS k, jsonb_build_object(''n'', count(*), ''patrons'', count(DISTINCT patron_id)) AS v FROM %1$s GROUP BY item_id',
                -- conditions on the placeholder and on patrons (as a security qual where that is exact)
                'SELECT ''where placeholder'' AS k, to_jsonb(array_agg(id ORDER BY id)) AS v FROM %1$s WHERE patron_id = 0',
                'SELECT ''where in'' AS k, to_jsonb(array_agg(id ORDER BY id)) AS v FROM %1$s WHERE patron_id IN (0, 1, 6)',
                'SELECT ''where 1'' AS k, to_jsonb(array_agg(id ORDER BY id)) AS v FROM %1$s WHERE patron_id = 1',
                'SELECT ''where requestor placeholder'' AS k, to_jsonb(array_agg(id ORDER BY id)) AS v FROM %1$s WHERE requestor = 0',
                'SELECT ''where not null'' AS k, to_jsonb(array_agg(id ORDER BY id)) AS v FROM %1$s WHERE patron_id IS NOT NULL AND patron_id <> 0']
            LOOP
                FOR r IN EXECUTE format(q, rel) LOOP
                    got := got || jsonb_build_array(jsonb_build_array(rel, r.k, r.v));
                END LOOP;
            END LOOP;
            -- a parameter (EXECUTE ... USING: a custom plan) equal to the placeholder, and one that is not
            EXECUTE format('SELECT to_jsonb(array_agg(id ORDER BY id)) FROM %s WHERE patron_id = $1', rel) USING 0 INTO r;
            got := got || jsonb_build_array(jsonb_build_array(rel, 'param placeholder', to_jsonb(r)));
            EXECUTE format('SELECT to_jsonb(array_agg(id ORDER BY id)) FROM %s WHERE patron_id = $1', rel) USING 1 INTO r;
            got := got || jsonb_build_array(jsonb_build_array(rel, 'param 1', to_jsonb(r)));
        END LOOP;
        -- the copy: its rows whole, joined to the patron table, counts by patron, the placeholder
        FOREACH q IN ARRAY ARRAY[
            'SELECT ''row '' || n.id AS k, jsonb_build_object(''whole'', to_jsonb(n), ''patron'', n.patron_id, ''name'', p.name,
                    ''null'', n.patron_id IS NULL, ''not_ph'', n.patron_id IS DISTINCT FROM 0, ''xmin'', n.xmin, ''ctid'', n.ctid) AS v
               FROM sr.notices n LEFT JOIN sr.patrons p ON p.id = n.patron_id',
            'SELECT ''by patron '' || coalesce(patron_id::text, ''-'') AS k, jsonb_build_object(''n'', count(*)) AS v FROM sr.notices GROUP BY patron_id',
            'SELECT ''where placeholder'' AS k, to_jsonb(array_agg(id ORDER BY id)) AS v FROM sr.notices WHERE patron_id = 0',
            'SELECT ''joined '' || p.name AS k, jsonb_build_object(''n'', count(*)) AS v FROM sr.notices n JOIN sr.patrons p ON p.id = n.patron_id GROUP BY p.name']
        LOOP
            FOR r IN EXECUTE q LOOP
                got := got || jsonb_build_array(jsonb_build_array('sr.notices', r.k, r.v));
            END LOOP;
        END LOOP;
        RAISE EXCEPTION 'pals_sameread_rollback';
    EXCEPTION WHEN raise_exception THEN
        IF SQLERRM <> 'pals_sameread_rollback' THEN
            RAISE;
        END IF;
    END;
    INSERT INTO pg_temp.reads SELECT at, who, e ->> 0, e ->> 1, e -> 2 FROM jsonb_array_elements(got) e;
END $$;
CREATE FUNCTION pg_temp.read_everyone(at text) RETURNS void LANGUAGE sql AS $$
    SELECT pg_temp.read_all(at, w) FROM unnest(ARRAY['regress_sr_ils', 'regress_sr_staff', 'regress_sr_aud', 'regress_sr_coll']) w
$$;
-- the keys whose reading differs between two reads of one role and relation
CREATE FUNCTION pg_temp.differ(a text, b text, who text, rel text) RETURNS text LANGUAGE sql AS $$
    SELECT coalesce(string_agg(k, ', ' ORDER BY k), '') FROM (
        SELECT coalesce(x.k, y.k) AS k FROM
          (SELECT k, v FROM pg_temp.reads WHERE at = a AND who = differ.who AND rel = differ.rel) x
          FULL JOIN (SELECT k, v FROM pg_temp.reads WHERE at = b AND who = differ.who AND rel = differ.rel) y ON x.k = y.k
         WHERE x.v IS DISTINCT FROM y.v) d
$$;
-- of them, the rows the role did not read as the patron's (as patron or requestor) in the first read
CREATE FUNCTION pg_temp.differ_unexplained(a text, b text, who text, rel text, patron bigint) RETURNS text LANGUAGE sql AS $$
    SELECT coalesce(string_agg(d, ', ' ORDER BY d), '') FROM unnest(string_to_array(nullif(pg_temp.differ(a, b, who, rel), ''), ', ')) d
     WHERE d LIKE 'row %'
       AND NOT EXISTS (SELECT 1 FROM pg_temp.reads r WHERE r.at = a AND r.who = differ_unexplained.who AND r.rel = differ_unexplained.rel
                          AND r.k = d AND (r.v ->> 'patron' = patron::text OR r.v ->> 'requestor' = patron::text))
$$;

SELECT pg_temp.read_everyone('start');
SELECT is((SELECT count(*) FROM pg_temp.reads WHERE at = 'start' AND who = 'regress_sr_staff' AND rel = 'sr.loans_ph' AND k LIKE 'row %'
              AND v ->> 'patron' = '0' AND v ->> 'requestor' = '0'), 17::bigint,
          'staff, placeholder: the ten kept rows (patrons 1, 2, 6) read the placeholder patron and requestor, as the seven severed ones do');

-- a generated column computed from the patron reads as computed from what staff read of it
SET ROLE regress_sr_staff;
SELECT is((SELECT string_agg(id || ':' || coalesce(who, '-'), ' ' ORDER BY id) FROM sr.loans_ph WHERE id IN (2, 5, 16)),
          '2:patron 0 5:patron 3 16:patron 0',
          'staff: a generated column of the patron reads ''patron 0'' on a kept row as on a severed one (the last borrower''s reads: control)');
SELECT is((SELECT count(*) FROM sr.loans_ph WHERE who = 'patron 1'), 0::bigint, 'staff: no hidden row found by the generated column');
RESET ROLE;

-- 1. a staff account sets patron 1's expiry; the purge (the worker, here the superuser) follows
SET ROLE regress_sr_staff;
UPDATE sr.patrons SET expires = '2000-01-01' WHERE id = 1;
RESET ROLE;
\o /dev/null
CALL pals_privacy.purge_expired() \gset
\o
SELECT is((:'result'::jsonb ->> 'purged'), '1', 'the purge took patron 1');
SELECT is((SELECT count(*) FROM (SELECT patron_id FROM sr.loans_ph UNION ALL SELECT patron_id FROM sr.loans_null
                                  UNION ALL SELECT patron_id FROM sr.loans_del) x WHERE patron_id = 1), 0::bigint,
          'control: no row names patron 1 any more');
SELECT pg_temp.read_everyone('purged 1');
SELECT isnt(pg_temp.differ('start', 'purged 1', 'regress_sr_ils', r), '', 'control: the ILS reads the purge of patron 1 in ' || r)
  FROM unnest(ARRAY['sr.loans_ph', 'sr.loans_null', 'sr.loans_del', 'sr.notices']) r;
SELECT is(pg_temp.differ('start', 'purged 1', w, r), '', w || ': every read of ' || r || ' the same before and after the purge of patron 1')
  FROM unnest(ARRAY['regress_sr_staff', 'regress_sr_aud', 'regress_sr_coll']) w, unnest(ARRAY['sr.loans_ph', 'sr.loans_null', 'sr.loans_del', 'sr.notices']) r;

-- 2. patron 6: the rows staff read as theirs change, no other
SET ROLE regress_sr_staff;
UPDATE sr.patrons SET expires = '2000-01-01' WHERE id = 6;
RESET ROLE;
SELECT pg_temp.read_everyone('before 6');
\o /dev/null
CALL pals_privacy.purge_expired() \gset
\o
SELECT is((:'result'::jsonb ->> 'purged'), '1', 'the purge took patron 6');
SELECT isnt(pg_temp.differ('before 6', 'purged 6', 'regress_sr_staff', r), '', 'control: staff read the change of patron 6''s visible rows in ' || r)
  FROM (SELECT pg_temp.read_everyone('purged 6')) x, unnest(ARRAY['sr.loans_ph', 'sr.loans_null', 'sr.loans_del', 'sr.notices']) r;
SELECT is(pg_temp.differ_unexplained('before 6', 'purged 6', 'regress_sr_staff', r, 6), '',
          'staff: of ' || r || ', only rows read as patron 6''s read differently after their purge')
  FROM unnest(ARRAY['sr.loans_ph', 'sr.loans_null', 'sr.loans_del', 'sr.notices']) r;
SELECT is(pg_temp.differ('before 6', 'purged 6', w, r), '', w || ': every read of ' || r || ' the same before and after the purge of patron 6')
  FROM unnest(ARRAY['regress_sr_aud', 'regress_sr_coll']) w, unnest(ARRAY['sr.loans_ph', 'sr.loans_null', 'sr.loans_del', 'sr.notices']) r;

-- 3. patron 2 withdraws the opt-in (at the ILS): the kept rows are severed at once
SET ROLE regress_sr_ils;
UPDATE sr.patrons SET keep_history = false WHERE id = 2;
RESET ROLE;
SELECT is((SELECT count(*) FROM (SELECT patron_id FROM sr.loans_ph UNION ALL SELECT patron_id FROM sr.loans_null
                                  UNION ALL SELECT patron_id FROM sr.loans_del) x WHERE patron_id = 2), 0::bigint,
          'control: the withdrawal severed patron 2''s kept rows');
SELECT pg_temp.read_everyone('withdrawn 2');
SELECT is(pg_temp.differ('purged 6', 'withdrawn 2', w, r), '', w || ': every read of ' || r || ' the same before and after patron 2 withdrew')
  FROM unnest(ARRAY['regress_sr_staff', 'regress_sr_aud', 'regress_sr_coll']) w, unnest(ARRAY['sr.loans_ph', 'sr.loans_null', 'sr.loans_del', 'sr.notices']) r;

-- what each class reads on each relation now (the rule, spelled out)
SELECT is((SELECT string_agg(k || '=' || v::text, ' ' ORDER BY k) FROM pg_temp.reads
            WHERE at = 'start' AND who = 'regress_sr_staff' AND rel = 'sr.loans_ph' AND k IN ('where placeholder', 'param placeholder', 'where 1', 'param 1')),
          'param 1={"to_jsonb": null} param placeholder={"to_jsonb": [1, 2, 3, 4, 6, 7, 8, 10, 11, 12, 14, 15, 16, 17, 19, 20, 22]} where 1=null where placeholder=[1, 2, 3, 4, 6, 7, 8, 10, 11, 12, 14, 15, 16, 17, 19, 20, 22]',
          'staff: WHERE patron_id = 0 (a constant or a parameter) finds the kept rows with the severed ones; = 1 finds no hidden row');
SELECT is((SELECT string_agg(k || '=' || (v ->> 'n'), ' ' ORDER BY k) FROM pg_temp.reads
            WHERE at = 'start' AND who = 'regress_sr_staff' AND rel = 'sr.loans_ph' AND k LIKE 'joined %'),
          'joined Cy Severed=2 joined Di Severed=2 joined Ed Open=1 joined Fay Visible=2 joined Placeholder=17',
          'staff: joined to the patron table, the kept rows go with the severed ones to the placeholder patron');
SELECT is((SELECT string_agg(k, ' ' ORDER BY k) FROM pg_temp.reads
            WHERE at = 'start' AND who = 'regress_sr_staff' AND rel = 'sr.loans_del' AND k LIKE 'row %'),
          'row 13 row 18 row 21 row 23 row 24 row 5 row 9',
          'staff, ''delete'': the open and unsettled rows and the last borrowers only');
SELECT is((SELECT string_agg(k, ' ' ORDER BY k) FROM pg_temp.reads
            WHERE at = 'start' AND who IN ('regress_sr_aud', 'regress_sr_coll') AND rel = 'sr.loans_del' AND k LIKE 'row %'),
          'row 24 row 24', 'collections and auditors, ''delete'': the open rows only');
SELECT is((SELECT count(*) FROM pg_temp.reads WHERE at = 'start' AND who = 'regress_sr_ils' AND rel = 'sr.loans_del' AND k LIKE 'row %'),
          17::bigint, 'control: the ILS reads every row of ''delete'' (the kept rows of patrons 1, 2 and 6 too)');
SELECT is((SELECT string_agg(DISTINCT v ->> 'patron', ',') FROM pg_temp.reads
            WHERE at = 'start' AND who IN ('regress_sr_aud', 'regress_sr_coll') AND rel IN ('sr.loans_ph', 'sr.loans_null') AND k LIKE 'row %'),
          NULL, 'collections and auditors read no patron, severed or kept, on the other bindings');

-- an index still serves a condition on a patron that is not the placeholder (staff)
SET ROLE regress_sr_staff;
SET enable_seqscan = off;
SELECT ok(EXISTS (SELECT 1 FROM (SELECT pg_temp.plan_lines('SELECT id FROM sr.loans_ph WHERE patron_id = 3')) p (l) WHERE l LIKE '%Index Cond: (patron_id = 3)%'),
          'staff, placeholder: WHERE patron_id = 3 is an index condition');
SELECT ok(NOT EXISTS (SELECT 1 FROM (SELECT pg_temp.plan_lines('SELECT id FROM sr.loans_ph WHERE patron_id = 0')) p (l) WHERE l LIKE '%Index Cond%'),
          'staff, placeholder: WHERE patron_id = 0 (the placeholder) is no index condition: it is read on the mask');
PREPARE sr_by_patron(bigint) AS SELECT id FROM sr.loans_ph WHERE patron_id = $1;
SELECT ok(EXISTS (SELECT 1 FROM (SELECT pg_temp.plan_lines('EXECUTE sr_by_patron(3)')) p (l) WHERE l LIKE '%Index Cond: (patron_id = ''3''::bigint)%'),
          'staff, placeholder: a prepared statement''s custom plan for patron 3 uses the index (the parameter''s value is known)');
SELECT ok(NOT EXISTS (SELECT 1 FROM (SELECT pg_temp.plan_lines('EXECUTE sr_by_patron(0)')) p (l) WHERE l LIKE '%Index Cond%'),
          'staff, placeholder: ... and for the placeholder it reads the mask');
DEALLOCATE sr_by_patron;
RESET enable_seqscan;
RESET ROLE;

DO $$ BEGIN
    PERFORM pals_privacy.unbind_copy('sr.notices');
    PERFORM pals_privacy.unbind('sr.loans_ph');
    PERFORM pals_privacy.unbind('sr.loans_null');
    PERFORM pals_privacy.unbind('sr.loans_del');
    PERFORM pals_privacy.unbind('sr.patrons');
END $$;
DROP SCHEMA sr CASCADE;
\o /dev/null
SELECT pals_privacy.unclassify_role(r::regrole) FROM unnest(ARRAY['regress_sr_ils', 'regress_sr_staff', 'regress_sr_aud', 'regress_sr_coll']) r;
\o
DROP ROLE regress_sr_ils, regress_sr_staff, regress_sr_aud, regress_sr_coll;
DELETE FROM pals_privacy.maintenance_runs;
SELECT is((SELECT count(*) FROM pals_privacy.bindings) + (SELECT count(*) FROM pals_privacy.private_history)
          + (SELECT count(*) FROM pals_privacy.last_borrower) + (SELECT count(*) FROM pals_privacy.sever_pending),
          0::bigint, 'nothing left bound, no severing state left');

SELECT * FROM finish();
