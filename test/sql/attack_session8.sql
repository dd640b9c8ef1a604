-- Attacks on the mechanisms of the 2026-12-05 session (helper attack8): the
-- purge's statistics refresh (a refresh that analyzed only the statistics found
-- holding a purged value was tried and left out: it missed char(n) and inet
-- values, generated columns, values changed since the last ANALYZE, a run
-- cancelled halfway; every check here failed with it); bind_account's
-- purge_with after a soft-deleting purge (a ledger trigger writing the patron
-- back, a desk's payment for a purged patron sampled by ANALYZE); bind_loans'
-- last_borrower_group, as a desk (class staff); a partition attached after
-- binding, an inheritance child, extended statistics on (patron, item); a
-- generated column of the patron under sever_backlog().  Each attempt compares
-- what is left in pg_statistic after CALL pals_privacy.purge_expired() with
-- the superuser's ground truth, after a control showing the value was there
-- before.  Holes would be named "HOLE:"; none is open.  A database of its own:
-- the purge commits.
\o /dev/null
\set own_db attack_session8
\set own_roles regress_as8_desk
\i test/own_database.sql
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
SELECT plan(43);

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

-- doors a refresh that analyzed only the statistics found holding a purged value left open
-- (purge7, not merged: the purge analyzes every bound relation in full)
SELECT ok(NOT a8.held('a8.members') && ARRAY(SELECT format('C%s', lpad(g::text, 4, '0'))::char(12)::text || '       ' FROM generate_series(1, 9) g),
          'closed: no purged card in a char(n) column''s statistics');
SELECT ok(NOT a8.held('a8.loans') && ARRAY(SELECT 'member-' || g FROM generate_series(1, 10) g),
          'closed: no purged member''s id in a stored generated column of a loan relation the purge only updates');
SELECT ok(NOT a8.held('a8.visits') && ARRAY(SELECT format('10.0.0.%s', g) FROM generate_series(1, 10) g),
          'closed: no purged member''s address in an inet column''s statistics');
SELECT ok(NOT a8.held('a8.members') && ARRAY['Moved from 12 Elm Street'],
          'closed: no purged member''s former value (changed since the last ANALYZE)');
SELECT ok(NOT EXISTS (SELECT FROM pg_stats WHERE schemaname = 'a8' AND tablename = 'members' AND attname = 'card'
                        AND histogram_bounds::text LIKE '%C0003%'),
          'closed: and pg_stats shows no purged card, even to the superuser');

------------------------------------------------------------------------------
-- bind_account(..., purge_with) after a soft-deleting purge function
------------------------------------------------------------------------------
\o /dev/null
\set unbind_schema a8
\i test/unbind_schema.sql
\o
CREATE SCHEMA ac;
CREATE TABLE ac.patrons (id bigint PRIMARY KEY, name text NOT NULL, expires date NOT NULL, deleted boolean NOT NULL DEFAULT false);
INSERT INTO ac.patrons VALUES (0, 'anonymous', 'infinity'), (801, 'Ann Purged', current_date - 200), (802, 'Ben Kept', 'infinity');
-- payments first (the lower oid: the purge gives them purge_with first), then charges
CREATE TABLE ac.payments (id serial PRIMARY KEY, patron_id bigint REFERENCES ac.patrons, amount numeric NOT NULL, memo text);
CREATE TABLE ac.charges (id serial PRIMARY KEY, patron_id bigint REFERENCES ac.patrons, amount numeric NOT NULL);
-- the ILS's ledger: a change to a charge is written as a payment row of the charge's (old) patron
CREATE FUNCTION ac.ledger() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO ac.payments (patron_id, amount, memo) VALUES (OLD.patron_id, 0, 'charge ' || OLD.id || ' changed');
    RETURN NULL;
END $$;
CREATE TRIGGER ledger AFTER UPDATE ON ac.charges FOR EACH ROW EXECUTE FUNCTION ac.ledger();
INSERT INTO ac.charges (patron_id, amount) VALUES (801, 1.5), (802, 2.5);
INSERT INTO ac.payments (patron_id, amount) VALUES (801, 1.0), (802, 1.0);
-- the ILS's purge routine: a soft delete
CREATE FUNCTION ac.forget(p bigint) RETURNS void LANGUAGE sql AS $$
    UPDATE ac.patrons SET deleted = true, name = 'forgotten', expires = current_date WHERE id = p;
$$;
GRANT USAGE ON SCHEMA ac TO regress_as8_desk;
GRANT SELECT, INSERT ON ALL TABLES IN SCHEMA ac TO regress_as8_desk;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA ac TO regress_as8_desk;
\o /dev/null
SELECT pals_privacy.bind_patrons('ac.patrons', 'id', 'expires', purge_function => 'ac.forget(bigint)');
SELECT pals_privacy.bind_account('ac.payments', 'patron_id');
SELECT pals_privacy.bind_account('ac.charges', 'patron_id');
SELECT pals_privacy.classify_role('regress_as8_desk', 'staff');
\o
SELECT is((SELECT count(*) FROM ac.payments WHERE patron_id = 801) + (SELECT count(*) FROM ac.charges WHERE patron_id = 801), 2::bigint,
          'control: a payment and a charge name patron 801 before the purge');
CALL pals_privacy.purge_expired() \gset
SELECT is((:'result'::jsonb ->> 'purged')::int, 1, 'the purge: patron 801 purged (soft-deleted by the ILS''s function)');
SELECT is((SELECT count(*) FROM ac.charges WHERE patron_id = 801), 0::bigint, 'closed: no charge names the purged patron');
SET ROLE regress_as8_desk;
SELECT is((SELECT count(*) FROM ac.payments WHERE patron_id = 801), 0::bigint,
          'closed: the desk reads no purged patron''s id in the payment the ILS''s trigger wrote while the purge cleared the charges (another pass cleared it)');
RESET ROLE;
SELECT is((SELECT count(*) FROM ac.payments WHERE memo = 'charge 1 changed' AND patron_id IS DISTINCT FROM 801), 1::bigint,
          'ground truth: the ledger row of the cleared charge is there, without the patron');
-- a desk writes a payment for the purged patron after the purge (documented: until the next run)
SET ROLE regress_as8_desk;
INSERT INTO ac.payments (patron_id, amount, memo) VALUES (801, 5, 'desk, after the purge');
RESET ROLE;
ANALYZE ac.payments;   -- (as autovacuum may, before the next run)
SELECT ok((SELECT coalesce(most_common_vals::text, '') || coalesce(histogram_bounds::text, '') FROM pg_stats
            WHERE schemaname = 'ac' AND tablename = 'payments' AND attname = 'patron_id') LIKE '%801%',
          'control: the payments'' statistics hold the purged patron''s id');
CALL pals_privacy.purge_expired() \gset
SELECT is((SELECT count(*) FROM ac.payments WHERE patron_id = 801), 0::bigint,
          'closed: the next run gives every row naming the purged patron purge_with (the ledger row, the desk''s payment)');
SELECT ok(coalesce((SELECT coalesce(most_common_vals::text, '') || coalesce(histogram_bounds::text, '') FROM pg_stats
                     WHERE schemaname = 'ac' AND tablename = 'payments' AND attname = 'patron_id'), '') NOT LIKE '%801%',
          'closed: the purged patron''s id is gone from the payments'' statistics after the run cleared the rows (a run that cleared account records refreshes the statistics)');
SET ROLE regress_as8_desk;
SELECT is((SELECT count(*) FROM pg_stats WHERE schemaname = 'ac' AND tablename = 'payments'), 0::bigint,
          'closed (for the desk): pg_stats shows none of an account relation''s statistics to a role its row security applies to');
RESET ROLE;

------------------------------------------------------------------------------
-- bind_loans(..., last_borrower_group): loans and their archive, as a desk
------------------------------------------------------------------------------
CREATE TABLE ac.loans (id int PRIMARY KEY, patron_id bigint, item_id int, returned timestamptz);
CREATE INDEX ON ac.loans (item_id);
CREATE INDEX ON ac.loans (patron_id);
CREATE TABLE ac.archive (id int PRIMARY KEY, patron_id bigint NOT NULL, item_id int, returned timestamptz NOT NULL);
CREATE INDEX ON ac.archive (item_id);
CREATE INDEX ON ac.archive (patron_id);
GRANT SELECT, INSERT, UPDATE ON ac.loans, ac.archive TO regress_as8_desk;
\o /dev/null
SELECT pals_privacy.bind_loans('ac.loans', 'patron_id', 'item_id', '{returned}');
SELECT pals_privacy.bind_loans('ac.archive', 'patron_id', 'item_id', '{returned}', sever_with => 'patron:0',
                               last_borrower_group => 'ac.loans');
\o
-- item 10: 802's loan, returned and moved to the archive; then 803's, returned in the loans
INSERT INTO ac.patrons (id, name, expires) VALUES (803, 'Cy', 'infinity'), (804, 'Di', 'infinity');
INSERT INTO ac.loans VALUES (1, 802, 10, NULL);
UPDATE ac.loans SET returned = '2024-01-01' WHERE id = 1;
BEGIN;
DELETE FROM ac.loans WHERE id = 1;
INSERT INTO ac.archive VALUES (1, 802, 10, '2024-01-01');
COMMIT;
INSERT INTO ac.loans VALUES (2, 803, 10, NULL);
UPDATE ac.loans SET returned = '2024-02-01' WHERE id = 2;
-- identified closed rows per item across the group (the superuser's ground truth)
CREATE VIEW ac.identified AS
SELECT item_id, count(*) AS n
  FROM (SELECT item_id FROM ac.loans WHERE returned IS NOT NULL AND patron_id IS NOT NULL
        UNION ALL SELECT item_id FROM ac.archive WHERE patron_id <> 0) t GROUP BY item_id;
SELECT is((SELECT n FROM ac.identified WHERE item_id = 10), 1::bigint,
          'control: item 10 has one identified borrower across loans and archive (803, the archived 802 severed)');
-- the desk gives the severed archived row its borrower back: its UPDATE reaches no row
SET ROLE regress_as8_desk;
UPDATE ac.archive SET patron_id = 802 WHERE id = 1;
RESET ROLE;
SELECT is((SELECT patron_id FROM ac.archive WHERE id = 1)::text || '/' || (SELECT n FROM ac.identified WHERE item_id = 10), '0/1',
          'closed: a desk cannot give a severed archived row its borrower back (the row stays the placeholder''s)');
-- the ILS does (its own role, superuser here): severed again at once
UPDATE ac.archive SET patron_id = 802 WHERE id = 1;
SELECT is((SELECT patron_id FROM ac.archive WHERE id = 1)::text || '/' || (SELECT n FROM ac.identified WHERE item_id = 10), '0/1',
          'closed: the ILS that gives a severed archived row its borrower back gets it severed again: one identified borrower');
-- the desk inserts a closed row into the archive with the same close time as the last borrower
SET ROLE regress_as8_desk;
INSERT INTO ac.archive VALUES (3, 804, 10, '2024-02-01');
RESET ROLE;
SELECT is((SELECT count(*) FROM ac.archive WHERE id = 3)::text || '/' || (SELECT n FROM ac.identified WHERE item_id = 10), '1/1',
          'closed: a closed row the desk inserted with the last borrower''s close time: still one identified borrower of the item');

------------------------------------------------------------------------------
-- the statistics refresh: a run cancelled halfway, then a run that purges others
------------------------------------------------------------------------------
\o /dev/null
\set unbind_schema ac
\i test/unbind_schema.sql
\o
CREATE SCHEMA hf;
CREATE TABLE hf.members (id bigint PRIMARY KEY, name text NOT NULL, note text, expires date NOT NULL) WITH (autovacuum_enabled = false);
-- 1-10 expired; a note (a former address) only of 1-5 among them
INSERT INTO hf.members
SELECT g, 'Member ' || g, CASE WHEN g <= 5 THEN 'Old address ' || g WHEN g > 1900 THEN 'Desk note ' || g END,
       CASE WHEN g <= 10 THEN current_date - 400 ELSE 'infinity' END
  FROM generate_series(1, 2000) g;
ALTER TABLE hf.members ALTER name SET STATISTICS 10000, ALTER note SET STATISTICS 10000, ALTER id SET STATISTICS 10000;
-- the run is cancelled in its second batch (a statement_timeout, an operator's
-- pg_cancel_backend): here a trigger of the ILS cancels its own statement
CREATE FUNCTION hf.cancel_at_6() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.id = 6 THEN
        PERFORM pg_cancel_backend(pg_backend_pid());
        PERFORM pg_sleep(5);
    END IF;
    RETURN OLD;
END $$;
CREATE TRIGGER cancel_at_6 BEFORE DELETE ON hf.members FOR EACH ROW EXECUTE FUNCTION hf.cancel_at_6();
\o /dev/null
SELECT pals_privacy.bind_patrons('hf.members', 'id', 'expires', name_columns => '{name}');
\o
ANALYZE hf.members;
SELECT ok((SELECT histogram_bounds::text::text[] && ARRAY['Old address 3'] FROM pg_stats WHERE schemaname = 'hf' AND tablename = 'members' AND attname = 'note'),
          'control: member 3''s note is in the note column''s statistics');
CALL pals_privacy.purge_expired(batch_size => 5);
SELECT is((SELECT count(*) FROM hf.members WHERE id <= 10), 5::bigint, 'the run was cancelled in its second batch: the first batch (1-5) was purged');
DROP TRIGGER cancel_at_6 ON hf.members;
CALL pals_privacy.purge_expired(batch_size => 5) \gset
SELECT is((:'result'::jsonb ->> 'purged')::int || '/' || (SELECT count(*) FROM hf.members WHERE id <= 10), '5/0',
          'the next run purges the others (6-10)');
SELECT ok(NOT (SELECT histogram_bounds::text::text[] && ARRAY(SELECT 'Member ' || g FROM generate_series(1, 10) g)
                 FROM pg_stats WHERE schemaname = 'hf' AND tablename = 'members' AND attname = 'name'),
          'closed: no purged name (the next run''s batch exposed the name column: analyzed)');
SELECT ok(NOT (SELECT histogram_bounds::text::text[] && ARRAY(SELECT 'Old address ' || g FROM generate_series(1, 5) g)
                 FROM pg_stats WHERE schemaname = 'hf' AND tablename = 'members' AND attname = 'note'),
          'closed: no note of the patrons purged by the cancelled run stays in the statistics (the next run analyzes every bound relation)');

------------------------------------------------------------------------------
-- the statistics refresh: a partition attached after binding; extended statistics
-- (mcv) on a loan relation's (patron, item)
------------------------------------------------------------------------------
\o /dev/null
\set unbind_schema hf
\i test/unbind_schema.sql
\o
CREATE SCHEMA pt;
CREATE TABLE pt.members (id bigint PRIMARY KEY, name text NOT NULL, expires date NOT NULL) WITH (autovacuum_enabled = false);
INSERT INTO pt.members SELECT g, 'Member ' || g, CASE WHEN g <= 10 THEN current_date - 400 ELSE 'infinity' END FROM generate_series(1, 2000) g;
CREATE TABLE pt.hist (member_id bigint, yr int, what text) PARTITION BY LIST (yr);
CREATE TABLE pt.hist_2024 PARTITION OF pt.hist FOR VALUES IN (2024) WITH (autovacuum_enabled = false);
CREATE TABLE pt.loans (id int PRIMARY KEY, member_id bigint, item int, returned timestamptz) WITH (autovacuum_enabled = false);
INSERT INTO pt.loans SELECT row_number() OVER (), m, m, now() - interval '300 days' FROM generate_series(1, 2000) m, generate_series(1, 3) k;
CREATE STATISTICS pt.loans_mcv (mcv) ON member_id, item FROM pt.loans;
\o /dev/null
SELECT pals_privacy.bind_patrons('pt.members', 'id', 'expires', name_columns => '{name}');
SELECT pals_privacy.bind_private_history('pt.hist', 'member_id');
SELECT pals_privacy.bind_loans('pt.loans', 'member_id', 'item', '{returned}');
\o
-- a partition attached after binding, every value in its statistics
CREATE TABLE pt.hist_2025 (member_id bigint, yr int, what text) WITH (autovacuum_enabled = false);
INSERT INTO pt.hist_2025 SELECT m, 2025, 'Secret 2025 ' || m FROM generate_series(1, 2000) m;
ALTER TABLE pt.hist_2025 ALTER what SET STATISTICS 10000;
ALTER TABLE pt.hist ATTACH PARTITION pt.hist_2025 FOR VALUES IN (2025);
ALTER TABLE pt.hist ALTER what SET STATISTICS 10000;
ANALYZE pt.members, pt.hist, pt.loans;
SELECT is((SELECT count(*) FROM pg_stats WHERE schemaname = 'pt' AND attname = 'what' AND histogram_bounds::text::text[] && ARRAY['Secret 2025 3']),
          2::bigint, 'control: a purged member''s row in a partition attached after binding: in its statistics and the partitioned table''s');
SELECT is((SELECT count(*) FROM pg_statistic_ext_data d, pg_mcv_list_items(d.stxdmcv) m WHERE m.values = '{3,3}'), 1::bigint,
          'control: (member 3, item 3) is an item of the loans'' extended statistics'' MCV list');
CALL pals_privacy.purge_expired() \gset
SELECT is((:'result'::jsonb ->> 'purged')::int, 10, 'the purge: 10 members purged');
SELECT is((SELECT count(*) FROM pg_stats WHERE schemaname = 'pt' AND attname = 'what' AND histogram_bounds::text::text[] && ARRAY(SELECT 'Secret 2025 ' || g FROM generate_series(1, 10) g)),
          0::bigint, 'closed: no purged row''s value in a partition attached after binding, nor in the partitioned table''s statistics');
SELECT is((SELECT count(*) FROM pg_statistic_ext_data d, pg_mcv_list_items(d.stxdmcv) m WHERE m.values[1] IN (SELECT g::text FROM generate_series(1, 10) g)),
          0::bigint, 'closed: no purged member in the loans'' extended statistics (mcv on member and item)');

------------------------------------------------------------------------------
-- the same generated column under sever_backlog() (not this session's: its closing
-- ANALYZE of a loan relation it only updated samples the patron column only)
------------------------------------------------------------------------------
\o /dev/null
\set unbind_schema pt
\i test/unbind_schema.sql
\o
CREATE SCHEMA bl;
CREATE TABLE bl.members (id bigint PRIMARY KEY, expires date NOT NULL DEFAULT 'infinity');
INSERT INTO bl.members (id) SELECT generate_series(1, 2000);
CREATE TABLE bl.loans (id int PRIMARY KEY, member_id bigint, item int NOT NULL, returned timestamptz,
                       tag text GENERATED ALWAYS AS ('member-' || member_id) STORED) WITH (autovacuum_enabled = false);
CREATE INDEX ON bl.loans (member_id);
CREATE INDEX ON bl.loans (item);
-- each item borrowed twice before binding: the even member earlier (a former borrower)
INSERT INTO bl.loans (id, member_id, item, returned)
SELECT g, g, (g + 1) / 2, now() - make_interval(days => 1000 - g % 2) FROM generate_series(1, 2000) g;
ALTER TABLE bl.loans ALTER tag SET STATISTICS 10000, ALTER member_id SET STATISTICS 10000;
ANALYZE bl.loans;
\o /dev/null
SELECT pals_privacy.bind_patrons('bl.members', 'id', 'expires');
SELECT pals_privacy.bind_loans('bl.loans', 'member_id', 'item', '{returned}');
\o
SELECT ok((SELECT histogram_bounds::text::text[] && ARRAY['member-2', 'member-4'] FROM pg_stats
            WHERE schemaname = 'bl' AND tablename = 'loans' AND attname = 'tag'),
          'control: former borrowers 2 and 4 are in the generated tag column''s statistics');
\o /dev/null
SET client_min_messages = warning;
CALL pals_privacy.sever_backlog();
\o
SELECT is((SELECT count(*) FROM bl.loans WHERE member_id IN (2, 4) OR tag IN ('member-2', 'member-4')), 0::bigint,
          'ground truth: sever_backlog severed the former borrowers (no row holds them)');
SELECT ok(NOT (SELECT histogram_bounds::text::text[] && ARRAY['2', '4'] FROM pg_stats
                WHERE schemaname = 'bl' AND tablename = 'loans' AND attname = 'member_id'),
          'closed: no former borrower in the patron column''s statistics');
SELECT ok(NOT coalesce((SELECT coalesce(most_common_vals::text::text[], '{}') || coalesce(histogram_bounds::text::text[], '{}')
                            FROM pg_stats WHERE schemaname = 'bl' AND tablename = 'loans' AND attname = 'tag')
                         && ARRAY['member-2', 'member-4'], false),
          'closed: no former borrower in the statistics of a stored generated column derived from the patron column (sever_backlog analyzes such a relation in full)');

SELECT * FROM finish();
\o /dev/null
\c :own_home
DROP DATABASE attack_session8 WITH (FORCE);
DROP ROLE regress_as8_desk;
