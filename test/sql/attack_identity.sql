-- Attack catalogue: identity wherever it flows (issue 14).  Derived copies of
-- a loan's identity bound with bind_copy (the fines link table, notices with
-- a rendered text naming patron and item, the per-transaction summary kept
-- by the ILS's trigger), the billable-transaction inheritance parent, and
-- the ILS's trigger-filled audit history after a purge by a soft-deleting
-- purge function.  Every attempt runs as a redacted class (staff, auditor,
-- collections, a patron logged in as 9011) and, for control, as the
-- operational role, which must get hidden pairs out (else it proves
-- nothing).  Runs before sever_backlog() and again after it, then purges.
-- See test/attack/fixture.sql and test/attack/identity.sql.
\set atk_db attack_identity
\set ECHO none
\i test/attack/fixture.sql
-- the patron of every loan and device loan before any sever: a severed row's
-- former patron stays a secret from every class below operational
CREATE TABLE pg_temp.orig AS SELECT id, patron_id AS patron FROM demo.loans;
CREATE TABLE pg_temp.orig_dev AS SELECT id, patron_id AS patron FROM demo.device_loans;
CREATE FUNCTION pg_temp.identity_secrets() RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE n bigint;
BEGIN
    -- severed loans and device loans: their former patron, for every class
    INSERT INTO pg_temp.secrets
    SELECT c, 'loans', o.id, o.patron FROM pg_temp.orig o JOIN demo.loans l USING (id),
           unnest(ARRAY['staff', 'auditor', 'collections', 'patron']) c
     WHERE l.patron_id = 0 AND o.patron <> 0 AND (c <> 'patron' OR o.patron <> 9011);
    INSERT INTO pg_temp.secrets
    SELECT c, 'device_loans', o.id, o.patron FROM pg_temp.orig_dev o JOIN demo.device_loans d USING (id),
           unnest(ARRAY['staff', 'auditor', 'collections', 'patron']) c
     WHERE d.patron_id = 0 AND o.patron <> 0 AND (c <> 'patron' OR o.patron <> 9011);
    -- device loans still identified: staff may not see closed (by the
    -- binding's condition), settled rows that are not the device's last
    -- borrower; the other classes no other patron's
    INSERT INTO pg_temp.secrets
    SELECT 'staff', 'device_loans', d.id, d.patron_id FROM demo.device_loans d
     WHERE (d.checkin_time IS NOT NULL OR (d.stop_reason IN ('LOST', 'CLAIMSRETURNED') AND d.xact_finish IS NOT NULL))
       AND d.xact_finish IS NOT NULL AND d.patron_id <> 0
       AND NOT EXISTS (SELECT 1 FROM pals_privacy.last_borrower lb
                        WHERE lb.binding = 'demo.device_loans'::regclass AND lb.row_relid = d.tableoid
                          AND lb.row_tid = d.ctid);
    INSERT INTO pg_temp.secrets
    SELECT c, 'device_loans', d.id, d.patron_id FROM demo.device_loans d,
           unnest(ARRAY['auditor', 'collections', 'patron']) c
     WHERE d.patron_id <> 0 AND (c <> 'patron' OR d.patron_id <> 9011);
    -- the latest closed row of an item is its last borrower, which staff may
    -- see (whether the tracker knows it yet or not)
    DELETE FROM pg_temp.secrets s
     WHERE s.cls = 'staff' AND s.rel = 'loans'
       AND s.id IN (SELECT DISTINCT ON (item_id) id FROM demo.loans WHERE returned_at IS NOT NULL
                     ORDER BY item_id, returned_at DESC);
    SELECT count(*) INTO n FROM pg_temp.secrets WHERE rel = 'device_loans';
    RETURN n;
END $$;
-- title-level holds bound by their item, NULL until one is trapped (as
-- demo/bind.sql binds them), opted-in history kept in place
\o /dev/null
SELECT pals_privacy.unbind('demo.holds');
SELECT pals_privacy.bind_loans('demo.holds', 'patron_id', 'item_id', ARRAY['fulfilled_at', 'cancelled_at']::name[],
                               sever_with => 'patron:0', keep_last_borrower => false, history_mode => 'in_place');
\o
-- a device desk's grants (a DBA's, beyond demo/roles.sql)
GRANT UPDATE ON demo.device_loans, demo.billable_xacts TO branch_staff;
GRANT INSERT, UPDATE ON demo.xact_summaries TO branch_staff;
-- the side channels' controls read the copies' statistics and heap fetches as
-- the ANALYZE below left them: an autovacuum run mid-suite (at a time that
-- depends on the machine's load; the attempts roll back thousands of rows)
-- would refresh them, or make an index probe fetch nothing from the heap,
-- and the controls could no longer tell the patrons apart
ALTER TABLE demo.loan_events SET (autovacuum_enabled = false);
ALTER TABLE demo.fines SET (autovacuum_enabled = false);
ALTER TABLE demo.xact_summaries SET (autovacuum_enabled = false);
\set ECHO all
SELECT count(*) > 0 AS closed_title_level_holds FROM demo.holds
 WHERE item_id IS NULL AND (fulfilled_at IS NOT NULL OR cancelled_at IS NOT NULL);
SELECT pg_temp.identity_secrets() > 0 AS device_secrets_found;
ANALYZE demo.loan_events, demo.fines, demo.xact_summaries;
-- the patrons whose notices (summaries) are most numerous, all hidden from staff
SELECT e.patron_id AS hot FROM demo.loan_events e
 GROUP BY e.patron_id
HAVING bool_and(EXISTS (SELECT 1 FROM pg_temp.secrets s WHERE s.cls = 'staff' AND s.rel = 'loans' AND s.id = e.loan_id))
 ORDER BY count(*) DESC, e.patron_id LIMIT 1 \gset
SELECT s.patron_id AS hot_dev FROM demo.xact_summaries s
 GROUP BY s.patron_id
HAVING bool_and(EXISTS (SELECT 1 FROM pg_temp.secrets x WHERE x.cls = 'staff' AND x.rel = 'device_loans' AND x.id = s.xact_id))
 ORDER BY count(*) DESC, s.patron_id LIMIT 1 \gset
SELECT true AS dev_stats_left \gset
SELECT plan(244);

\set phase 'before sever: '
\set ECHO none
\i test/attack/identity.sql
\set ECHO all

-- the statistics class, had a DBA granted it the copies: no identity in them
GRANT SELECT ON demo.loan_events, demo.fines, demo.xact_summaries, demo.patron_history TO statistician;
SELECT ok((pg_temp.probe('statistician', ARRAY[q]) -> 'rows' -> 0 ->> 'n')::bigint = 0
          AND (pg_temp.probe('ils_app', ARRAY[q]) -> 'rows' -> 0 ->> 'n')::bigint > 0,
          'statistics: ' || d)
  FROM (VALUES ('notices name no patron', 'SELECT count(patron_id) AS n FROM demo.loan_events'),
               ('no fine is linked to a loan', 'SELECT count(loan_id) AS n FROM demo.fines'),
               ('summaries name no patron', 'SELECT count(patron_id) AS n FROM demo.xact_summaries'),
               ('the ILS''s audit history shows no patron', 'SELECT count(*) AS n FROM demo.patron_history')) v(d, q);
REVOKE SELECT ON demo.loan_events, demo.fines, demo.xact_summaries, demo.patron_history FROM statistician;

SET client_min_messages = warning;
CALL pals_privacy.sever_backlog(batch_size => 1000);
SELECT pg_temp.refresh_secrets() > 0 AS secrets_left_in_place;
SELECT pg_temp.identity_secrets() > 0 AS device_secrets_found;
SELECT e.patron_id AS hot FROM demo.loan_events e
 GROUP BY e.patron_id
HAVING bool_and(EXISTS (SELECT 1 FROM pg_temp.secrets s WHERE s.cls = 'staff' AND s.rel = 'loans' AND s.id = e.loan_id))
 ORDER BY count(*) DESC, e.patron_id LIMIT 1 \gset
-- the summaries of the patron picked before the sever are all severed now,
-- and the backlog analyzed them again: no estimate tells that patron from B
-- any more, the operational control's neither (test/attack/identity.sql)
SELECT false AS dev_stats_left \gset
\set phase 'after sever: '
\set ECHO none
\i test/attack/identity.sql
\set ECHO all

-- purge: patrons whose card expired, by the ILS's soft-deleting purge
-- function; afterwards the operational role finds the purged patron in no
-- copy, summary or audit history (the notices the ILS's own trigger keeps
-- are test/sql/attack_identity_open.sql's)
CREATE TABLE pg_temp.orig_names AS SELECT id, name, card_number, deleted FROM demo.patrons;
UPDATE demo.patrons SET expires_on = date '2020-01-01' WHERE id BETWEEN 1 AND 60;
CALL pals_privacy.purge_expired();
CREATE TABLE pg_temp.purged AS
SELECT p.id FROM demo.patrons p JOIN pg_temp.orig_names o USING (id) WHERE p.deleted AND NOT o.deleted;
GRANT SELECT ON pg_temp.purged, pg_temp.orig_names TO PUBLIC;
SELECT ok((SELECT count(*) FROM pg_temp.purged) > 0, 'purge: some patrons were purged');
SELECT is(pg_temp.probe('ils_app', ARRAY[format(
    'SELECT %L AS rel, count(*) AS n FROM %s WHERE %I IN (SELECT id FROM pg_temp.purged)', r, r, col)]) -> 'rows' -> 0 ->> 'n',
          '0', 'purge: operational finds no purged patron in ' || r)
  FROM (VALUES ('demo.patron_history', 'patron_id'), ('demo.xact_summaries', 'patron_id'),
               ('demo.fines', 'patron_id'), ('demo.payments', 'patron_id'), ('demo.holds', 'patron_id'),
               ('demo.loans', 'patron_id'), ('demo.device_loans', 'patron_id'), ('demo.reading_history', 'patron_id'),
               ('demo.addresses', 'patron_id')) v(r, col);
SELECT is(pg_temp.probe('ils_app', ARRAY[
    'SELECT count(*) AS n FROM demo.patron_history h JOIN pg_temp.orig_names o
        ON h.card_number = o.card_number
        OR (h.name = o.name AND NOT EXISTS (SELECT 1 FROM pg_temp.orig_names x WHERE x.name = o.name AND x.id <> o.id))
      WHERE o.id IN (SELECT id FROM pg_temp.purged)']) -> 'rows' -> 0 ->> 'n',
          '0', 'purge: the ILS''s audit history keeps no old name or card of a purged patron');
-- decoys after the purge: open loans inserted with the ids of the severed
-- loans (patron_id = 0) open no notice the ILS kept of them: staff read the
-- same notices naming purged patrons with the decoys as without
SELECT is(pg_temp.probe('branch_staff', ARRAY[
    'INSERT INTO demo.loans (id, patron_id, item_id, library_id, checked_out_at, due_at)
     SELECT id, 1, 90008, 1, timestamptz ''2030-01-01'' + make_interval(secs => row_number() OVER ()), timestamptz ''2030-02-01''
       FROM demo.loans WHERE patron_id = 0',
    'SELECT count(*) AS n FROM demo.loan_events e JOIN pg_temp.orig_names o ON e.rendered LIKE ''Dear '' || o.name || '',%''
      WHERE o.id IN (SELECT id FROM pg_temp.purged)']) -> 'rows' -> 0 ->> 'n',
          pg_temp.probe('branch_staff', ARRAY[
    'SELECT count(*) AS n FROM demo.loan_events e JOIN pg_temp.orig_names o ON e.rendered LIKE ''Dear '' || o.name || '',%''
      WHERE o.id IN (SELECT id FROM pg_temp.purged)']) -> 'rows' -> 0 ->> 'n',
          'after purge: decoy loans with the severed loans'' ids open no notice naming a purged patron (staff)');

SELECT * FROM finish();
\set ECHO none
\i test/attack/done.sql
