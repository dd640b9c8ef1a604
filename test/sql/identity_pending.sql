-- Copies the ILS keeps from severing, and what statistics keep (issue 14,
-- holes 2 and 5 of attack_identity_open):
--   1. a derived copy (bind_copy) whose sever a trigger of the ILS skips or
--      undoes (a BEFORE DELETE trigger that returns NULL: the demo keeps
--      'lost' notices while their bill is open; a BEFORE UPDATE trigger that
--      returns NULL or puts the patron back, for 'null', 'unlink' and
--      'patron:<id>' copies) is recorded in sever_pending with a warning,
--      by the return at the desk, by sever_backlog() and by sever_copies();
--      every maintenance run retries it by its key (found again after the
--      ILS updated the row), and it is severed once the ILS lets go;
--   2. purge_expired() does not purge a patron while such a copy still
--      names them (an error of the run, with the reason), and purges them
--      once it is severed;
--   3. sever_backlog() and purge_expired() analyze what they changed, so
--      pg_stats / pg_statistic_ext keep no severed notice's text and no
--      purged patron's card number; redacted classes read no statistics of
--      bound relations at all.
-- See test/attack/fixture.sql.
\set atk_db identity_pending
\set ECHO none
\i test/attack/fixture.sql
SET client_min_messages = warning;
-- copies of the loans with ILS triggers that skip or undo the sever, one per strategy
CREATE TABLE demo.copy_null (loan_id bigint, loan_checked_out_at timestamptz, patron_id bigint);
CREATE TABLE demo.copy_unlink (loan_id bigint, loan_checked_out_at timestamptz, patron_id bigint NOT NULL);
CREATE TABLE demo.copy_placeholder (loan_id bigint NOT NULL, loan_checked_out_at timestamptz NOT NULL, patron_id bigint NOT NULL);
CREATE INDEX ON demo.copy_null (loan_id);
CREATE INDEX ON demo.copy_unlink (loan_id);
CREATE INDEX ON demo.copy_placeholder (loan_id);
CREATE FUNCTION demo.keep_patron() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN NEW.patron_id := OLD.patron_id; RETURN NEW; END $$;   -- undoes a 'null' sever
CREATE FUNCTION demo.skip_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RETURN NULL; END $$;                                  -- skips any update
CREATE TRIGGER keep_patron BEFORE UPDATE ON demo.copy_null FOR EACH ROW EXECUTE FUNCTION demo.keep_patron();
CREATE TRIGGER skip_update BEFORE UPDATE ON demo.copy_unlink FOR EACH ROW EXECUTE FUNCTION demo.skip_update();
CREATE TRIGGER skip_update BEFORE UPDATE ON demo.copy_placeholder FOR EACH ROW EXECUTE FUNCTION demo.skip_update();
SELECT pals_privacy.bind_copy(relation => c, source => 'demo.loans', key_columns => '{loan_id,loan_checked_out_at}',
                              source_keys => '{id,checked_out_at}', patron_column => 'patron_id', sever_with => w)
  FROM (VALUES ('demo.copy_null'::regclass, 'null'), ('demo.copy_unlink', 'unlink'), ('demo.copy_placeholder', 'patron:0')) v(c, w);
GRANT SELECT ON demo.copy_null, demo.copy_unlink, demo.copy_placeholder TO ils_app, branch_staff;
-- extended statistics over the notices' patron and kind
CREATE STATISTICS demo.loan_events_patron_kind (mcv) ON patron_id, kind FROM demo.loan_events;
ANALYZE demo.loan_events;
ANALYZE demo.patrons;
ANALYZE demo.internet_signups;
CREATE TABLE pg_temp.stats_before AS
SELECT v FROM pg_stats s CROSS JOIN LATERAL unnest(coalesce(s.most_common_vals, s.histogram_bounds)::text::text[]) v
 WHERE s.schemaname = 'demo' AND s.tablename = 'loan_events' AND s.attname = 'rendered';
CREATE TABLE pg_temp.stats_before_cards AS
SELECT v FROM pg_stats s CROSS JOIN LATERAL unnest(coalesce(s.most_common_vals, s.histogram_bounds)::text::text[]) v
 WHERE s.schemaname = 'demo' AND s.tablename = 'patrons' AND s.attname = 'card_number';
