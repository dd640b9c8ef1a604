-- A loan relation partitioned by a patron column cannot be severed (the
-- sever changes the patron in place and cannot move the row to another
-- partition): bind_loans refuses it at any level of partitioning, and a
-- partition partitioned so cannot be created or attached under a bound loan
-- relation later.  Partitioning by date or item binds and severs.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pals_privacy;
BEGIN;
SELECT plan(17);
CREATE SCHEMA pk;
CREATE TABLE pk.patrons (id bigint PRIMARY KEY, expires date NOT NULL);
INSERT INTO pk.patrons VALUES (0, 'infinity'), (1, 'infinity'), (2, 'infinity');
SELECT pals_privacy.bind_patrons('pk.patrons', 'id', 'expires');

-- hash partitions by the patron
CREATE TABLE pk.by_patron (id int, patron_id bigint, item_id int, returned date) PARTITION BY HASH (patron_id);
CREATE TABLE pk.by_patron_0 PARTITION OF pk.by_patron FOR VALUES WITH (MODULUS 2, REMAINDER 0);
CREATE TABLE pk.by_patron_1 PARTITION OF pk.by_patron FOR VALUES WITH (MODULUS 2, REMAINDER 1);
SELECT throws_ok($$SELECT pals_privacy.bind_loans('pk.by_patron', 'patron_id', 'item_id', ARRAY['returned'])$$,
                 '0A000', 'bind_loans: "pk.by_patron" is partitioned by the patron column "patron_id"',
                 'a relation hash-partitioned by the patron column is refused');
SELECT throws_ok($$SELECT pals_privacy.bind_loans('pk.by_patron', 'patron_id', 'item_id', ARRAY['returned'], sever_with => 'patron:0')$$,
                 '0A000', NULL, 'also with a placeholder');
-- 'delete' moves nothing
SELECT lives_ok($$SELECT pals_privacy.bind_loans('pk.by_patron', 'patron_id', 'item_id', ARRAY['returned'], sever_with => 'delete')$$,
                'with sever_with => ''delete'' it binds');
SELECT pals_privacy.unbind('pk.by_patron');

-- a sub-partition by the patron under a range by date
CREATE TABLE pk.by_year (id int, patron_id bigint, item_id int, returned date) PARTITION BY RANGE (returned);
CREATE TABLE pk.by_year_2026 PARTITION OF pk.by_year FOR VALUES FROM ('2026-01-01') TO ('2027-01-01')
    PARTITION BY LIST (patron_id);
CREATE TABLE pk.by_year_2026_a PARTITION OF pk.by_year_2026 DEFAULT;
SELECT throws_ok($$SELECT pals_privacy.bind_loans('pk.by_year', 'patron_id', 'item_id', ARRAY['returned'])$$,
                 '0A000', 'bind_loans: "pk.by_year_2026" is partitioned by the patron column "patron_id"',
                 'a sub-partition by the patron column is refused');
DROP TABLE pk.by_year_2026;

-- an expression over the patron column, and one of more_patron_columns
CREATE TABLE pk.by_expr (id int, patron_id bigint, proxy bigint, item_id int, returned date) PARTITION BY RANGE ((patron_id % 10));
CREATE TABLE pk.by_expr_all PARTITION OF pk.by_expr DEFAULT;
SELECT throws_ok($$SELECT pals_privacy.bind_loans('pk.by_expr', 'patron_id', 'item_id', ARRAY['returned'])$$,
                 '0A000', 'bind_loans: "pk.by_expr" is partitioned by the patron column "patron_id"',
                 'a partition key that is an expression over the patron column is refused');
CREATE TABLE pk.by_proxy (id int, patron_id bigint, proxy bigint, item_id int, returned date) PARTITION BY LIST (proxy);
CREATE TABLE pk.by_proxy_all PARTITION OF pk.by_proxy DEFAULT;
SELECT throws_ok($$SELECT pals_privacy.bind_loans('pk.by_proxy', 'patron_id', 'item_id', ARRAY['returned'], sever_with => 'delete', more_patron_columns => ARRAY['proxy'])$$,
                 '0A000', 'bind_loans: "pk.by_proxy" is partitioned by the patron column "proxy"',
                 'a key on one of more_patron_columns is refused, even with ''delete'' (a purge clears it in place)');
