-- Attack catalogue: quasi-identifiers, the rows a hidden or severed loan
-- shares something with besides its patron (issue 14, holes 3, 4 and 6 of
-- attack_identity_open on branch attack2-open):
--   1. order and time: a fine (bind_copy 'unlink') keeps its patron; in id
--      order (= return order) it pairs with the fined loans in return
--      order, also once unlinked; a payment's time is the loan's settlement
--      time (staff);
--   2. system columns: a loan severed by a return and the fine that return
--      unlinked share their xmin, a loan kept in place and the payment taken
--      in the transaction that settled it too; ctid orders rows as they were
--      written; age() and pg_xact_commit_timestamp() turn xmin into a time;
--   3. (a breakage) staff update patrons and addresses, whose ILS audit
--      triggers write into history bound as private: the triggers run as
--      the ILS (demo/roles.sql), and staff still read none of it.
-- See test/attack/fixture.sql.
\set atk_db attack_quasi
\set ECHO none
\i test/attack/fixture.sql
CREATE TABLE pg_temp.orig AS SELECT id, patron_id AS patron FROM demo.loans;
CREATE FUNCTION pg_temp.severed_secrets() RETURNS void LANGUAGE sql AS $$
    INSERT INTO pg_temp.secrets
    SELECT c, 'loans', o.id, o.patron FROM pg_temp.orig o JOIN demo.loans l USING (id),
           unnest(ARRAY['staff', 'auditor', 'collections', 'patron', 'operational']) c
     WHERE l.patron_id = 0 AND o.patron <> 0 AND (c <> 'patron' OR o.patron <> 9011);
    -- the latest closed row of an item is its last borrower, which staff may see
    DELETE FROM pg_temp.secrets s
     WHERE s.cls = 'staff' AND s.rel = 'loans'
       AND s.id IN (SELECT DISTINCT ON (item_id) id FROM demo.loans WHERE returned_at IS NOT NULL
                     ORDER BY item_id, returned_at DESC);
$$;
SELECT pg_temp.severed_secrets();
-- a return at the desk: patron 5's loan of item 90009 is returned with a fine,
-- the fine is paid, then patron 6 borrows and returns the item, which severs
-- patron 5's loan and unlinks its fine in that transaction
SET client_min_messages = warning;
INSERT INTO demo.loans (id, patron_id, item_id, library_id, checked_out_at, due_at)
VALUES (200001, 5, 90009, 1, '2026-11-01', '2026-11-21');
UPDATE demo.loans SET returned_at = '2026-11-25', fines_settled_at = NULL WHERE id = 200001;
INSERT INTO demo.fines (patron_id, loan_id, loan_checked_out_at, amount, reason, created_at)
VALUES (5, 200001, '2026-11-01', 1.20, 'overdue', '2026-11-25 10:00');
UPDATE demo.loans SET fines_settled_at = '2026-11-26' WHERE id = 200001;
INSERT INTO demo.loans (id, patron_id, item_id, library_id, checked_out_at, due_at)
VALUES (200002, 6, 90009, 1, '2026-11-27', '2026-12-17');
UPDATE demo.loans SET returned_at = '2026-11-28', fines_settled_at = '2026-11-28' WHERE id = 200002;
-- and one of patron 9001 (opted in: kept in place, never severed) of item
-- 90010; patron 1 borrows and returns the item afterwards, and then the fine
-- of 9001's loan is paid at the desk in the transaction that settles it (a
-- return that keeps the previous last borrower writes it again, in its own
-- subtransaction: settled before that return, the row would no longer
-- carry the payment's xmin)
INSERT INTO demo.items (id, title_id, library_id, barcode) VALUES (90010, 90001, 1, 'ATK10');
INSERT INTO demo.loans (id, patron_id, item_id, library_id, checked_out_at, due_at)
VALUES (200011, 9001, 90010, 1, '2026-10-01', '2026-10-21');
UPDATE demo.loans SET returned_at = '2026-10-25', fines_settled_at = NULL WHERE id = 200011;
INSERT INTO demo.loans (id, patron_id, item_id, library_id, checked_out_at, due_at)
VALUES (200012, 1, 90010, 1, '2026-11-01', '2026-11-21');
UPDATE demo.loans SET returned_at = '2026-11-05', fines_settled_at = '2026-11-05' WHERE id = 200012;
BEGIN;
UPDATE demo.loans SET fines_settled_at = '2026-10-30' WHERE id = 200011;
INSERT INTO demo.payments (patron_id, amount, method, paid_at) VALUES (9001, 0.80, 'cash', '2026-10-30 12:00');
COMMIT;
SELECT pg_temp.refresh_secrets() > 0 AS secrets_found;
SELECT pg_temp.severed_secrets();
INSERT INTO pg_temp.secrets SELECT c, 'loans', 200001, 5 FROM unnest(ARRAY['staff', 'auditor', 'collections', 'patron']) c;
-- the ILS's view that shows a row version (an ORM's optimistic lock), owned by its owner
CREATE VIEW demo.loan_versions AS SELECT id, patron_id, xmin AS version, ctid AS place FROM demo.loans;
GRANT SELECT ON demo.loan_versions TO branch_staff, ils_app;
-- the fined loans in return order, and the fines in id order (the same order)
CREATE FUNCTION pg_temp.by_order(fines_order text) RETURNS text LANGUAGE sql AS $$
    SELECT format('SELECT l.id, f.patron_id
                     FROM (SELECT id, row_number() OVER (ORDER BY returned_at) rn FROM demo.loans
                            WHERE returned_at IS NOT NULL AND (fines_settled_at IS NULL OR fines_settled_at > returned_at)
                              AND id < 200000) l
                     JOIN (SELECT patron_id, row_number() OVER (%s) rn FROM demo.fines WHERE id < 1000000) f USING (rn)',
                  fines_order)
