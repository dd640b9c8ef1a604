-- The whole-schema walk (issue 14): after severing and after purge, no class
-- below operational can find a purged patron, or tie a former borrower to
-- an item, through ANY relation of the database.
--
-- The relations and columns are not listed here: they are read from the
-- catalog (every table, partition, child, view and materialized view of every
-- schema but the system's), and so are the columns that hold a patron (a
-- foreign key to the bound patron table, or a bound patron column) and an
-- item (a foreign key to a relation a bound item column references, or a
-- bound item column).  A relation or a column added to the demo, or to
-- pals_privacy, is walked without a change here.
--
-- The sample consortium (demo/*.sql, scale 0.01, every shape of
-- docs/fitting-your-ils.md), bound by demo/bind.sql, plus one crafted patron
-- Z whose card expired long ago: loans (one of them the last borrower of its
-- item), a fine and a payment, loan notices naming Z and the item, device
-- loans (one lost and paid, one renewed), a per-transaction summary, a
-- miscellaneous charge, holds with and without an item, sign-ups, receipts,
-- an outgoing notice, an address changed once (the ILS's audit history kept
-- the old one), reading history.
--
-- For each class (staff, collections, auditor, statistics, and a patron
-- logged in as another patron W) the walk reads every relation as that
-- class and looks for
--   1. Z's id (as a whole value, anywhere but the patron table's own id
--      column), card number, name and e-mail address, in every column;
--   2. the same, through a filter: count(*) WHERE column = / LIKE the needle,
--      for every column (a masked column must not match in WHERE either);
--   3. a former borrower tied to an item: a (patron, item) pair of a loan,
--      device loan or hold that severing or purge took the patron from, in
--      one visible row, in two visible rows joined by a foreign key of the
--      catalog, or in one text value (a rendered notice) that names the
--      patron and the item's barcode.
-- The operational role (the ILS) runs the same walk before the sever and
-- finds all three: the walk can see what it looks for.
\set ECHO none
-- The walk itself is test/walk.sql (koha_shape and evergreen_shape walk
-- their schemas with it too).
\set own_db identity_walk
\i test/own_database.sql
SET client_min_messages = error;
\o /dev/null
\i demo/schema.sql
\set scale 0.01
\i demo/generate.sql
\i demo/roles.sql

-- Z (987654321): everything an ILS records about a patron; W (987654322): the
-- patron a patron-class session logs in as
INSERT INTO demo.patrons (id, library_id, name, card_number, birth_date, expires_on, keep_history) VALUES
    (987654321, 3, 'Zebulon Walkerquist', '29876543210777', '1970-05-05', '2024-01-01', false),
    (987654322, 3, 'Wanda Other', '29876543220888', '1980-01-01', '2030-01-01', false);
INSERT INTO demo.addresses (patron_id, email, postal) VALUES
    (987654321, 'zebulon@walk.example', '1 Quiet Lane, Cedar Falls'),
    (987654322, 'wanda@walk.example', '2 Quiet Lane, Cedar Falls');
UPDATE demo.addresses SET postal = '9 Quiet Lane, Cedar Falls' WHERE patron_id = 987654321;
INSERT INTO demo.titles (id, title) VALUES (99001, 'Walk Title');
INSERT INTO demo.items (id, title_id, library_id, barcode) VALUES
    (99001, 99001, 3, '39900100000001'), (99002, 99001, 3, '39900100000002'),
    (99003, 99001, 3, '39900100000003');
-- Z borrowed items 99001 and 99002, then W did (Z is nobody's last borrower
-- there); Z is the last borrower of 99003; one loan was fined and paid
INSERT INTO demo.loans (id, patron_id, item_id, library_id, checked_out_at, due_at, returned_at, fines_settled_at) VALUES
    (990001, 987654321, 99001, 3, '2025-02-01', '2025-02-21', '2025-03-01', '2025-03-05'),
    (990002, 987654321, 99002, 3, '2025-02-01', '2025-02-21', '2025-02-10', '2025-02-10'),
    (990003, 987654321, 99003, 3, '2025-02-01', '2025-02-21', '2025-02-10', '2025-02-10'),
    (990011, 987654322, 99001, 3, '2025-04-01', '2025-04-21', '2025-04-10', '2025-04-10'),
    (990012, 987654322, 99002, 3, '2025-04-01', '2025-04-21', '2025-04-10', '2025-04-10');
INSERT INTO demo.fines (patron_id, loan_id, loan_checked_out_at, amount, created_at) VALUES
    (987654321, 990001, '2025-02-01', 1.50, '2025-03-01');
INSERT INTO demo.payments (patron_id, amount, paid_at) VALUES (987654321, 1.50, '2025-03-05');
INSERT INTO demo.loan_events (loan_id, loan_checked_out_at, patron_id, kind, rendered, created_at) VALUES
    (990001, '2025-02-01', 987654321, 'overdue',
     'Dear Zebulon Walkerquist, "Walk Title" (item 39900100000001) was due on 2025-02-21.', '2025-02-22'),
    (990002, '2025-02-01', 987654321, 'courtesy',
     'Dear Zebulon Walkerquist, "Walk Title" (item 39900100000002) is due on 2025-02-21.', '2025-02-19');
INSERT INTO demo.devices (id, library_id, kind, barcode) VALUES (99001, 3, 'laptop', 'D990010001'), (99002, 3, 'hotspot', 'D990010002');
-- device 99001: lost by Z and paid for (closed by the condition), then lent
-- to W; device 99002: lent to Z, renewed, returned, then lent to W
INSERT INTO demo.device_loans (id, patron_id, xact_start, xact_finish, device_id, due_at, checkin_time, stop_reason, renews_xact_id) VALUES
    (990101, 987654321, '2025-02-01', '2025-03-20', 99001, '2025-02-21', NULL, 'LOST', NULL),
    (990102, 987654322, '2025-04-01', '2025-04-10', 99001, '2025-04-21', '2025-04-10', NULL, NULL),
    (990103, 987654321, '2025-02-01', '2025-02-20', 99002, '2025-02-21', '2025-02-20', NULL, NULL),
    (990104, 987654321, '2025-02-20', '2025-03-01', 99002, '2025-03-10', '2025-03-01', NULL, 990103),
    (990105, 987654322, '2025-04-01', '2025-04-10', 99002, '2025-04-21', '2025-04-10', NULL, NULL);
INSERT INTO demo.misc_charges (id, patron_id, xact_start, xact_finish, billing_type, note) VALUES
    (990201, 987654321, '2025-02-01', '2025-02-02', 'printing', NULL);
INSERT INTO demo.holds (patron_id, title_id, item_id, pickup_library_id, placed_at, fulfilled_at, cancelled_at) VALUES
    (987654321, 99001, NULL, 3, '2025-01-01', NULL, '2025-01-09'),
    (987654321, 99001, 99002, 3, '2025-01-20', '2025-02-01', NULL);
INSERT INTO demo.internet_signups (patron_id, library_id, workstation, signed_up_at) VALUES (987654321, 3, 'PC-99', now());
INSERT INTO demo.receipts (patron_id, library_id, printed_at, body) VALUES
    (987654321, 3, now(), 'Checkout receipt for Zebulon Walkerquist, card 29876543210777: 1 item(s)');
INSERT INTO demo.notice_outbox (patron_id, channel, body, created_at) VALUES
    (987654321, 'email', 'Dear Zebulon Walkerquist, your card expires soon.', '2024-01-01');
INSERT INTO demo.reading_history (patron_id, title_id, read_at, note) VALUES (987654321, 99001, '2025-02-02', 'Zebulon liked it');
-- W has an open loan and an own fine (a patron-class session reads its own)
INSERT INTO demo.loans (id, patron_id, item_id, library_id, checked_out_at, due_at) VALUES
    (990021, 987654322, 99003, 3, '2026-10-01', '2026-10-21');
ANALYZE;

CREATE EXTENSION pals_privacy;
CREATE EXTENSION pgtap;
SET client_min_messages = error;
\i demo/bind.sql
\o /dev/null
SET client_min_messages = error;
SET pals_privacy.pin_iterations = 10000;
SELECT pals_privacy.set_pin('987654322', '4242');
RESET pals_privacy.pin_iterations;
SET client_min_messages = warning;

------------------------------------------------------------------------------
-- What the catalog says
------------------------------------------------------------------------------

-- every relation a role could read
CREATE TABLE pg_temp.walk_relations AS
SELECT c.oid::regclass AS rel, c.relkind
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f')
   AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_toast%'
   AND n.nspname NOT LIKE 'pg\_temp%';
-- the patron table, and the relations bound item columns point at
CREATE TABLE pg_temp.walk_targets AS
SELECT 'p'::text AS role, relation AS rel FROM pals_privacy.patron_binding
UNION
SELECT 'i', c.confrelid::regclass
  FROM pals_privacy.loan_binding b
  JOIN pg_attribute a ON a.attrelid = b.relation AND a.attname = b.item_column
  JOIN pg_constraint c ON c.conrelid = b.relation AND c.contype = 'f' AND c.conkey = ARRAY[a.attnum];
-- columns that hold a patron ('p') or an item ('i'): a foreign key to one of
-- those, or a bound patron or item column (of the relation or an ancestor)
CREATE TABLE pg_temp.walk_columns AS
SELECT DISTINCT t.role, c.conrelid::regclass AS rel, a.attname AS col
  FROM pg_constraint c JOIN pg_temp.walk_targets t ON t.rel = c.confrelid
  JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
 WHERE c.contype = 'f' AND cardinality(c.conkey) = 1
UNION
SELECT 'p', r.rel, b.settings ->> 'patron_column' FROM pals_privacy.bindings b
  JOIN pg_temp.walk_relations r ON r.rel = b.relation OR r.rel IN (SELECT inhrelid FROM pg_inherits WHERE inhparent = b.relation)
 WHERE b.settings ? 'patron_column'
UNION
SELECT 'i', r.rel, b.item_column FROM pals_privacy.loan_binding b
  JOIN pg_temp.walk_relations r ON r.rel = b.relation OR r.rel IN (SELECT inhrelid FROM pg_inherits WHERE inhparent = b.relation);
-- every foreign key between two relations (but to the patron table)
CREATE TABLE pg_temp.walk_keys AS
SELECT c.conrelid::regclass AS src, ARRAY(SELECT a.attname::text FROM unnest(c.conkey) WITH ORDINALITY k(n, o)
                                          JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n ORDER BY k.o) AS src_cols,
       c.confrelid::regclass AS dst, ARRAY(SELECT a.attname::text FROM unnest(c.confkey) WITH ORDINALITY k(n, o)
                                          JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n ORDER BY k.o) AS dst_cols
  FROM pg_constraint c WHERE c.contype = 'f'
   AND c.conrelid IN (SELECT rel FROM pg_temp.walk_relations) AND c.confrelid IN (SELECT rel FROM pg_temp.walk_relations)
   AND c.confrelid NOT IN (SELECT rel FROM pg_temp.walk_targets WHERE role = 'p');

-- Ground truth: every identified row of a loan binding now, by its primary
-- key (after the walk phases: those whose patron is gone are former borrowers)
CREATE FUNCTION pg_temp.identified_rows() RETURNS TABLE (rel regclass, pk jsonb, patron text, item text)
LANGUAGE plpgsql AS $$
DECLARE b record; t regclass; pk text[];
BEGIN
    FOR b IN SELECT * FROM pals_privacy.loan_binding LOOP
        FOR t IN SELECT b.relation UNION SELECT inhrelid::regclass FROM pg_inherits WHERE inhparent = b.relation LOOP
            pk := ARRAY(SELECT a.attname::text FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
                         WHERE i.indrelid = t AND i.indisprimary);
            RETURN QUERY EXECUTE format(
                'SELECT %L::regclass, jsonb_build_object(%s), x.%I::text, x.%I::text FROM ONLY %s x
                  WHERE x.%I IS NOT NULL AND x.%I::text <> ''0''',
                t, (SELECT string_agg(format('%L, x.%I', c, c), ', ') FROM unnest(pk) c),
                b.patron_column, b.item_column, t, b.patron_column, b.patron_column);
        END LOOP;
    END LOOP;
END $$;
CREATE TABLE pg_temp.before_sever AS SELECT * FROM pg_temp.identified_rows();
-- former borrowers: (patron, item) pairs no longer identified, with the
-- patron's name (when no other patron has it) and the item's barcode as a
-- text would print them
CREATE TABLE pg_temp.former (patron text, item text, name text, barcode text);
-- a name ties a text to a patron only if no other patron has it
CREATE TABLE pg_temp.patron_names AS
SELECT id, CASE WHEN count(*) OVER (PARTITION BY name) = 1 THEN name END AS name FROM demo.patrons;
CREATE FUNCTION pg_temp.refresh_former() RETURNS bigint LANGUAGE sql AS $$
    DELETE FROM pg_temp.former;
    INSERT INTO pg_temp.former
    SELECT DISTINCT b.patron, b.item, p.name, coalesce(i.barcode, d.barcode)
      FROM pg_temp.before_sever b
      LEFT JOIN pg_temp.patron_names p ON p.id::text = b.patron
      LEFT JOIN demo.items i ON i.id::text = b.item AND b.rel <> 'demo.device_loans'::regclass
      LEFT JOIN demo.devices d ON d.id::text = b.item AND b.rel = 'demo.device_loans'::regclass
     WHERE (b.rel, b.pk, b.patron) NOT IN (SELECT rel, pk, patron FROM pg_temp.identified_rows())
       -- the same patron still identified with the same item elsewhere is no former borrower
       AND (b.patron, b.item) NOT IN (SELECT patron, item FROM pg_temp.identified_rows());
    SELECT count(*) FROM pg_temp.former;
$$;

-- Z's needles
CREATE TABLE pg_temp.needles (what text, needle text, whole boolean);
INSERT INTO pg_temp.needles VALUES ('id', '987654321', true), ('card', '29876543210777', false),
    ('name', 'Walkerquist', false), ('first name', 'Zebulon', false), ('e-mail', 'zebulon@walk.example', false);

------------------------------------------------------------------------------
-- The walk (test/walk.sql): the patron-class role logs in as W
------------------------------------------------------------------------------

\i test/walk.sql
INSERT INTO pg_temp.walk_logins VALUES ('opac', '29876543220888', '4242');
INSERT INTO pg_temp.walk_check VALUES (
    ARRAY['branch_staff', 'report_user', 'collections_agency', 'consortium_auditor', 'statistician', 'opac'],
    'reads no id, card, name or e-mail of Z in any relation', 'matches none of them with a filter on any column',
    'ties no former borrower to an item');

\o
\set ECHO all
SELECT plan(33);

-- the walk covers the shapes
SELECT cmp_ok((SELECT count(*) FROM pg_temp.walk_relations), '>=', 40::bigint, 'the catalog gives the walk every relation');
SELECT is((SELECT string_agg(DISTINCT rel::text, ' ' ORDER BY rel::text) FROM pg_temp.walk_columns WHERE role = 'i'),
          'demo.device_loans demo.holds demo.loans demo.loans_2025 demo.loans_2026 demo.loans_2027 demo.loans_default demo.xact_summaries',
          'item columns, from the catalog');

-- control: before any sever, the ILS (operational) finds Z everywhere and
-- its ties (the walk can find what it looks for)
SELECT pg_temp.walk('ils_app');
SELECT is(pg_temp.needle_hits('ils_app'),
          'demo.addresses.email (e-mail), demo.addresses.patron_id (id), demo.balances.patron_id (id), demo.billable_xacts.patron_id (id), '
          'demo.device_loans.patron_id (id), demo.fines.patron_id (id), demo.holds.patron_id (id), demo.internet_signups.patron_id (id), '
          'demo.loan_events.patron_id (id), demo.loan_events.rendered (first name), demo.loan_events.rendered (name), '
          'demo.loans.patron_id (id), demo.loans_2025.patron_id (id), demo.misc_charges.patron_id (id), demo.notice_outbox.body (first name), '
          'demo.notice_outbox.body (name), demo.notice_outbox.patron_id (id), demo.patron_history.email (e-mail), demo.patron_history.patron_id (id), '
          'demo.patrons.card_number (card), demo.patrons.name (first name), demo.patrons.name (name), demo.payments.patron_id (id), '
          'demo.reading_history.note (first name), demo.reading_history.patron_id (id), demo.receipts.body (card), demo.receipts.body (first name), '
          'demo.receipts.body (name), demo.receipts.patron_id (id), demo.xact_summaries.patron_id (id)',
          'control: the operational role reads Z everywhere it is stored');
SELECT is(pg_temp.filter_hits('ils_app'), pg_temp.needle_hits('ils_app'), 'control: and finds the same with filters');
INSERT INTO pg_temp.former SELECT b.patron, b.item, p.name, coalesce(i.barcode, d.barcode)
  FROM pg_temp.before_sever b LEFT JOIN pg_temp.patron_names p ON p.id::text = b.patron
  LEFT JOIN demo.items i ON i.id::text = b.item AND b.rel <> 'demo.device_loans'::regclass
  LEFT JOIN demo.devices d ON d.id::text = b.item AND b.rel = 'demo.device_loans'::regclass
 WHERE b.patron = '987654321';
SELECT matches(pg_temp.ties('ils_app'), 'demo.loan_events JOIN demo.loans_2025.*demo.loan_events text.*demo.loans_2025 row',
               'control: the operational role ties Z to items through a row, a join and a text');

-- severing: the backlog, then the copies
CALL pals_privacy.sever_backlog(batch_size => 1000);
SELECT cmp_ok(pg_temp.refresh_former(), '>', 500::bigint, 'the backlog made former borrowers');
SELECT * FROM pg_temp.check_all('after sever');

-- purge: Z expired long ago, owes nothing, holds nothing
CALL pals_privacy.purge_expired();
SELECT is((SELECT name FROM demo.patrons WHERE id = 987654321), 'PURGED', 'Z was purged (soft-deleted by the ILS routine)');
SELECT pg_temp.refresh_former() > 0 AS former_after_purge;
SELECT ok(EXISTS (SELECT FROM pg_temp.former WHERE patron = '987654321' AND item = '99003'),
          'Z''s last loan of 99003 was severed by the purge: Z is a former borrower of it');
SELECT * FROM pg_temp.check_all('after purge');
-- and nothing of Z is left stored at all, hidden or not: the ILS (operational)
-- walks every relation and finds Z's card, name and e-mail nowhere
SELECT pg_temp.walk('ils_app');
SELECT is(pg_temp.needle_hits('ils_app'), '', 'after purge: no relation stores a card, name or e-mail of Z, nor Z''s id outside the patron table');
-- a second purge finds nothing to do: Z is not purged (nor counted) again
CALL pals_privacy.purge_expired(dry_run => true, result => NULL);

SELECT * FROM finish();
\set ECHO none
\c :own_home
SET client_min_messages = warning;
DROP DATABASE identity_walk WITH (FORCE);