CREATE TABLE pg_temp.orig AS SELECT id, checked_out_at, patron_id FROM demo.loans;
CREATE TABLE pg_temp.orig_names AS SELECT id, name, card_number, deleted FROM demo.patrons;
GRANT SELECT ON pg_temp.orig, pg_temp.orig_names, pg_temp.stats_before TO PUBLIC;
\set ECHO all
SELECT plan(41);

-- 1. the backlog: the notices the ILS keeps (bill_open 'lost') are pending, with a warning
CALL pals_privacy.sever_backlog(batch_size => 1000);
SELECT ok((SELECT count(*) FROM pals_privacy.sever_pending_rows WHERE relation = 'demo.loan_events'::regclass) > 0,
          'backlog: the notices the ILS kept from deletion are pending');
SELECT is((SELECT count(*) FROM demo.loan_events e JOIN demo.loans l ON (l.id, l.checked_out_at) = (e.loan_id, e.loan_checked_out_at)
            WHERE l.patron_id = 0)
          - (SELECT count(*) FROM pals_privacy.sever_pending_rows WHERE relation = 'demo.loan_events'::regclass),
          0::bigint, 'backlog: every notice of a severed loan that is still there is recorded as pending');
SELECT is((SELECT count(*) FROM demo.loan_events e JOIN demo.loans l ON (l.id, l.checked_out_at) = (e.loan_id, e.loan_checked_out_at)
            WHERE l.patron_id = 0 AND NOT (e.kind = 'lost' AND e.bill_open)),
          0::bigint, 'backlog: only what the ILS''s trigger keeps is left');
SELECT is((SELECT array_agg(DISTINCT (p.item::text[])[1] ORDER BY (p.item::text[])[1]) FROM pals_privacy.sever_pending p
            WHERE p.binding = 'demo.loan_events'::regclass),
          (SELECT array_agg(DISTINCT e.loan_id::text ORDER BY e.loan_id::text) FROM demo.loan_events e
             JOIN demo.loans l ON (l.id, l.checked_out_at) = (e.loan_id, e.loan_checked_out_at) WHERE l.patron_id = 0),
          'backlog: a pending copy row is recorded with its key');
SELECT is((SELECT ok FROM pals_privacy.health() WHERE check_name = 'pending severs'), false,
          'health() reports the pending copies');

-- 2. statistics after the backlog (loan_events was analyzed before it)
SELECT ok((SELECT count(*) FROM pg_temp.stats_before b WHERE NOT EXISTS (SELECT FROM demo.loan_events e WHERE e.rendered = b.v)) > 0,
          'backlog: statistics sampled before the backlog held notices it deleted');
SELECT is((SELECT count(*) FROM pg_stats s CROSS JOIN LATERAL unnest(coalesce(s.most_common_vals, s.histogram_bounds)::text::text[]) v
            WHERE s.schemaname = 'demo' AND s.tablename = 'loan_events' AND s.attname = 'rendered'
              AND NOT EXISTS (SELECT FROM demo.loan_events e WHERE e.rendered = v)),
          0::bigint, 'backlog: pg_stats of the notices'' text holds no deleted notice (analyzed again)');
