-- Purge in batches (issue 17, item 4): a batch is purged set-based, one
-- statement per table for all its patrons.  When a trigger of the ILS keeps
-- rows of some of them from their sever (a loan the ILS freezes, a notice it
-- keeps while disputed), the attempt is rolled back and those patrons alone
-- fail; the others are purged together by the next attempt, not one by one.
-- The result must be the same as purging each patron alone (batch_size 1):
-- same counts, same rows left.  Like purge.sql, outside a transaction (the
-- procedure commits), cleaned up at the end.
\set pu_schema pbt
\i test/purge/fixture.sql
SELECT plan(17);

-- statements deleting patrons, counted by a sequence (not rolled back)
CREATE SEQUENCE pbt.patron_deletes;
CREATE FUNCTION pbt.count_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM nextval('pbt.patron_deletes');
    RETURN NULL;
END $$;
CREATE FUNCTION pbt.keep_frozen() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.frozen THEN
        RETURN NULL;
    END IF;
    RETURN NEW;
END $$;
-- thirteen patrons, twelve expired; each has two returned loans (patron p:
-- loans 2p-1 and 2p) and a notice about each loan.  The ILS keeps loan 7
-- (patron 4's) from any change, and the notices of loans 13 (patron 7) and
-- 18 (patron 9) from deletion
CREATE FUNCTION pbt.setup() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    CREATE TABLE pbt.patrons (id bigint PRIMARY KEY, name text NOT NULL, expires date NOT NULL);
    INSERT INTO pbt.patrons SELECT g, 'Purgeable Batchpatron ' || g,
                                   CASE WHEN g = 13 THEN 'infinity'::date ELSE current_date - 200 END
                              FROM generate_series(1, 13) g;
    CREATE TABLE pbt.loans (id int PRIMARY KEY, patron_id bigint REFERENCES pbt.patrons, item_id int NOT NULL,
                            returned timestamptz, frozen boolean NOT NULL DEFAULT false);
    CREATE INDEX ON pbt.loans (patron_id);
    CREATE INDEX ON pbt.loans (item_id);
    INSERT INTO pbt.loans SELECT g, (g + 1) / 2, g, now() - interval '150 days', g = 7 FROM generate_series(1, 26) g;
    CREATE TRIGGER keep_frozen BEFORE UPDATE ON pbt.loans FOR EACH ROW EXECUTE FUNCTION pbt.keep_frozen();
    CREATE TABLE pbt.notices (id int PRIMARY KEY, loan_id int, patron_id bigint REFERENCES pbt.patrons,
                              disputed boolean NOT NULL DEFAULT false, rendered text NOT NULL);
    CREATE INDEX ON pbt.notices (patron_id);
    CREATE INDEX ON pbt.notices (loan_id);
    INSERT INTO pbt.notices SELECT g, g, (g + 1) / 2, g IN (13, 18), 'Dear Purgeable Batchpatron ' || (g + 1) / 2
                              FROM generate_series(1, 26) g;
    CREATE TRIGGER keep_disputed BEFORE DELETE ON pbt.notices FOR EACH ROW EXECUTE FUNCTION pbt.keep_disputed();
    CREATE TRIGGER count_delete AFTER DELETE ON pbt.patrons FOR EACH STATEMENT EXECUTE FUNCTION pbt.count_delete();
    PERFORM pals_privacy.bind_patrons('pbt.patrons', 'id', 'expires');
    PERFORM pals_privacy.bind_loans('pbt.loans', 'patron_id', 'item_id', '{returned}');
    PERFORM pals_privacy.bind_copy('pbt.notices', 'pbt.loans', 'loan_id', patron_column => 'patron_id', sever_with => 'delete');
    PERFORM setval('pbt.patron_deletes', 1, false);
END $$;
CREATE FUNCTION pbt.state() RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    RETURN concat_ws(' | ',
        'patrons ' || (SELECT string_agg(id::text, ',' ORDER BY id) FROM pbt.patrons),
        'loans ' || (SELECT string_agg(id || ':' || coalesce(patron_id::text, '-'), ',' ORDER BY id) FROM pbt.loans),
        'notices ' || (SELECT string_agg(id || ':' || patron_id, ',' ORDER BY id) FROM pbt.notices));
END $$;
CREATE FUNCTION pbt.deletes() RETURNS bigint LANGUAGE sql AS $$
    SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM pbt.patron_deletes
$$;
CREATE FUNCTION pbt.teardown() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pals_privacy.unbind_copy('pbt.notices');
    PERFORM pals_privacy.unbind('pbt.loans');
    PERFORM pals_privacy.unbind('pbt.patrons');
    DROP TABLE pbt.notices, pbt.loans, pbt.patrons;
    DELETE FROM pals_privacy.sever_pending;
END $$;

-- 1. batches of 500: one batch, three attempts (the notices kept, then the loan kept)
SELECT pbt.setup();
CALL pals_privacy.purge_expired(dry_run => true) \gset dry_
SELECT setval('pbt.patron_deletes', 1, false);
CALL pals_privacy.purge_expired() \gset
SELECT is(:'result'::jsonb - 'errors',
          '{"dry_run": false, "eligible": 12, "purged": 9,
            "skipped": {"balance": 0, "open_loan": 0, "locked": 0, "error": 3}}'::jsonb,
          'batch: 9 purged, the 3 patrons whose rows the ILS keeps are errors');
