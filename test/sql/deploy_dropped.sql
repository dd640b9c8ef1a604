-- Dropped relations (issue 15): an sql_drop event trigger removes the
-- bindings of a dropped relation, with an audit entry, and the severing
-- state of rows that lived in a dropped partition or inheritance child; a
-- bound column cannot be dropped; maintenance skips and reports a binding
-- whose relation went away without a DROP, and no binding names a dead OID.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pals_privacy;
BEGIN;
SELECT plan(22);

CREATE SCHEMA dr;
CREATE TABLE dr.patrons (id bigint PRIMARY KEY, expires date NOT NULL DEFAULT 'infinity', email text);
INSERT INTO dr.patrons (id) SELECT g FROM generate_series(0, 20) g;
-- loans: partitioned; holds: an inheritance tree; a view as balance
CREATE TABLE dr.loans (id int, patron_id bigint, item_id int NOT NULL, out_on date NOT NULL, returned date)
    PARTITION BY RANGE (out_on);
CREATE TABLE dr.loans_2024 PARTITION OF dr.loans FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE TABLE dr.loans_2025 PARTITION OF dr.loans FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
CREATE TABLE dr.holds (patron_id bigint, title_id int NOT NULL, done date);
CREATE TABLE dr.old_holds () INHERITS (dr.holds);
CREATE TABLE dr.fines (patron_id bigint, owed numeric NOT NULL DEFAULT 0);
CREATE VIEW dr.balances AS SELECT patron_id, sum(owed) AS owed FROM dr.fines GROUP BY 1;
CREATE TABLE dr.receipts (patron_id bigint, printed_at timestamptz NOT NULL);
SELECT pals_privacy.bind_patrons('dr.patrons', 'id', 'expires');
SELECT pals_privacy.bind_contact('dr.patrons', 'email', 'id', 'email');
SELECT pals_privacy.bind_loans('dr.loans', 'patron_id', 'item_id', '{returned}');
SELECT pals_privacy.bind_loans('dr.holds', 'patron_id', 'title_id', '{done}');
SELECT pals_privacy.bind_balance('dr.balances', 'patron_id', 'owed');
SELECT pals_privacy.retain('dr.receipts', 'printed_at', '30 days');
-- item 1: 3 returns in 2024, then one in 2025 (the last borrower lives in loans_2025)
INSERT INTO dr.loans VALUES (1, 1, 1, '2024-02-01', '2024-02-10'), (2, 2, 1, '2024-03-01', '2024-03-10'),
                            (3, 3, 2, '2024-04-01', '2024-04-10'), (4, 4, 1, '2025-01-05', '2025-01-10');
INSERT INTO dr.old_holds VALUES (5, 7, '2024-01-01');
SELECT is((SELECT count(*) FROM pals_privacy.last_borrower l JOIN pals_privacy.bindings b ON b.relation::oid = l.binding
            WHERE b.relation = 'dr.loans'::regclass), 2::bigint, 'items 1 and 2 are tracked');

-- a partition holding tracked rows
SELECT is((SELECT count(*) FROM pals_privacy.last_borrower WHERE row_relid = 'dr.loans_2024'::regclass), 1::bigint,
          'item 2''s last borrower lives in loans_2024');
DROP TABLE dr.loans_2024;
SELECT is((SELECT count(*) FROM pals_privacy.last_borrower l WHERE NOT EXISTS (SELECT FROM pg_class c WHERE c.oid = l.row_relid)),
          0::bigint, 'dropping a partition: no tracker entry names it any more');
SELECT is((SELECT count(*) FROM pals_privacy.bindings WHERE relation = 'dr.loans'::regclass), 1::bigint,
          '... and the partitioned table stays bound');
SELECT lives_ok($$UPDATE dr.loans SET returned = '2025-06-01' WHERE false$$, '... and its trigger still runs');

-- an inheritance child
SELECT is((SELECT count(*) FROM pals_privacy.last_borrower WHERE row_relid = 'dr.old_holds'::regclass), 1::bigint,
          'a hold in the inheritance child is tracked');
DROP TABLE dr.old_holds;
SELECT is((SELECT count(*) FROM pals_privacy.last_borrower l WHERE NOT EXISTS (SELECT FROM pg_class c WHERE c.oid = l.row_relid)),
          0::bigint, 'dropping an inheritance child: its tracker entries go');
