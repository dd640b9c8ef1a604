-- Attacks on the three mechanisms of the 2026-12-05 session (helper attack8): the
-- purge's statistics refresh that analyzes only the statistics holding a purged
-- value (_statistics_lookup, _statistics_check, _refresh_exposed_statistics).
-- Each attempt compares what is left in pg_statistic after
-- CALL pals_privacy.purge_expired() with the superuser's ground truth, after a
-- control showing the value was there before.  Closed doors are regression
-- checks; open ones are asserted as they stand, named "HOLE:" (a fix makes
-- them fail: turn them round then).  A database of its own: the purge commits.
SELECT current_database() AS as8_home \gset
\o /dev/null
SET client_min_messages = warning;
DROP DATABASE IF EXISTS attack_session8 WITH (FORCE);
CREATE DATABASE attack_session8;
\c attack_session8
SET client_min_messages = warning;
\set VERBOSITY terse
CREATE EXTENSION pals_privacy;
CREATE EXTENSION pgtap;
-- members 1-10 expired (purged), 11-2000 kept; every column's statistics hold every value
-- (SET STATISTICS 10000: a sample of every row, each distinct value a histogram bound)
CREATE SCHEMA a8;
CREATE TABLE a8.members (id bigint PRIMARY KEY, card char(12) NOT NULL UNIQUE, name text NOT NULL,
                         email text NOT NULL, note text, expires date NOT NULL) WITH (autovacuum_enabled = false);
INSERT INTO a8.members
SELECT g, format('C%s', lpad(g::text, 4, '0')), format('Member Name %s', g), format('m%s@old.example', g),
       CASE WHEN g = 7 THEN 'Moved from 12 Elm Street' WHEN g > 1900 THEN 'Desk note ' || g END,
       CASE WHEN g <= 10 THEN current_date - 400 ELSE 'infinity' END
  FROM generate_series(1, 2000) g;
-- loans, only updated by the purge (their member column cleared): a stored generated column of
-- the ILS derived from the member column
CREATE TABLE a8.loans (id int PRIMARY KEY, member_id bigint REFERENCES a8.members, item int NOT NULL,
                       returned timestamptz, tag text GENERATED ALWAYS AS ('member-' || member_id) STORED)
    WITH (autovacuum_enabled = false);
INSERT INTO a8.loans (id, member_id, item, returned)
SELECT row_number() OVER (), m, m * 10 + k, now() - interval '300 days' FROM generate_series(1, 2000) m, generate_series(1, 3) k;
-- visits: the address a member logged in from (inet), one per member
CREATE TABLE a8.visits (member_id bigint, ip inet, note text) WITH (autovacuum_enabled = false);
INSERT INTO a8.visits SELECT m, format('10.%s.%s.%s', m / 65536, (m / 256) % 256, m % 256)::inet, 'visit ' || m
  FROM generate_series(1, 2000) m;
-- an inheritance child of the visits, created after the binding
CREATE TABLE a8.sessions (member_id bigint, token text) WITH (autovacuum_enabled = false);
INSERT INTO a8.sessions SELECT m, 'token-' || m FROM generate_series(1, 2000) m;
ALTER TABLE a8.members ALTER card SET STATISTICS 10000, ALTER name SET STATISTICS 10000,
                       ALTER email SET STATISTICS 10000, ALTER note SET STATISTICS 10000, ALTER id SET STATISTICS 10000;
ALTER TABLE a8.loans ALTER tag SET STATISTICS 10000, ALTER member_id SET STATISTICS 10000;
ALTER TABLE a8.visits ALTER ip SET STATISTICS 10000, ALTER note SET STATISTICS 10000;

SELECT pals_privacy.bind_patrons('a8.members', 'id', 'expires', card_column => 'card', name_columns => '{name}');
SELECT pals_privacy.bind_loans('a8.loans', 'member_id', 'item', '{returned}');
SELECT pals_privacy.bind_private_history('a8.visits', 'member_id');
SELECT pals_privacy.bind_private_history('a8.sessions', 'member_id');
-- after the binding: a child table of the sessions holding purged members' tokens
CREATE TABLE a8.sessions_old () INHERITS (a8.sessions) WITH (autovacuum_enabled = false);
INSERT INTO a8.sessions_old SELECT m, 'old-token-' || m FROM generate_series(1, 2000) m;
ALTER TABLE a8.sessions_old ALTER token SET STATISTICS 10000;
ANALYZE a8.members, a8.loans, a8.visits, a8.sessions, a8.sessions_old;
-- (kept members 1901-2000 have notes too)
-- member 7's note (a former address) cleared by the desk after the last ANALYZE, before the purge
UPDATE a8.members SET note = NULL WHERE id = 7;

-- every value of a relation's statistics (the superuser's ground truth): pg_statistic of the
-- relation (both inheritance flags) and of its indexes, and its extended statistics' MCV items
CREATE FUNCTION a8.held(rel regclass) RETURNS text[] LANGUAGE sql AS $$
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
\o
SELECT plan(16);