SELECT is(:'dry_result'::jsonb - 'errors' - 'dry_run', :'result'::jsonb - 'errors' - 'dry_run',
          'batch: the dry run counts the same');
SELECT is((SELECT string_agg(x, ' / ' ORDER BY x) FROM jsonb_array_elements_text(:'result'::jsonb -> 'errors') x),
          '09000: purge: # row of "pbt.loans" kept their patron after sever_with ''null'' / '
          '09000: purge: # row of "pbt.notices" (a copy of "pbt.loans") kept their patron after sever_with ''delete''',
          'batch: the run says which relations kept rows');
SELECT is(pbt.state(),
          'patrons 4,7,9,13 | loans 1:-,2:-,3:-,4:-,5:-,6:-,7:4,8:4,9:-,10:-,11:-,12:-,13:7,14:7,15:-,16:-,17:9,18:9,19:-,20:-,21:-,22:-,23:-,24:-,25:13,26:13'
          ' | notices 7:4,8:4,13:7,14:7,17:9,18:9,25:13,26:13',
          'batch: the kept patrons are untouched (all their loans and notices), the others wholly purged');
SELECT is(pbt.deletes(), 1::bigint, 'batch: the nine patrons went by one statement, not one each');
SELECT is((SELECT count(*) FROM pals_privacy.maintenance_runs
            WHERE counts::text ~ 'Batchpatron' OR coalesce(error, '') ~ 'Batchpatron'), 0::bigint,
          'batch: no patron name in the run records');
SELECT pbt.state() AS batch_state, pbt.deletes() AS batch_deletes \gset
SELECT pbt.teardown();

-- 2. the same data, one patron per batch: the per-patron path
SELECT pbt.setup();
CALL pals_privacy.purge_expired(batch_size => 1) \gset one_
SELECT is(:'one_result'::jsonb - 'errors', :'result'::jsonb - 'errors', 'one by one: the same counts as the batch');
SELECT is(pbt.state(), :'batch_state', 'one by one: the same rows left as the batch');
SELECT is(pbt.deletes(), 9::bigint, 'one by one: nine statements deleting patrons (the count above means something)');
SELECT pbt.teardown();

-- 3. the ILS lets go: a later purge takes the three
SELECT pbt.setup();
ALTER TABLE pbt.loans DISABLE TRIGGER keep_frozen;
ALTER TABLE pbt.notices DISABLE TRIGGER keep_disputed;
CALL pals_privacy.purge_expired() \gset
SELECT is(:'result'::jsonb -> 'purged', '12', 'without the ILS keeping rows: all twelve in one go');
SELECT is(pbt.state(), 'patrons 13 | loans 1:-,2:-,3:-,4:-,5:-,6:-,7:-,8:-,9:-,10:-,11:-,12:-,13:-,14:-,15:-,16:-,17:-,18:-,19:-,20:-,21:-,22:-,23:-,24:-,25:13,26:13 | notices 25:13,26:13',
          '... and only the current patron''s rows are left identified');
SELECT pbt.teardown();

-- 4. statistics: a loan relation the purge changed only in its patron column
-- gets that column analyzed (its other columns' statistics are left as they
-- are: the same rows); one where a trigger of the ILS changes another column
-- on the way is analyzed whole, so that no statistic keeps what it removed
CREATE TABLE pbt.patrons (id bigint PRIMARY KEY, expires date NOT NULL);
INSERT INTO pbt.patrons SELECT g, CASE WHEN g <= 30 THEN current_date - 200 ELSE 'infinity' END FROM generate_series(1, 60) g;
CREATE TABLE pbt.plain_loans (id int PRIMARY KEY, patron_id bigint REFERENCES pbt.patrons, item_id int NOT NULL,
                              returned timestamptz, note text) WITH (autovacuum_enabled = false);
