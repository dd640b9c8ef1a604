-- The purge's closing statistics refresh (issue 17, purge cost): at its end
-- purge_expired() analyzes only the statistics that held a value of a row it
-- purged (_statistics_lookup before each batch, _statistics_check at its
-- end, _refresh_exposed_statistics).  Each case the skip could miss must
-- leave no purged value in pg_statistic, in an expression index's
-- statistics or in an extended statistics' MCV list: a value only in a
-- histogram, only in an MCV list, only in extended statistics, in an
-- expression index, in a copy, a value two patrons of different batches
-- share, statistics sampled after the lookup (an ANALYZE during the purge),
-- a row a trigger of the ILS deleted without naming the patron.  And what
-- held no purged value is left as it was.  Outside a transaction (the
-- procedure commits), cleaned up at the end.
\set pu_schema pst
\i test/purge/fixture.sql
SELECT plan(20);

-- members 1-20 expired (purged, in two batches of 10), 21-2000 kept: each relation holds a hundred
-- times the rows of a batch's members and more, or the lookup is not made (the relation counts as
-- found: _statistics_lookup, 'big')
CREATE TABLE pst.members (id bigint PRIMARY KEY, card text NOT NULL UNIQUE, name text NOT NULL, town text NOT NULL,
                          library int NOT NULL, expires date NOT NULL) WITH (autovacuum_enabled = false);
CREATE INDEX members_lower_name ON pst.members (lower(name));
INSERT INTO pst.members
SELECT g, format('CARD-%s', lpad(g::text, 4, '0')),
       CASE WHEN g <= 20 THEN 'Purged Name ' ELSE 'Kept Name ' END || g,
       CASE WHEN g IN (5, 15) THEN 'Shared Hamlet' ELSE 'Big City' END,
       g % 3, CASE WHEN g <= 20 THEN current_date - 400 ELSE 'infinity' END
  FROM generate_series(1, 2000) g;