SELECT is(pg_temp.probe('ils_app', ARRAY[
    'SELECT count(*) AS n FROM pg_stats s CROSS JOIN LATERAL unnest(coalesce(s.most_common_vals, s.histogram_bounds)::text::text[]) v
      WHERE s.schemaname = ''demo'' AND s.tablename = ''loan_events'' AND s.attname = ''rendered''
        AND v IN (SELECT b.v FROM pg_temp.stats_before b)
        AND v NOT IN (SELECT e.rendered FROM demo.loan_events e)']) -> 'rows' -> 0 ->> 'n',
          '0', 'backlog: the operational role reads no deleted notice in pg_stats');
SELECT is((SELECT count(*) FROM pg_statistic_ext s JOIN pg_statistic_ext_data d ON d.stxoid = s.oid,
                  pg_mcv_list_items(d.stxdmcv) m
            WHERE s.stxname = 'loan_events_patron_kind'
              AND NOT EXISTS (SELECT FROM demo.loan_events e WHERE e.patron_id::text = m.values[1] AND e.kind = m.values[2])),
          0::bigint, 'backlog: the extended statistics hold no (patron, kind) the notices no longer have');
SELECT is(pg_temp.probe('branch_staff', ARRAY[
    'SELECT (SELECT count(*) FROM pg_stats WHERE schemaname = ''demo'' AND tablename IN (''loan_events'', ''patrons'', ''loans''))
          + (SELECT count(*) FROM pg_stats_ext WHERE schemaname = ''demo'') AS n']) -> 'rows' -> 0 ->> 'n',
          '0', 'staff read no statistics of bound relations');
SELECT is(pg_temp.probe('consortium_auditor', ARRAY[
    'SELECT count(*) AS n FROM pg_stats WHERE schemaname = ''demo'' AND tablename IN (''loan_events'', ''patrons'', ''loans'')']) -> 'rows' -> 0 ->> 'n',
          '0', 'auditors read no statistics of bound relations');
SELECT ok((pg_temp.probe('ils_app', ARRAY[
    'SELECT count(*) AS n FROM pg_stats WHERE schemaname = ''demo'' AND tablename = ''loan_events''']) -> 'rows' -> 0 ->> 'n')::int > 0,
          'the operational role reads them (the control)');

-- 3. a return at the desk severs a loan whose copies the ILS keeps, one per strategy
INSERT INTO demo.items (id, title_id, library_id, barcode) VALUES (90011, 90001, 1, 'PEND11');
INSERT INTO demo.loans (id, patron_id, item_id, library_id, checked_out_at, due_at)
VALUES (300001, 7, 90011, 1, '2026-09-01', '2026-09-21');
INSERT INTO demo.loan_events (loan_id, loan_checked_out_at, patron_id, kind, rendered, created_at, bill_open)
VALUES (300001, '2026-09-01', 7, 'lost', 'Dear patron seven, item PEND11 is lost', '2026-10-01', true),
       (300001, '2026-09-01', 7, 'overdue', 'Dear patron seven, item PEND11 is overdue', '2026-09-25', false);
INSERT INTO demo.copy_null VALUES (300001, '2026-09-01', 7);
INSERT INTO demo.copy_unlink VALUES (300001, '2026-09-01', 7);
INSERT INTO demo.copy_placeholder VALUES (300001, '2026-09-01', 7);
UPDATE demo.loans SET returned_at = '2026-10-05', fines_settled_at = '2026-10-05' WHERE id = 300001;
INSERT INTO demo.loans (id, patron_id, item_id, library_id, checked_out_at, due_at)
VALUES (300002, 8, 90011, 1, '2026-10-06', '2026-10-26');
-- (the warnings, one per copy, come in the order of the triggers' names, which hold OIDs)
SET client_min_messages = error;
UPDATE demo.loans SET returned_at = '2026-10-07', fines_settled_at = '2026-10-07' WHERE id = 300002;
SET client_min_messages = warning;
SELECT is((SELECT patron_id FROM demo.loans WHERE id = 300001), 0::bigint, 'desk: the earlier loan is severed');
SELECT is((SELECT count(*) FROM demo.loan_events WHERE loan_id = 300001), 1::bigint,
          'desk: the notice the ILS does not keep is deleted, the lost one kept');
SELECT is((SELECT array_agg(relation::text ORDER BY relation::text) FROM pals_privacy.sever_pending_rows r
            JOIN pals_privacy.sever_pending p ON p.binding = r.relation::oid AND p.row_tid = r.row_tid
            WHERE (p.item::text[])[1] = '300001'),
          '{demo.copy_null,demo.copy_placeholder,demo.copy_unlink,demo.loan_events}',
          'desk: each kept copy is pending (delete skipped; null undone; unlink and placeholder skipped)');
SELECT is((SELECT count(*) FROM pals_privacy.sever_pending WHERE binding = 'demo.fines'::regclass), 0::bigint,
          'desk: a copy severed as it should be is not pending');
-- a copy without a trigger of its own is severed by the plain statement (no count), cached
-- per backend; a trigger created later on one of its partitions is seen at the next return
CREATE TABLE demo.copy_parts (loan_id bigint, loan_checked_out_at timestamptz, patron_id bigint) PARTITION BY RANGE (loan_id);
CREATE TABLE demo.copy_parts_low PARTITION OF demo.copy_parts FOR VALUES FROM (0) TO (300000);
CREATE TABLE demo.copy_parts_high PARTITION OF demo.copy_parts FOR VALUES FROM (300000) TO (400000);
CREATE INDEX ON demo.copy_parts (loan_id);
SELECT pals_privacy.bind_copy(relation => 'demo.copy_parts', source => 'demo.loans', key_columns => '{loan_id,loan_checked_out_at}',
                              source_keys => '{id,checked_out_at}', patron_column => 'patron_id', sever_with => 'null');
INSERT INTO demo.items (id, title_id, library_id, barcode) VALUES (90012, 90001, 1, 'PEND12');
INSERT INTO demo.loans (id, patron_id, item_id, library_id, checked_out_at, due_at)
VALUES (300011, 9, 90012, 1, '2026-09-01', '2026-09-21');
INSERT INTO demo.copy_parts VALUES (300011, '2026-09-01', 9);
UPDATE demo.loans SET returned_at = '2026-09-05', fines_settled_at = '2026-09-05' WHERE id = 300011;
INSERT INTO demo.loans (id, patron_id, item_id, library_id, checked_out_at, due_at)
VALUES (300012, 10, 90012, 1, '2026-09-06', '2026-09-26');
UPDATE demo.loans SET returned_at = '2026-09-08', fines_settled_at = '2026-09-08' WHERE id = 300012;
SELECT is((SELECT patron_id FROM demo.copy_parts WHERE loan_id = 300011), NULL, 'desk: a copy without triggers is severed');
CREATE TRIGGER skip_update BEFORE UPDATE ON demo.copy_parts_high FOR EACH ROW EXECUTE FUNCTION demo.skip_update();
INSERT INTO demo.copy_parts VALUES (300012, '2026-09-06', 10);
INSERT INTO demo.loans (id, patron_id, item_id, library_id, checked_out_at, due_at)
VALUES (300013, 11, 90012, 1, '2026-09-09', '2026-09-26');
UPDATE demo.loans SET returned_at = '2026-09-10', fines_settled_at = '2026-09-10' WHERE id = 300013;
SELECT is((SELECT (item::text[])[1] FROM pals_privacy.sever_pending WHERE binding = 'demo.copy_parts'::regclass), '300012',
          'desk: a trigger created since on a partition of the copy is seen: what it keeps is pending');
-- a copy bound after its source was severed: bind_copy severs it at once (sever_copies), and
-- records what the ILS's trigger keeps
CREATE TABLE demo.copy_late (loan_id bigint, loan_checked_out_at timestamptz, patron_id bigint);
CREATE TRIGGER skip_update BEFORE UPDATE ON demo.copy_late FOR EACH ROW EXECUTE FUNCTION demo.skip_update();
INSERT INTO demo.copy_late VALUES (300001, '2026-09-01', 7);
SELECT pals_privacy.bind_copy(relation => 'demo.copy_late', source => 'demo.loans', key_columns => '{loan_id,loan_checked_out_at}',
                              source_keys => '{id,checked_out_at}', patron_column => 'patron_id', sever_with => 'null');
SELECT is((SELECT (item::text[])[1] FROM pals_privacy.sever_pending WHERE binding = 'demo.copy_late'::regclass), '300001',
          'bind_copy: a copy of a severed loan that the ILS keeps is pending');
SELECT pals_privacy.unbind_copy('demo.copy_late');
SELECT is((SELECT count(*) FROM pals_privacy.sever_pending WHERE binding = 'demo.copy_late'::regclass), 0::bigint,
          'unbind_copy: its pending rows go with the binding');
-- the ILS updates its kept rows: found again by their key, not their place
UPDATE demo.loan_events SET created_at = created_at + interval '1 second' WHERE loan_id = 300001;
SELECT is((pals_privacy._retry_pending() ->> 'still_pending')::int > 0, true, 'retry: what the ILS still keeps stays pending');
SELECT is((SELECT count(*) FROM pals_privacy.sever_pending WHERE (item::text[])[1] = '300001'), 4::bigint,
          'retry: each kept copy of the loan is still recorded, at its new place');
SELECT is((SELECT max(attempts) FROM pals_privacy.sever_pending WHERE (item::text[])[1] = '300001'), 2, 'retry: attempts are counted');

-- 4. purge: patrons whose kept notices still name them are not purged
UPDATE demo.patrons p SET expires_on = date '2020-01-01'
 WHERE id IN (SELECT patron_id FROM demo.loan_events WHERE bill_open) OR id BETWEEN 1 AND 40;
CALL pals_privacy.purge_expired();
CREATE TABLE pg_temp.purged AS
SELECT p.id FROM demo.patrons p JOIN pg_temp.orig_names o USING (id) WHERE p.deleted AND NOT o.deleted;
GRANT SELECT ON pg_temp.purged TO PUBLIC;
SELECT ok((SELECT count(*) FROM pg_temp.purged) > 0, 'purge: some patrons were purged');
SELECT is((SELECT count(*) FROM demo.loan_events e WHERE e.bill_open AND e.patron_id IN (SELECT id FROM pg_temp.purged)),
          0::bigint, 'purge: no patron whose kept notice names them is purged');
SELECT ok((SELECT count(*) FROM demo.patrons p WHERE p.expires_on = '2020-01-01' AND NOT p.deleted
             AND p.id IN (SELECT patron_id FROM demo.loan_events WHERE bill_open AND kind = 'lost')) > 0,
          'purge: those patrons are left unpurged');
SELECT is((SELECT (counts -> 'skipped' ->> 'error')::int > 0 AND (counts ->> 'errors') LIKE '%demo.loan_events%kept their patron%'
             FROM pals_privacy.maintenance_runs WHERE kind = 'purge' ORDER BY id DESC LIMIT 1),
          true, 'purge: the run reports them, with the relation and the reason');
SELECT is((SELECT format('%s patrons, %s messages, %s different', (counts -> 'skipped' ->> 'error')::int > 1,
                          jsonb_array_length(counts -> 'errors'),
                          (SELECT count(DISTINCT e) FROM jsonb_array_elements_text(counts -> 'errors') e))
             FROM pals_privacy.maintenance_runs WHERE kind = 'purge' ORDER BY id DESC LIMIT 1),
          't patrons, 1 messages, 1 different', 'purge: a reason that kept several patrons is reported once');
SELECT is(pg_temp.probe('ils_app', ARRAY[
    'SELECT count(*) AS n FROM demo.loan_events e JOIN pg_temp.orig o ON (o.id, o.checked_out_at) = (e.loan_id, e.loan_checked_out_at)
       JOIN pg_temp.orig_names n ON n.id = o.patron_id AND e.rendered LIKE ''Dear '' || n.name || '',%''
      WHERE o.patron_id IN (SELECT id FROM pg_temp.purged)']) -> 'rows' -> 0 ->> 'n',
          '0', 'after purge: no notice of a purged patron''s loan names them (operational)');
SELECT is(pg_temp.probe('ils_app', ARRAY[
    'SELECT count(*) AS n FROM demo.loan_events WHERE patron_id IN (SELECT id FROM pg_temp.purged)']) -> 'rows' -> 0 ->> 'n',
          '0', 'after purge: no notice carries a purged patron''s id (operational)');
SELECT ok((SELECT count(*) FROM pg_temp.orig_names o WHERE o.id IN (SELECT id FROM pg_temp.purged)
             AND o.card_number IN (SELECT v FROM pg_temp.stats_before_cards)) > 0,
          'purge: statistics sampled before the purge held purged patrons'' card numbers');
SELECT is(pg_temp.probe('ils_app', ARRAY[
    'SELECT count(*) AS n FROM pg_stats s
       CROSS JOIN LATERAL unnest(coalesce(s.most_common_vals, s.histogram_bounds)::text::text[]) v
       JOIN pg_temp.orig_names o ON v = o.card_number
      WHERE s.schemaname = ''demo'' AND s.tablename = ''patrons'' AND o.id IN (SELECT id FROM pg_temp.purged)']) -> 'rows' -> 0 ->> 'n',
          '0', 'after purge: pg_stats of the patrons keeps no card number of a purged patron (operational)');

CREATE TABLE pg_temp.kept_patrons AS
SELECT DISTINCT e.patron_id AS id FROM demo.loan_events e
  JOIN demo.loans l ON (l.id, l.checked_out_at) = (e.loan_id, e.loan_checked_out_at)
  JOIN demo.patrons p ON p.id = e.patron_id
 WHERE l.patron_id = 0 AND p.expires_on = '2020-01-01' AND NOT p.deleted;
-- those purge would take but for the notice (they owe nothing, have no open loan)
DELETE FROM pg_temp.kept_patrons k
 WHERE k.id::text IN (SELECT pals_privacy._patrons_owing(ARRAY(SELECT id::text FROM pg_temp.kept_patrons))
                      UNION SELECT pals_privacy._patrons_with_open_rows(ARRAY(SELECT id::text FROM pg_temp.kept_patrons)));
SELECT ok((SELECT count(*) FROM pg_temp.kept_patrons) > 0, 'purge: the patrons of pending notices are left');

-- 5. the ILS lets go (the bill is closed, the triggers are changed): the
-- maintenance run severs the copies, and the next purge purges the patrons
UPDATE demo.loan_events SET bill_open = false WHERE bill_open;
DROP TRIGGER keep_patron ON demo.copy_null;
DROP TRIGGER skip_update ON demo.copy_unlink;
DROP TRIGGER skip_update ON demo.copy_placeholder;
DROP TRIGGER skip_update ON demo.copy_parts_high;
SELECT is(pals_privacy._retry_pending() ->> 'still_pending', '0', 'retry: nothing is left pending once the ILS lets go');
SELECT is((SELECT count(*) FROM pals_privacy.sever_pending), 0::bigint, 'retry: the pending list is empty');
SELECT is((SELECT count(*) FROM demo.loan_events e JOIN demo.loans l ON (l.id, l.checked_out_at) = (e.loan_id, e.loan_checked_out_at)
            WHERE l.patron_id = 0), 0::bigint, 'retry: the notices of severed loans are deleted');
SELECT is((SELECT (SELECT patron_id FROM demo.copy_null WHERE loan_id = 300001) IS NULL
              AND (SELECT count(*) FROM demo.copy_unlink WHERE loan_id = 300001) = 0
              AND (SELECT patron_id FROM demo.copy_placeholder WHERE loan_id = 300001) = 0
              AND (SELECT patron_id FROM demo.copy_parts WHERE loan_id = 300012) IS NULL),
          true, 'retry: each copy is severed by its strategy');
CALL pals_privacy.purge_expired();
SELECT is((SELECT count(*) FROM demo.patrons p WHERE p.id IN (SELECT id FROM pg_temp.kept_patrons) AND NOT p.deleted), 0::bigint,
          'purge: the patrons left unpurged are purged once their copies are severed');

-- 6. retention: sign-ups past their 3 days are deleted (all of the sample's): their statistics
-- go too (ANALYZE keeps the old ones of a table left empty: they are deleted)
SELECT ok((SELECT count(*) FROM pg_stats WHERE schemaname = 'demo' AND tablename = 'internet_signups') > 0,
          'retention: the sign-ups had statistics');
CALL pals_privacy.apply_retention();
SELECT is((SELECT count(*) FROM demo.internet_signups WHERE signed_up_at < now() - interval '3 days'), 0::bigint,
          'retention: the sign-ups past their 3 days are deleted');
SELECT is(pg_temp.probe('ils_app', ARRAY[
    'SELECT count(*) AS n FROM pg_stats s
       CROSS JOIN LATERAL unnest(coalesce(s.most_common_vals, s.histogram_bounds)::text::text[]) v
      WHERE s.schemaname = ''demo'' AND s.tablename = ''internet_signups''
        AND s.attname IN (''signed_up_at'', ''patron_id'', ''workstation'')
        AND v NOT IN (SELECT x::text FROM demo.internet_signups i,
                             LATERAL (VALUES (i.signed_up_at::text), (i.patron_id::text), (i.workstation)) y(x))']) -> 'rows' -> 0 ->> 'n',
          '0', 'retention: pg_stats of the sign-ups holds no value of a deleted one (operational)');

SELECT * FROM finish();
\set ECHO none
\i test/attack/done.sql