CREATE TABLE pbt.trig_loans (LIKE pbt.plain_loans) WITH (autovacuum_enabled = false);   -- (no ANALYZE but ours)
-- loans tied to a library card too, whose rows go when the card goes with its patron (a cascade)
CREATE TABLE pbt.cards (id int PRIMARY KEY, patron_id bigint NOT NULL REFERENCES pbt.patrons ON DELETE CASCADE);
INSERT INTO pbt.cards SELECT g, g FROM generate_series(1, 60) g;
CREATE TABLE pbt.card_loans (LIKE pbt.plain_loans, card_id int REFERENCES pbt.cards ON DELETE CASCADE) WITH (autovacuum_enabled = false);
INSERT INTO pbt.plain_loans SELECT g, 1 + g % 60, g, now() - interval '150 days', 'Batchnote ' || (1 + g % 60) FROM generate_series(1, 600) g;
INSERT INTO pbt.trig_loans SELECT * FROM pbt.plain_loans;
INSERT INTO pbt.card_loans SELECT *, patron_id FROM pbt.plain_loans;
CREATE FUNCTION pbt.scrub_note() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.patron_id IS DISTINCT FROM OLD.patron_id THEN
        NEW.note := NULL;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER scrub_note BEFORE UPDATE ON pbt.trig_loans FOR EACH ROW EXECUTE FUNCTION pbt.scrub_note();
SELECT pals_privacy.bind_patrons('pbt.patrons', 'id', 'expires');
SELECT pals_privacy.bind_loans('pbt.plain_loans', 'patron_id', 'item_id', '{returned}');
SELECT pals_privacy.bind_loans('pbt.trig_loans', 'patron_id', 'item_id', '{returned}');
SELECT pals_privacy.bind_loans('pbt.card_loans', 'patron_id', 'item_id', '{returned}');
ANALYZE pbt.plain_loans;
ANALYZE pbt.trig_loans;
ANALYZE pbt.card_loans;
CREATE FUNCTION pbt.stat_values(rel regclass, col name) RETURNS text[] LANGUAGE sql AS $$
    SELECT coalesce(most_common_vals::text, '{}')::text[] || coalesce(histogram_bounds::text, '{}')::text[]
      FROM pg_stats WHERE schemaname = 'pbt' AND tablename = (SELECT relname FROM pg_class WHERE oid = rel) AND attname = col
$$;
SELECT xmin AS note_stat_xmin FROM pg_statistic
 WHERE starelid = 'pbt.plain_loans'::regclass AND staattnum = (SELECT attnum FROM pg_attribute WHERE attrelid = 'pbt.plain_loans'::regclass AND attname = 'note') \gset
SELECT ok(pbt.stat_values('pbt.plain_loans', 'patron_id') && ARRAY(SELECT g::text FROM generate_series(1, 30) g)
          AND pbt.stat_values('pbt.trig_loans', 'note') && ARRAY(SELECT 'Batchnote ' || g FROM generate_series(1, 30) g),
          'statistics: before the purge they hold the expired patrons'' ids and notes');
CALL pals_privacy.purge_expired() \gset
SELECT ok(NOT pbt.stat_values('pbt.plain_loans', 'patron_id') && ARRAY(SELECT g::text FROM generate_series(1, 30) g)
          AND NOT pbt.stat_values('pbt.trig_loans', 'patron_id') && ARRAY(SELECT g::text FROM generate_series(1, 30) g),
          'statistics: after it, no purged patron''s id in either loan relation''s');
SELECT is((SELECT xmin FROM pg_statistic
            WHERE starelid = 'pbt.plain_loans'::regclass
              AND staattnum = (SELECT attnum FROM pg_attribute WHERE attrelid = 'pbt.plain_loans'::regclass AND attname = 'note'))::text,
          :'note_stat_xmin', 'statistics: the relation changed only in its patron column had that column analyzed alone');
SELECT ok(NOT pbt.stat_values('pbt.trig_loans', 'note') && ARRAY(SELECT 'Batchnote ' || g FROM generate_series(1, 30) g),
          'statistics: the one a trigger of the ILS changed further was analyzed whole (no purged patron''s note)');
SELECT ok(NOT pbt.stat_values('pbt.card_loans', 'note') && ARRAY(SELECT 'Batchnote ' || g FROM generate_series(1, 30) g)
          AND (SELECT count(*) FROM pbt.card_loans) = 300,
          'statistics: so was the one whose rows the purge deleted by a cascade');

\i test/purge/done.sql

SELECT * FROM finish();