-- the values each attempt needs, in the statistics before the purge
SELECT ok(a8.held('a8.members') && ARRAY(SELECT format('C%s', lpad(g::text, 4, '0'))::char(12)::text || '       ' FROM generate_series(1, 9) g),
          'control: purged members'' cards (char(12), blank-padded) are in the card column''s statistics');
SELECT ok(a8.held('a8.members') && ARRAY['Moved from 12 Elm Street'],
          'control: member 7''s former note is in the note column''s statistics (the row no longer holds it)');
SELECT ok(a8.held('a8.loans') && ARRAY(SELECT 'member-' || g FROM generate_series(1, 10) g),
          'control: purged members'' ids, through the generated tag column, are in the loans'' statistics');
SELECT ok(a8.held('a8.visits') && ARRAY(SELECT format('10.0.0.%s', g) FROM generate_series(1, 10) g),
          'control: purged members'' addresses (inet) are in the visits'' statistics');
SELECT ok(a8.held('a8.sessions_old') && ARRAY(SELECT 'old-token-' || g FROM generate_series(1, 10) g)
          AND a8.held('a8.sessions') && ARRAY(SELECT 'old-token-' || g FROM generate_series(1, 10) g),
          'control: a child table made after the binding: its tokens in its own and its parent''s inherited statistics');
SELECT ok(a8.held('a8.members') && ARRAY(SELECT format('Member Name %s', g) FROM generate_series(1, 10) g)
          AND a8.held('a8.visits') && ARRAY(SELECT 'visit ' || g FROM generate_series(1, 10) g),
          'control: purged names and visit notes are in the statistics');

CALL pals_privacy.purge_expired() \gset
SELECT is((:'result'::jsonb ->> 'purged')::int, 10, 'the purge: members 1-10 purged');
SELECT ok(NOT EXISTS (SELECT FROM a8.members WHERE id <= 10 OR card::text IN ('C0003', 'C0007') OR note LIKE 'Moved%')
          AND NOT EXISTS (SELECT FROM a8.loans WHERE tag = 'member-3') AND NOT EXISTS (SELECT FROM a8.visits WHERE ip = '10.0.0.3')
          AND NOT EXISTS (SELECT FROM a8.sessions WHERE token = 'old-token-3'),
          'ground truth: no row holds the purged values any more');

-- closed doors
SELECT ok(NOT a8.held('a8.members') && ARRAY(SELECT format('Member Name %s', g) FROM generate_series(1, 10) g)
          AND NOT a8.held('a8.members') && ARRAY(SELECT g::text FROM generate_series(1, 10) g),
          'closed: no purged name or id in the patron table''s statistics');
SELECT ok(NOT a8.held('a8.visits') && ARRAY(SELECT 'visit ' || g FROM generate_series(1, 10) g),
          'closed: no purged visit note');
SELECT ok(NOT a8.held('a8.sessions_old') && ARRAY(SELECT 'old-token-' || g FROM generate_series(1, 10) g)
          AND NOT a8.held('a8.sessions') && ARRAY(SELECT 'old-token-' || g FROM generate_series(1, 10) g),
          'closed: a child table made after the binding: no purged token in its statistics or its parent''s inherited ones');

-- open doors, asserted as they stand
SELECT ok(a8.held('a8.members') && ARRAY(SELECT format('C%s', lpad(g::text, 4, '0'))::char(12)::text || '       ' FROM generate_series(1, 9) g),
          'HOLE: purged cards stay in a char(n) column''s statistics (the lookup compares card::text, blank-trimmed, with the padded values)');
SELECT ok(a8.held('a8.loans') && ARRAY(SELECT 'member-' || g FROM generate_series(1, 10) g),
          'HOLE: purged members'' ids stay in a stored generated column of a loan relation the purge only updates (upd_only keeps every non-patron column)');
SELECT ok(a8.held('a8.visits') && ARRAY(SELECT format('10.0.0.%s', g) FROM generate_series(1, 10) g),
          'HOLE: purged members'' addresses stay in an inet column''s statistics (ip::text is 10.0.0.3/32, the statistic 10.0.0.3)');
SELECT ok(a8.held('a8.members') && ARRAY['Moved from 12 Elm Street'],
          'HOLE: a purged member''s former value (changed since the last ANALYZE) stays: the lookup compares the rows as they are now');
SELECT ok(EXISTS (SELECT FROM pg_stats WHERE schemaname = 'a8' AND tablename = 'members' AND attname = 'card'
                    AND histogram_bounds::text LIKE '%C0003%'),
          'HOLE: and pg_stats shows the purged card to any role that may read the column');

SELECT * FROM finish();
\o /dev/null
\c :as8_home
DROP DATABASE attack_session8 WITH (FORCE);