$$;
\set ECHO all
SELECT plan(48);

-- 1. order and time, before the backlog runs
SELECT pg_temp.attempt('before sever: payments.paid_at = loans.fines_settled_at', 'staff',
    ARRAY['SELECT l.id, p.patron_id FROM demo.payments p JOIN demo.loans l ON l.fines_settled_at = p.paid_at']);
SELECT pg_temp.attempt('before sever: fines in id order matched to fined loans in return order (no timestamp compared)', 'staff',
    ARRAY[pg_temp.by_order('ORDER BY id')]);
SELECT pg_temp.attempt('before sever: fines in physical order (no ORDER BY) matched to fined loans in return order', 'staff',
    ARRAY[pg_temp.by_order('')]);
SELECT pg_temp.attempt('before sever: fines in ctid order matched to fined loans in return order', 'staff',
    ARRAY[pg_temp.by_order('ORDER BY ctid')], control_stmts => ARRAY[pg_temp.by_order('ORDER BY ctid')]);
SELECT pg_temp.attempt('before sever: payments in id order matched to paid fined loans in settlement order', 'staff',
    ARRAY['SELECT l.id, p.patron_id
             FROM (SELECT id, row_number() OVER (ORDER BY fines_settled_at) rn FROM demo.loans
                    WHERE fines_settled_at > returned_at AND id < 200000) l
             JOIN (SELECT patron_id, row_number() OVER (ORDER BY id) rn FROM demo.payments WHERE id < 1000000) p USING (rn)']);
SELECT pg_temp.attempt('collections: fines of debtors in id order matched to fined loans in return order', 'collections',
    ARRAY[pg_temp.by_order('ORDER BY id')]);
-- what the desk still needs: the patron of a fine still owed, and its loan
SELECT is(pg_temp.probe('branch_staff', ARRAY[
    'SELECT count(*) AS n FROM demo.fines f JOIN demo.loans l ON (l.id, l.checked_out_at) = (f.loan_id, f.loan_checked_out_at)
      WHERE l.fines_settled_at IS NULL AND f.patron_id = l.patron_id']) -> 'rows' -> 0 ->> 'n',
          (SELECT count(*)::text FROM demo.fines f JOIN demo.loans l ON (l.id, l.checked_out_at) = (f.loan_id, f.loan_checked_out_at)
            WHERE l.fines_settled_at IS NULL),
          'staff read every fine still owed with its patron and its loan');
SELECT ok((SELECT count(*) FROM demo.fines f JOIN demo.loans l ON (l.id, l.checked_out_at) = (f.loan_id, f.loan_checked_out_at)
            WHERE l.fines_settled_at IS NULL) > 0, '(there are fines still owed)');
-- the balances the ILS computes from fines and payments (a bound view): the same for staff and
-- collections, although they read paid fines of hidden loans without their patron
CREATE TABLE pg_temp.true_balances AS SELECT patron_id, owed FROM demo.balances;
GRANT SELECT ON pg_temp.true_balances TO PUBLIC;
SELECT ok((SELECT count(*) FROM demo.fines f JOIN demo.loans l ON (l.id, l.checked_out_at) = (f.loan_id, f.loan_checked_out_at)
            WHERE l.returned_at IS NOT NULL AND l.fines_settled_at IS NOT NULL AND f.patron_id IN (SELECT patron_id FROM pg_temp.true_balances)) > 0,
          '(patrons with a balance have paid fines of hidden loans)');
SELECT is(pg_temp.probe('branch_staff', ARRAY[
    'SELECT count(*) AS n FROM demo.balances b FULL JOIN pg_temp.true_balances t USING (patron_id)
      WHERE b.owed IS DISTINCT FROM t.owed']) -> 'rows' -> 0 ->> 'n',
          '0', 'staff: every balance reads as the ILS computes it');
SELECT is(pg_temp.probe('branch_staff', ARRAY[
    'SELECT count(*) AS n FROM demo.patrons p
      WHERE coalesce((SELECT b.owed FROM demo.balances b WHERE b.patron_id = p.id), 0)
            IS DISTINCT FROM coalesce((SELECT t.owed FROM pg_temp.true_balances t WHERE t.patron_id = p.id), 0)']) -> 'rows' -> 0 ->> 'n',
          '0', 'staff: the desk''s balance of each patron (a correlated lookup) too');
SET pals_privacy.collections_threshold = 1;
SELECT ok((SELECT count(*) FROM pg_temp.true_balances WHERE owed > 1) > 0, '(patrons owe more than 1.00)');
SELECT is(pg_temp.probe('collections_agency', ARRAY[
    'SELECT count(*) FILTER (WHERE b.owed IS DISTINCT FROM t.owed) AS wrong, count(*) AS n
       FROM demo.balances b JOIN pg_temp.true_balances t USING (patron_id)']) -> 'rows' -> 0,
          jsonb_build_object('wrong', 0, 'n', (SELECT count(*) FROM pg_temp.true_balances
                                               WHERE owed > current_setting('pals_privacy.collections_threshold')::numeric)),
          'collections: the balances of the patrons who owe, as the ILS computes them');
RESET pals_privacy.collections_threshold;
SELECT alike(pg_temp.probe('branch_staff', ARRAY['SET LOCAL enable_seqscan = off',
                                                  'EXPLAIN (COSTS OFF) SELECT owed FROM demo.balances WHERE patron_id = 5']) ->> 'rows',
             '%fines_patron_idx%', 'staff: a balance lookup still uses the index on the fines'' patron');

-- 2. system columns
SELECT pg_temp.attempt('a severed loan and its unlinked fine share their xmin', 'staff',
    ARRAY['SELECT l.id, f.patron_id FROM demo.fines f JOIN demo.loans l ON l.xmin = f.xmin
            WHERE f.loan_id IS NULL AND l.patron_id = 0']);
SELECT pg_temp.attempt('a hidden loan and the payment made in the transaction that settled it share their xmin', 'staff',
    ARRAY['SELECT l.id, p.patron_id FROM demo.payments p JOIN demo.loans l ON l.xmin = p.xmin
            WHERE l.patron_id = 0'],
    control_stmts => ARRAY['SELECT l.id, p.patron_id FROM demo.payments p JOIN demo.loans l ON l.xmin = p.xmin
                             WHERE l.returned_at IS NOT NULL AND l.fines_settled_at IS NOT NULL']);
SELECT pg_temp.attempt('the same, through age(xmin)', 'staff',
    ARRAY['SELECT l.id, p.patron_id FROM demo.payments p JOIN demo.loans l ON age(l.xmin) = age(p.xmin)
            WHERE l.patron_id = 0'],
    control_stmts => ARRAY['SELECT l.id, p.patron_id FROM demo.payments p JOIN demo.loans l ON age(l.xmin) = age(p.xmin)
                             WHERE l.returned_at IS NOT NULL AND l.fines_settled_at IS NOT NULL']);
SELECT pg_temp.attempt('the same, through an ILS view that shows the row version', 'staff',
    ARRAY['SELECT l.id, p.patron_id FROM demo.payments p JOIN demo.loan_versions l ON l.version = p.xmin
            WHERE l.patron_id = 0'],
    control_stmts => ARRAY['SELECT l.id, p.patron_id FROM demo.payments p JOIN demo.loan_versions l ON l.version = p.xmin
                             WHERE l.id = 200011']);
SELECT pg_temp.attempt('the same, in a subquery and a CTE', 'staff',
    ARRAY['WITH v AS (SELECT xmin::text AS x, id, patron_id FROM demo.loans)
           SELECT v.id, (SELECT p.patron_id FROM demo.payments p WHERE p.xmin::text = v.x LIMIT 1) AS patron_id
             FROM v WHERE v.patron_id = 0'],
    control_stmts => ARRAY['WITH v AS (SELECT xmin::text AS x, id, patron_id FROM demo.loans)
           SELECT v.id, (SELECT p.patron_id FROM demo.payments p WHERE p.xmin::text = v.x LIMIT 1) AS patron_id
             FROM v WHERE v.id = 200011']);
SELECT pg_temp.attempt('the loan a fine''s foreign-key check locked carries the fine''s xmin as its xmax', 'staff',
    ARRAY['SELECT l.id, f.patron_id FROM demo.fines f JOIN demo.loans l ON l.xmax = f.xmin
            WHERE l.patron_id = 0'],
    control_stmts => ARRAY['SELECT l.id, f.patron_id FROM demo.fines f JOIN demo.loans l ON l.xmax = f.xmin
                             WHERE l.returned_at IS NOT NULL AND l.fines_settled_at IS NOT NULL']);
-- every door, on every kind of bound relation: NULL for staff, stored for the ILS
SELECT is(pg_temp.probe(r, ARRAY[format(
    'SELECT count(*) FILTER (WHERE xmin IS NOT NULL) AS xmin, count(*) FILTER (WHERE xmax IS NOT NULL) AS xmax,
            count(*) FILTER (WHERE cmin IS NOT NULL) AS cmin, count(*) FILTER (WHERE cmax IS NOT NULL) AS cmax,
            count(*) FILTER (WHERE ctid IS NOT NULL) AS ctid, count(*) FILTER (WHERE ctid = ''(0,1)'') AS tid_scan,
            count(*) FILTER (WHERE pg_xact_commit_timestamp(xmin) IS NOT NULL) AS commit_ts,
            count(DISTINCT tableoid) > 0 AS tableoid
       FROM %s', t)]) -> 'rows' -> 0,
          CASE WHEN r = 'branch_staff'
               THEN '{"xmin": 0, "xmax": 0, "cmin": 0, "cmax": 0, "ctid": 0, "tid_scan": 0, "commit_ts": 0, "tableoid": true}'::jsonb END,
          format('%s: the system columns of %s read as NULL (tableoid as stored)', r, t))
  FROM unnest(ARRAY['demo.loans', 'demo.holds', 'demo.fines', 'demo.loan_events', 'demo.payments',
                    'demo.patrons', 'demo.addresses']) t, (VALUES ('branch_staff')) v(r);
SELECT ok(pg_temp.probe('ils_app', ARRAY['SELECT count(*) AS n FROM demo.loans l JOIN demo.fines f ON l.xmin = f.xmin']) -> 'rows' -> 0 ->> 'n' <> '0',
          'operational: xmin reads as stored (the ILS''s optimistic locking keeps working)');
SELECT alike(pg_temp.probe('ils_app', ARRAY['SELECT pg_xact_commit_timestamp(xmin) FROM demo.loans LIMIT 1']) ->> 'err',
            '55000 could not get commit timestamp data', 'operational: pg_xact_commit_timestamp(xmin) runs (and fails: track_commit_timestamp is off)');
SELECT is(pg_temp.probe('opac', ARRAY['SELECT count(*) FILTER (WHERE xmin IS NOT NULL OR ctid IS NOT NULL) AS n, count(*) AS rows
                                         FROM demo.reading_history']) -> 'rows' -> 0,
          '{"n": 0, "rows": 6}'::jsonb, 'patron: the system columns of their own private history read as NULL');
SELECT is(pg_temp.probe('branch_staff', ARRAY[
    'INSERT INTO demo.payments (patron_id, amount, paid_at) VALUES (5, 1, now()) RETURNING xmin, ctid, cmin',
    'UPDATE demo.payments SET amount = 2 WHERE id = (SELECT max(id) FROM demo.payments) RETURNING xmin, ctid, xmax',
    'UPDATE demo.loans SET due_at = due_at WHERE xmin IS NULL AND returned_at IS NULL AND patron_id = 5 RETURNING id, xmin']) -> 'rows',
          (SELECT jsonb_agg(r) FROM (SELECT NULL AS xmin, NULL AS ctid, NULL AS cmin) r)
          || (SELECT jsonb_agg(r) FROM (SELECT NULL AS xmin, NULL AS ctid, NULL AS xmax) r)
          || (SELECT coalesce(jsonb_agg(r ORDER BY id), '[]') FROM (SELECT id, NULL AS xmin FROM demo.loans
                                                                 WHERE returned_at IS NULL AND patron_id = 5) r),
          'staff: RETURNING and WHERE of a write read the system columns as NULL (the write itself happens)');
SELECT is(pg_temp.probe('branch_staff', ARRAY[
    'SELECT count(*) AS n FROM demo.loans l WHERE l.ctid = ANY (ARRAY(SELECT ctid FROM demo.fines))']) -> 'rows' -> 0 ->> 'n',
          '0', 'staff: a TID scan with places read from another bound relation finds nothing');

-- 3. staff update patrons and addresses: the ILS's audit triggers run as the ILS
SELECT is(pg_temp.probe('branch_staff', ARRAY['UPDATE demo.patrons SET expires_on = expires_on WHERE id = 5']) ->> 'err',
          NULL, 'staff can still update a patron (the ILS''s audit trigger writes the old row)');
SELECT is(pg_temp.probe('branch_staff', ARRAY['UPDATE demo.addresses SET phone = phone WHERE patron_id = 5']) ->> 'err',
          NULL, 'staff can still update an address (the ILS''s audit trigger writes the old row)');
SELECT is(pg_temp.probe('branch_staff', ARRAY['UPDATE demo.patrons SET expires_on = expires_on + 1 WHERE id = 5',
                                              'SELECT count(*) AS n FROM demo.patron_history'],
                        'SELECT count(*) FROM demo.patron_history WHERE patron_id = 5 AND expires_on IS NOT NULL') -> 'rows',
          '[{"n": 0}]'::jsonb, 'the audit row is written, and staff read no row of the history');
SELECT is(pg_temp.probe('branch_staff', ARRAY['UPDATE demo.patrons SET expires_on = expires_on + 1 WHERE id = 5'],
                        'SELECT count(*) FROM demo.patron_history WHERE patron_id = 5 AND expires_on IS NOT NULL') ->> 'check',
          (SELECT (count(*) + 1)::text FROM demo.patron_history WHERE patron_id = 5 AND expires_on IS NOT NULL),
          'the ILS''s audit trigger wrote the old row of the staff update');
SELECT alike(pg_temp.probe('branch_staff', ARRAY['INSERT INTO demo.patron_history (audit_action, patron_id) VALUES (''U'', 5)']) ->> 'err',
            '42501 %', 'staff cannot write into the history themselves');
SELECT alike(pg_temp.probe('branch_staff', ARRAY['SELECT demo.audit_patron()']) ->> 'err',
            '42501 %', 'nor call the audit trigger function');

-- the backlog severs the hidden loans and unlinks their fines
SET client_min_messages = warning;
CALL pals_privacy.sever_backlog(batch_size => 1000);
SELECT pg_temp.refresh_secrets() > 0 AS secrets_left_in_place;
SELECT pg_temp.severed_secrets();
INSERT INTO pg_temp.secrets SELECT c, 'loans', 200001, 5 FROM unnest(ARRAY['staff', 'auditor', 'collections', 'patron']) c;
SELECT ok((SELECT count(*) FROM demo.fines WHERE loan_id IS NULL) > 50, 'the backlog unlinked the fines of the severed loans');

SELECT pg_temp.attempt('after sever: payments.paid_at = loans.fines_settled_at', 'staff',
    ARRAY['SELECT l.id, p.patron_id FROM demo.payments p JOIN demo.loans l ON l.fines_settled_at = p.paid_at']);
SELECT pg_temp.attempt('after sever: unlinked fines in id order matched to severed fined loans in return order', 'staff',
    ARRAY['SELECT l.id, f.patron_id
             FROM (SELECT id, row_number() OVER (ORDER BY returned_at) rn FROM demo.loans
                    WHERE patron_id = 0 AND fines_settled_at > returned_at) l
             JOIN (SELECT patron_id, row_number() OVER (ORDER BY id) rn FROM demo.fines WHERE loan_id IS NULL) f USING (rn)']);
-- ctid order after the backlog: staff read every ctid NULL, so the pairing finds nothing.  Whether
-- the physical order would still pair them for a role that reads ctid depends on how the backlog
-- wrote the batch (the copies are severed by a part of the batch's statement, in the copy's own
-- order); the control is that the ILS reads the very ctids staff read as NULL.
SELECT is(pg_temp.leaked('staff', 'loans', pg_temp.probe(pg_temp.role_of('staff'),
    ARRAY['SELECT l.id, f.patron_id
             FROM (SELECT id, row_number() OVER (ORDER BY ctid) rn FROM demo.loans_2025
                    WHERE patron_id = 0 AND (fines_settled_at IS NULL OR fines_settled_at > returned_at)) l
             JOIN (SELECT patron_id, row_number() OVER (ORDER BY ctid) rn FROM demo.fines
                    WHERE loan_id IS NULL AND created_at IS NULL) f USING (rn)'])), 0::bigint,
          'staff: after sever: severed loans and unlinked fines in ctid order');
SELECT is(pg_temp.probe('ils_app', ARRAY['SELECT count(ctid) AS n FROM demo.fines WHERE loan_id IS NULL']) -> 'rows' -> 0 ->> 'n',
          (SELECT count(*)::text FROM demo.fines WHERE loan_id IS NULL),
          'control: after sever, the ILS reads the ctid of every unlinked fine (staff read NULL)');
SELECT is(pg_temp.probe('opac', ARRAY['SELECT count(*) FILTER (WHERE patron_id IS NULL) AS masked, count(*) AS n FROM demo.fines']) -> 'rows' -> 0 ->> 'n',
          (SELECT count(*)::text FROM demo.fines WHERE patron_id = 9011),
          'patron: their own fines are still theirs to read');


-- current_when: a copy row that is the current account keeps its patron (Koha severs a loan whose
-- fine is still owed); here, as a stand-in, fines over 8.00
CREATE FUNCTION pg_temp.over8() RETURNS jsonb LANGUAGE sql AS $$
    SELECT pg_temp.probe('branch_staff', ARRAY['SELECT count(*) FILTER (WHERE patron_id IS NOT NULL) AS shown,
                                                       count(*) FILTER (WHERE loan_id IS NOT NULL OR created_at IS NOT NULL) AS linked
                                                  FROM demo.fines WHERE amount > 8']) -> 'rows' -> 0
$$;
CREATE TABLE pg_temp.over8_before AS SELECT pg_temp.over8() AS r;
SELECT ok(((SELECT r FROM pg_temp.over8_before) ->> 'shown')::int < (SELECT count(*) FROM demo.fines WHERE amount > 8),
          'without current_when: staff read the patron of fines over 8.00 only where they read the loan''s');
\o /dev/null
SELECT pals_privacy.unbind_copy('demo.fines');
SELECT pals_privacy.bind_copy('demo.fines', 'demo.loans', key_columns => '{loan_id,loan_checked_out_at}',
                              source_keys => '{id,checked_out_at}', patron_column => 'patron_id', sever_with => 'unlink',
                              hide_columns => '{created_at}', current_when => 'amount > 8');
\o
SELECT is(pg_temp.over8(),
          jsonb_build_object('shown', (SELECT count(*) FROM demo.fines WHERE amount > 8),
                             'linked', (SELECT r FROM pg_temp.over8_before) -> 'linked'),
          'current_when: staff read the patron of every fine it names, and still no hidden link or time');
SELECT throws_ok($$SELECT pals_privacy.bind_copy('demo.loan_events', 'demo.loans', key_columns => '{loan_id,loan_checked_out_at}',
                                                 source_keys => '{id,checked_out_at}', patron_column => 'patron_id',
                                                 sever_with => 'delete', current_when => 'true')$$,
                 '22023', 'bind_copy: current_when has no use with sever_with => ''delete''', 'current_when is refused with ''delete''');
SELECT throws_ok($$SELECT pals_privacy.bind_copy('demo.fines', 'demo.loans', key_columns => '{loan_id,loan_checked_out_at}',
                                                 source_keys => '{id,checked_out_at}', patron_column => 'patron_id',
                                                 sever_with => 'unlink', current_when => 'no_such_column > 0')$$,
                 '42703', NULL, 'current_when is parsed at bind time');

SELECT * FROM finish();
\set ECHO none
\i test/attack/done.sql