SELECT is((SELECT count(*) FROM pals_privacy.bindings WHERE relation = 'dr.holds'::regclass), 1::bigint,
          '... and the parent stays bound');

-- a bound table
CREATE TEMP TABLE audit_before AS SELECT coalesce(max(id), 0) AS id FROM pals_privacy.audit_log;
SELECT 'dr.holds'::regclass::oid AS holds_oid \gset
DROP TABLE dr.holds;
SELECT is((SELECT count(*) FROM pals_privacy.bindings WHERE relation::oid = :holds_oid), 0::bigint,
          'dropping a bound table removes its binding');
SELECT is((SELECT count(*) FROM pals_privacy.last_borrower WHERE binding = :holds_oid), 0::bigint,
          '... and its tracker entries');
SELECT is((SELECT details FROM pals_privacy.audit_log WHERE id > (SELECT id FROM audit_before) AND event = 'binding.relation_dropped'),
          jsonb_build_object('relation', 'dr.holds', 'oid', :holds_oid, 'bindings', '["loan_binding"]'::jsonb, 'why', 'dropped'),
          '... with an audit entry naming the relation');
SELECT is(pals_privacy.verify_audit(), NULL, 'the audit chain still verifies');

-- a bound view (balance) and a retained table
DROP VIEW dr.balances;
SELECT is((SELECT count(*) FROM pals_privacy.bindings WHERE kind = 'balance'), 0::bigint, 'dropping a bound view removes its binding');

-- a temporary table
CREATE TEMP TABLE tmp_outbox (patron_id bigint, channel text);
SELECT pals_privacy.bind_outbox('tmp_outbox', 'patron_id', 'channel', 'notices', on_missing_consent => 'drop');
DROP TABLE tmp_outbox;
SELECT is((SELECT count(*) FROM pals_privacy.bindings WHERE kind = 'outbox'), 0::bigint,
          'dropping a bound temporary table removes its binding');

-- a bound column cannot be dropped; an unbound one can
SELECT throws_ok($$ALTER TABLE dr.patrons DROP COLUMN email$$, '2BP01',
                 'cannot drop column dr.patrons.email: pals_privacy has it bound',
                 'dropping a bound column is refused');
SELECT throws_ok($$ALTER TABLE dr.receipts DROP COLUMN printed_at$$, '2BP01', NULL,
                 'dropping the timestamp column of a retention rule is refused');
SELECT lives_ok($$ALTER TABLE dr.receipts DROP COLUMN patron_id$$, 'dropping a column no binding names works');

-- a relation gone without a DROP (a temporary table of an ended session):
-- simulated by forgetting the catalog row's existence through a dead OID
SET LOCAL session_replication_role = replica;   -- no audit trigger: this is damage, not a change
INSERT INTO pals_privacy.retention_rule (relation, timestamp_column, keep) VALUES (4000000000::oid::regclass, 'at', '1 day');
RESET session_replication_role;
SELECT results_eq($$SELECT kind, relation::oid::bigint, problem FROM pals_privacy.binding_problems()$$,
                  $$VALUES ('retain', 4000000000::bigint, 'relation with OID 4000000000 no longer exists')$$,
                  'binding_problems() names the binding of a relation that no longer exists');
SELECT is(pals_privacy._forget_dead_bindings(), 1, 'maintenance''s sweep removes it');
SELECT is((SELECT count(*) FROM pals_privacy.bindings b WHERE NOT EXISTS (SELECT FROM pg_class c WHERE c.oid = b.relation::oid)),
          0::bigint, 'no binding names a dead OID');
SELECT is((SELECT count(*) FROM pals_privacy.audit_log WHERE event = 'binding.relation_dropped' AND details ->> 'why' = 'no longer exists'),
          1::bigint, '... and the removal is audited');

-- the patron table itself: the binding goes, with a warning
SELECT pals_privacy.unbind('dr.loans');
SELECT pals_privacy.unbind('dr.receipts');
DROP TABLE dr.patrons CASCADE;
SELECT is((SELECT count(*) FROM pals_privacy.bindings), 0::bigint, 'dropping the patron table removes its bindings (patrons, contact)');

SELECT * FROM finish();
ROLLBACK;