-- loans: six of a purged member's, four of a kept one's (a severed loan keeps its note and
-- item: those are not the purge's to remove)
CREATE TABLE pst.loans (id int PRIMARY KEY, member_id bigint REFERENCES pst.members, item int NOT NULL,
                        returned timestamptz, note text) WITH (autovacuum_enabled = false);
INSERT INTO pst.loans
SELECT row_number() OVER (), m, m * 100 + k, now() - interval '300 days',
       CASE WHEN m <= 20 THEN 'Loan secret ' ELSE 'Kept note ' END || m
  FROM generate_series(1, 2000) m, generate_series(1, 6) k WHERE m <= 20 OR k <= 4;
-- a copy of the loans (its own text per row: histogram bounds)
CREATE TABLE pst.loan_copy (loan_id int, member_id bigint, copied text) WITH (autovacuum_enabled = false);
INSERT INTO pst.loan_copy SELECT id, member_id, format('Copied secret %s.%s', member_id, id) FROM pst.loans;
-- visits: a purged member's branch and slot only in the extended statistics' MCV list, its
-- note eight times (a most common value; a kept member's four times)
CREATE TABLE pst.visits (member_id bigint, branch text, slot text, note text) WITH (autovacuum_enabled = false);
INSERT INTO pst.visits
SELECT m, CASE WHEN m <= 20 THEN 'Branch ' || m ELSE 'Main' END, CASE WHEN m <= 20 THEN 'Slot ' || m ELSE 'Morning' END,
       CASE WHEN m <= 20 THEN 'Visit secret ' || m ELSE 'Kept visit ' || m END
  FROM generate_series(1, 2000) m, generate_series(1, 8) k WHERE m <= 20 OR k <= 4;
CREATE STATISTICS pst.visits_mcv (mcv) ON branch, slot FROM pst.visits;
-- late: never analyzed before the purge; a trigger of the ILS analyzes it once during the
-- purge, in the second batch, after that batch's lookup (as autovacuum could)
CREATE TABLE pst.late (member_id bigint, secret text) WITH (autovacuum_enabled = false);
INSERT INTO pst.late SELECT m, CASE WHEN m <= 20 THEN 'A late secret ' ELSE 'Late secret ' END || m FROM generate_series(1, 2000) m;   -- (theirs first: the histogram's lowest bound)
CREATE FUNCTION pst.analyze_late() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT FROM pst.members WHERE id <= 10)
       AND NOT EXISTS (SELECT FROM pg_statistic WHERE starelid = 'pst.late'::regclass) THEN
        ANALYZE pst.late;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER analyze_late BEFORE UPDATE ON pst.loans FOR EACH STATEMENT EXECUTE FUNCTION pst.analyze_late();
-- log: rows about a member without its id, deleted by a trigger of the ILS with the member
CREATE TABLE pst.log (member_id bigint, line text) WITH (autovacuum_enabled = false);
INSERT INTO pst.log SELECT NULL, 'About Purged Name ' || m FROM generate_series(1, 20) m, generate_series(1, 3) k;
INSERT INTO pst.log SELECT m, 'Visit ' || m FROM generate_series(21, 2000) m;
CREATE FUNCTION pst.forget_log() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM pst.log WHERE line = 'About ' || OLD.name;
    RETURN OLD;
END $$;
CREATE TRIGGER forget_log AFTER DELETE ON pst.members FOR EACH ROW EXECUTE FUNCTION pst.forget_log();
-- holds: only kept members' rows
CREATE TABLE pst.holds (id int PRIMARY KEY, member_id bigint REFERENCES pst.members, item int NOT NULL,
                        done timestamptz) WITH (autovacuum_enabled = false);
INSERT INTO pst.holds SELECT g, 21 + g % 1980, g, now() - interval '300 days' FROM generate_series(1, 400) g;

SELECT pals_privacy.bind_patrons('pst.members', 'id', 'expires', card_column => 'card', name_columns => '{name}');
SELECT pals_privacy.bind_loans('pst.loans', 'member_id', 'item', '{returned}');
SELECT pals_privacy.bind_loans('pst.holds', 'member_id', 'item', '{done}');
SELECT pals_privacy.bind_copy('pst.loan_copy', 'pst.loans', 'loan_id', patron_column => 'member_id', sever_with => 'delete');
SELECT pals_privacy.bind_private_history('pst.visits', 'member_id');
SELECT pals_privacy.bind_private_history('pst.late', 'member_id');
SELECT pals_privacy.bind_private_history('pst.log', 'member_id');
ANALYZE pst.members, pst.loans, pst.loan_copy, pst.visits, pst.log, pst.holds;
VACUUM pst.late;   -- its size known (pg_class.reltuples), its statistics none
-- the branch and slot columns' own statistics removed: the values are in the MCV list only
DELETE FROM pg_statistic WHERE starelid = 'pst.visits'::regclass AND staattnum IN (2, 3);

-- every value any statistic of a relation holds: pg_statistic of the relation and of its
-- indexes (all five slots), and its extended statistics' MCV items
CREATE FUNCTION pst.held(rel regclass) RETURNS text[] LANGUAGE sql AS $$
    SELECT coalesce(array_agg(v), '{}') FROM (
        SELECT unnest(coalesce(s.stavalues1::text::text[], '{}') || coalesce(s.stavalues2::text::text[], '{}')
                      || coalesce(s.stavalues3::text::text[], '{}') || coalesce(s.stavalues4::text::text[], '{}')
                      || coalesce(s.stavalues5::text::text[], '{}'))
          FROM pg_statistic s
         WHERE s.starelid = rel OR s.starelid IN (SELECT indexrelid FROM pg_index WHERE indrelid = rel)
        UNION ALL
        SELECT unnest(m.values)
          FROM pg_statistic_ext x JOIN pg_statistic_ext_data d ON d.stxoid = x.oid,
               pg_mcv_list_items(d.stxdmcv) m
         WHERE x.stxrelid = rel) t(v)
$$;
CREATE FUNCTION pst.col_held(rel regclass, col name) RETURNS text[] LANGUAGE sql AS $$
    SELECT coalesce(array_agg(v), '{}') FROM pg_stats s, unnest(coalesce(s.most_common_vals::text::text[], '{}')
                                                               || coalesce(s.histogram_bounds::text::text[], '{}')) v
     WHERE s.schemaname = 'pst' AND s.tablename = (SELECT relname FROM pg_class WHERE oid = rel) AND s.attname = col
$$;
CREATE FUNCTION pst.stat_xmin(rel regclass, col name) RETURNS text LANGUAGE sql AS $$
    SELECT xmin::text FROM pg_statistic
     WHERE starelid = rel AND staattnum = (SELECT attnum FROM pg_attribute WHERE attrelid = rel AND attname = col)
$$;
CREATE TABLE pst.before AS
SELECT pst.stat_xmin('pst.loans', 'id') AS id,
       ARRAY(SELECT copied FROM pst.loan_copy WHERE member_id <= 20) AS copied,
       (SELECT string_agg(xmin::text, ',' ORDER BY staattnum) FROM pg_statistic WHERE starelid = 'pst.holds'::regclass) AS holds;

-- before: each statistic holds what the case needs
SELECT ok((SELECT most_common_vals IS NULL AND histogram_bounds::text::text[] && ARRAY(SELECT format('CARD-%s', lpad(g::text, 4, '0')) FROM generate_series(1, 20) g)
             FROM pg_stats WHERE schemaname = 'pst' AND tablename = 'members' AND attname = 'card'),
          'before: purged members'' cards are in the card column''s histogram only (no MCV list)');
SELECT ok((SELECT most_common_vals::text::text[] && ARRAY(SELECT 'Visit secret ' || g FROM generate_series(1, 20) g)
             FROM pg_stats WHERE schemaname = 'pst' AND tablename = 'visits' AND attname = 'note'),
          'before: purged members'' visit notes are most common values');
SELECT ok(pst.held('pst.members') && ARRAY(SELECT 'purged name ' || g FROM generate_series(1, 20) g)
          AND pst.held('pst.members') && ARRAY['Shared Hamlet'],
          'before: the lower(name) index''s statistics hold purged names; the town column the two-member town');
SELECT ok(pst.held('pst.visits') && ARRAY(SELECT 'Branch ' || g FROM generate_series(1, 20) g)
          AND NOT EXISTS (SELECT FROM pg_stats WHERE schemaname = 'pst' AND tablename = 'visits' AND attname IN ('branch', 'slot')),
          'before: purged members'' branches are only in the extended statistics'' MCV list');
SELECT ok(pst.held('pst.loan_copy') && (SELECT copied FROM pst.before)
          AND pst.held('pst.log') && ARRAY(SELECT 'About Purged Name ' || g FROM generate_series(1, 20) g)
          AND NOT EXISTS (SELECT FROM pg_statistic WHERE starelid = 'pst.late'::regclass),
          'before: the copy and the log hold purged values; late has no statistics');

CALL pals_privacy.purge_expired(batch_size => 10) \gset
SELECT is((:'result'::jsonb ->> 'purged')::int, 20, 'the purge: 20 members purged, in two batches');
SELECT is((SELECT count(*)::int FROM pst.members), 1980, 'the purge: 1980 kept');

-- after: no purged value anywhere
SELECT ok(NOT pst.held('pst.members') && ARRAY(SELECT format('CARD-%s', lpad(g::text, 4, '0')) FROM generate_series(1, 20) g),
          'after: no purged card (a value only in a histogram)');
SELECT ok(NOT pst.held('pst.members') && ARRAY(SELECT 'Purged Name ' || g FROM generate_series(1, 20) g)
          AND NOT pst.col_held('pst.members', 'id') && ARRAY(SELECT g::text FROM generate_series(1, 20) g),
          'after: no purged name or id in the patron table''s columns');
SELECT ok(NOT pst.held('pst.members') && ARRAY(SELECT 'purged name ' || g FROM generate_series(1, 20) g),
          'after: no purged name in the expression index''s statistics');
SELECT ok(NOT pst.held('pst.members') && ARRAY['Shared Hamlet'],
          'after: the town two members of different batches shared is gone (the second batch''s lookup)');
SELECT ok(NOT pst.held('pst.visits') && ARRAY(SELECT 'Visit secret ' || g FROM generate_series(1, 20) g),
          'after: no purged visit note (a most common value)');
SELECT ok(NOT pst.col_held('pst.loans', 'member_id') && ARRAY(SELECT g::text FROM generate_series(1, 20) g),
          'after: no purged member id in the loans'' member column');
SELECT ok(NOT pst.held('pst.loan_copy') && (SELECT copied FROM pst.before),
          'after: no purged row''s text in the copy''s statistics');
SELECT ok(NOT pst.held('pst.visits') && ARRAY(SELECT 'Branch ' || g FROM generate_series(1, 20) g)
          AND NOT pst.held('pst.visits') && ARRAY(SELECT 'Slot ' || g FROM generate_series(1, 20) g),
          'after: no purged branch or slot in the extended statistics'' MCV list');
SELECT ok(NOT pst.held('pst.late') && ARRAY(SELECT 'A late secret ' || g FROM generate_series(1, 20) g),
          'after: statistics sampled after the lookup (a trigger''s ANALYZE during the purge) were sampled again');
SELECT ok(NOT pst.held('pst.log') && ARRAY(SELECT 'About Purged Name ' || g FROM generate_series(1, 20) g),
          'after: rows a trigger of the ILS deleted without naming the member: the relation analyzed in full');
-- what held no purged value is left as it was
SELECT is(pst.stat_xmin('pst.loans', 'id'), (SELECT id FROM pst.before),
          'skip: the loans'' id column (severed loans keep their ids, found by the primary key) was not analyzed again');
SELECT is((SELECT string_agg(xmin::text, ',' ORDER BY staattnum) FROM pg_statistic WHERE starelid = 'pst.holds'::regclass),
          (SELECT holds FROM pst.before), 'skip: the holds (no row of a purged member) were not analyzed again');

\i test/purge/done.sql

SELECT * FROM finish();