-- a column whose name only contains the patron column's is not a key on it
CREATE TABLE pk.by_other (id int, patron_id bigint, patron_id_old bigint, item_id int, returned date) PARTITION BY RANGE ((patron_id_old % 10));
CREATE TABLE pk.by_other_all PARTITION OF pk.by_other DEFAULT;
SELECT lives_ok($$SELECT pals_privacy.bind_loans('pk.by_other', 'patron_id', 'item_id', ARRAY['returned'])$$,
                'a key on another column whose name begins with the patron column''s binds');
SELECT pals_privacy.unbind('pk.by_other');

-- by date binds; a partition by the patron can then be neither created nor attached
SELECT lives_ok($$SELECT pals_privacy.bind_loans('pk.by_year', 'patron_id', 'item_id', ARRAY['returned'])$$,
                'a relation partitioned by date binds');
SELECT throws_ok($$CREATE TABLE pk.by_year_2027 PARTITION OF pk.by_year FOR VALUES FROM ('2027-01-01') TO ('2028-01-01') PARTITION BY HASH (patron_id)$$,
                 '0A000', 'partition of bound pk.by_year: "pk.by_year_2027" is partitioned by the patron column "patron_id"',
                 'a partition by the patron cannot be created under a bound loan relation');
CREATE TABLE pk.loose (id int, patron_id bigint, item_id int, returned date) PARTITION BY HASH (patron_id);
CREATE TABLE pk.loose_0 PARTITION OF pk.loose FOR VALUES WITH (MODULUS 1, REMAINDER 0);
SELECT throws_ok($$ALTER TABLE pk.by_year ATTACH PARTITION pk.loose FOR VALUES FROM ('2028-01-01') TO ('2029-01-01')$$,
                 '0A000', NULL, 'nor attached');
SELECT is((SELECT count(*) FROM pg_inherits WHERE inhrelid IN ('pk.loose'::regclass) ), 0::bigint,
          'the refused partition is not attached');

-- one attached while the event trigger was off (or bound before 0.2.0):
-- binding_problems() names it, which holds back the purge
SELECT is((SELECT count(*) FROM pals_privacy.binding_problems()), 0::bigint, 'no binding problem before');
ALTER EVENT TRIGGER pals_privacy_inheritance DISABLE;
ALTER TABLE pk.by_year ATTACH PARTITION pk.loose FOR VALUES FROM ('2028-01-01') TO ('2029-01-01');
ALTER EVENT TRIGGER pals_privacy_inheritance ENABLE;
SELECT results_eq($$SELECT kind, relation::text, problem FROM pals_privacy.binding_problems()$$,
                  $$VALUES ('loans', 'pk.by_year', '"pk.loose" is partitioned by the patron column "patron_id": its severed rows keep their patron')$$,
                  'binding_problems() names a partition by the patron attached behind the event trigger''s back');
ALTER TABLE pk.by_year DETACH PARTITION pk.loose;

-- partitions by date sever
CREATE TABLE pk.by_year_2026 PARTITION OF pk.by_year FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
CREATE TABLE pk.by_year_open PARTITION OF pk.by_year DEFAULT;
INSERT INTO pk.by_year VALUES (1, 1, 10, NULL);
UPDATE pk.by_year SET returned = '2026-02-01' WHERE id = 1;
INSERT INTO pk.by_year VALUES (2, 2, 10, NULL);
UPDATE pk.by_year SET returned = '2026-03-01' WHERE id = 2;
SELECT is((SELECT patron_id FROM pk.by_year WHERE id = 1), NULL, 'a return severs the earlier loan, moved to its year');
SELECT is((SELECT patron_id FROM pk.by_year WHERE id = 2), 2::bigint, 'and keeps the last borrower');

-- an unbound relation is left alone, and detaching is not refused
SELECT lives_ok($$CREATE TABLE pk.free (id int, patron_id bigint) PARTITION BY HASH (patron_id)$$,
                'an unrelated relation partitioned by a column named like a patron column is created');
SELECT lives_ok($$ALTER TABLE pk.by_year DETACH PARTITION pk.by_year_2026$$, 'a partition detaches from a bound relation');

SELECT * FROM finish();
ROLLBACK;
