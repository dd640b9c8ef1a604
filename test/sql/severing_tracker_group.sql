-- Last-borrower groups (bind_loans' last_borrower_group): loan bindings over
-- the same items (loans, and the archive the ILS moves closed loans into)
-- keep ONE identified last borrower per item across them.  A row moved to
-- the archive stays the last borrower; the item's next return severs it
-- there, by the archive's strategy; the tracker build, the backlog and
-- rebuild_tracker pick one row per item across the group; the desk (staff)
-- reads one identified borrower per item; a desk that inserts closed rows
-- into the archive or moves rows between items gets no second one; unbind
-- of either member, in either binding order.  The backlog is a procedure
-- that commits, so this file runs outside a transaction block and cleans up
-- after itself (unbind, DROP).
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pals_privacy;
\set VERBOSITY terse

SELECT plan(54);

CREATE SCHEMA tg;
CREATE TABLE tg.patrons (id bigint PRIMARY KEY, expires date NOT NULL DEFAULT 'infinity');
INSERT INTO tg.patrons (id) SELECT generate_series(0, 9);
-- group 1: loans (sever_with 'null') and a partitioned archive (NOT NULL
-- patron, the placeholder 0), the loans bound first
CREATE TABLE tg.loans (id int PRIMARY KEY, patron_id bigint, item_id int, returned timestamptz, paid timestamptz);
CREATE INDEX ON tg.loans (item_id);
CREATE TABLE tg.archive (id int NOT NULL, patron_id bigint NOT NULL, item_id int, returned timestamptz NOT NULL,
                         paid timestamptz, PRIMARY KEY (id, returned)) PARTITION BY RANGE (returned);
CREATE TABLE tg.archive_2023 PARTITION OF tg.archive FOR VALUES FROM ('2023-01-01') TO ('2024-01-01');
CREATE TABLE tg.archive_rest PARTITION OF tg.archive DEFAULT;
CREATE INDEX ON tg.archive (item_id);
-- group 2: an inheritance archive ('delete') bound FIRST, the loans naming it;
-- history in both before binding
CREATE TABLE tg.l2 (id int PRIMARY KEY, patron_id bigint, item_id int, returned timestamptz, paid timestamptz);
CREATE TABLE tg.a2 (id int, patron_id bigint, item_id int, returned timestamptz, paid timestamptz);
CREATE TABLE tg.a2_old () INHERITS (tg.a2);
INSERT INTO tg.a2 VALUES (1, 1, 10, '2023-01-10', '2023-01-10');          -- item 10: archive, then loans
INSERT INTO tg.l2 VALUES (2, 2, 10, '2024-01-10', '2024-01-10');
INSERT INTO tg.l2 VALUES (3, 3, 11, '2023-02-10', '2023-02-10');          -- item 11: loans, then archive (child)
INSERT INTO tg.a2_old VALUES (4, 4, 11, '2024-02-10', '2024-02-10');
INSERT INTO tg.l2 VALUES (5, 5, 12, '2023-03-10', '2023-03-10');          -- item 12: loans only, twice
INSERT INTO tg.l2 VALUES (6, 6, 12, '2024-03-10', '2024-03-10');

-- the ILS moves closed, paid loans into the archive: delete first (one
-- statement), or insert first and then delete (two), as ILS jobs do
CREATE FUNCTION tg.move(ids int[]) RETURNS void LANGUAGE sql AS $$
    WITH m AS (DELETE FROM tg.loans WHERE id = ANY (ids) RETURNING *)
    INSERT INTO tg.archive SELECT id, coalesce(patron_id, 0), item_id, returned, paid FROM m;
$$;
CREATE FUNCTION tg.move_insert_first(ids int[]) RETURNS void LANGUAGE sql AS $$
    INSERT INTO tg.archive SELECT id, coalesce(patron_id, 0), item_id, returned, paid FROM tg.loans WHERE id = ANY (ids);
    DELETE FROM tg.loans WHERE id = ANY (ids);
$$;
CREATE FUNCTION tg.move2(ids int[]) RETURNS void LANGUAGE sql AS $$
    WITH m AS (DELETE FROM tg.l2 WHERE id = ANY (ids) RETURNING *)
    INSERT INTO tg.a2_old SELECT * FROM m;
$$;
-- the identified closed rows of an item across a group: rel:id:patron
CREATE FUNCTION tg.who(item int, grp int DEFAULT 1) RETURNS text LANGUAGE sql AS $$
    SELECT coalesce(string_agg(w, ' ' ORDER BY w), '') FROM (
        SELECT 'loans:' || id || ':' || patron_id AS w FROM tg.loans
         WHERE grp = 1 AND item_id = item AND returned IS NOT NULL AND patron_id IS NOT NULL
        UNION ALL
        SELECT 'archive:' || id || ':' || patron_id FROM tg.archive
         WHERE grp = 1 AND item_id = item AND patron_id <> 0
        UNION ALL
        SELECT 'l2:' || id || ':' || patron_id FROM tg.l2
         WHERE grp = 2 AND item_id = item AND returned IS NOT NULL AND patron_id IS NOT NULL
        UNION ALL
        SELECT 'a2:' || id || ':' || patron_id FROM tg.a2
         WHERE grp = 2 AND item_id = item AND patron_id IS NOT NULL) x
$$;

CREATE ROLE regress_tg_desk;
GRANT USAGE ON SCHEMA tg TO regress_tg_desk;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA tg TO regress_tg_desk;

DO $$ BEGIN
    PERFORM pals_privacy.bind_patrons('tg.patrons', 'id', 'expires');
    PERFORM pals_privacy.bind_loans('tg.loans', 'patron_id', 'item_id', '{returned}', 'paid');
    PERFORM pals_privacy.bind_loans('tg.archive', 'patron_id', 'item_id', '{returned}', 'paid',
                                    sever_with => 'patron:0', last_borrower_group => 'tg.loans');
    PERFORM pals_privacy.bind_loans('tg.a2', 'patron_id', 'item_id', '{returned}', 'paid', sever_with => 'delete');
    PERFORM pals_privacy.bind_loans('tg.l2', 'patron_id', 'item_id', '{returned}', 'paid', last_borrower_group => 'tg.a2');
    PERFORM pals_privacy.classify_role('regress_tg_desk', 'staff');
END $$;

-- 1-4: the option, as recorded and listed
SELECT is((SELECT last_borrower_group FROM pals_privacy.loan_binding WHERE relation = 'tg.archive'::regclass),
          'tg.loans'::regclass, 'the archive shares the tracker of the loans');
SELECT is((SELECT settings ->> 'last_borrower_group' FROM pals_privacy.bindings WHERE relation = 'tg.l2'::regclass),
          'tg.a2', 'the bindings view lists the group of the loans bound after their archive');
SELECT is((SELECT count(*) FROM pals_privacy.bindings WHERE relation IN ('tg.loans'::regclass, 'tg.a2'::regclass)
              AND settings ? 'last_borrower_group'), 0::bigint,
          'a binding without the option lists none (its own tracker, as before)');
SELECT is((SELECT string_agg(DISTINCT binding::regclass::text, ',') FROM pals_privacy.last_borrower
            WHERE binding IN ('tg.l2'::regclass, 'tg.a2'::regclass)), 'tg.a2',
          'the group''s entries are kept under its first binding');

-- 5-9: group 2 was bound over history identified in both members: the
-- tracker names one row per item across them, which is all the desk reads
SELECT is(tg.who(10, 2) || ' | ' || tg.who(11, 2) || ' | ' || tg.who(12, 2),
          'a2:1:1 l2:2:2 | a2:4:4 l2:3:3 | l2:5:5 l2:6:6', 'before the backlog the rows are stored identified');
SELECT is((SELECT string_agg(item || '>' || row_relid::regclass::text, ' ' ORDER BY item) FROM pals_privacy.last_borrower
            WHERE binding = 'tg.a2'::regclass),
          '10>tg.l2 11>tg.a2_old 12>tg.l2', 'the tracker built at binding takes the latest close across both relations');
SET ROLE regress_tg_desk;
SELECT is((SELECT string_agg(item_id || ':' || patron_id, ' ' ORDER BY item_id) FROM
             (SELECT item_id, patron_id FROM tg.l2 WHERE returned IS NOT NULL AND patron_id IS NOT NULL
              UNION ALL SELECT item_id, patron_id FROM tg.a2 WHERE patron_id IS NOT NULL) x),
          '10:2 11:4 12:6', 'the desk reads one borrower per item across loans and archive, the latest');
SELECT is((SELECT count(*) FROM tg.a2 WHERE item_id = 10 AND patron_id IS NOT NULL), 0::bigint,
          'the desk does not read the archived former borrower of item 10');
SELECT is((SELECT count(*) FROM tg.l2 WHERE item_id = 11 AND patron_id IS NOT NULL), 0::bigint,
          'nor the loans'' former borrower of item 11, whose last borrower is in the archive');
RESET ROLE;

-- 10-13: the dry run counts, and the backlog severs, the rest across the group, each by its strategy
SELECT is((SELECT string_agg(relation || ':' || last_borrowers || '/' || to_sever, ' ' ORDER BY relation::text)
             FROM pals_privacy.sever_backlog_preview() WHERE relation IN ('tg.l2'::regclass, 'tg.a2'::regclass)),
          'tg.a2:1/1 tg.l2:2/2', 'the dry run counts one last borrower per item across the group');
CALL pals_privacy.sever_backlog();
SELECT is(tg.who(10, 2) || ' | ' || tg.who(11, 2) || ' | ' || tg.who(12, 2),
          'l2:2:2 | a2:4:4 | l2:6:6', 'sever_backlog: one identified row per item across the group');
SELECT is((SELECT count(*) FROM tg.a2 WHERE item_id = 10), 0::bigint, 'the archive''s former borrower was deleted (its sever_with)');
SELECT is((SELECT patron_id FROM tg.l2 WHERE id = 3), NULL, 'the loans'' former borrower of item 11 set to NULL (its own)');

-- 13-15: group 1, loans first: a loan moved to the archive stays the last borrower
INSERT INTO tg.loans VALUES (1, 1, 1, NULL, NULL);
UPDATE tg.loans SET returned = '2024-01-10', paid = '2024-01-10' WHERE id = 1;
SELECT tg.move('{1}');
SELECT is(tg.who(1), 'archive:1:1', 'moved (delete, then insert): the archived row keeps its patron');
SELECT is((SELECT row_relid::regclass::text FROM pals_privacy.last_borrower WHERE binding = 'tg.loans'::regclass AND item = '1'),
          'tg.archive_rest', 'and the tracker names it in the archive');
SET ROLE regress_tg_desk;
SELECT is((SELECT patron_id FROM tg.archive WHERE id = 1), 1::bigint, 'the desk reads the archived last borrower (damage tracing)');
RESET ROLE;
-- 16-17: the item's next return severs it in the archive, to the archive's placeholder
INSERT INTO tg.loans VALUES (2, 2, 1, NULL, NULL);
UPDATE tg.loans SET returned = '2024-02-10', paid = '2024-02-10' WHERE id = 2;
SELECT is(tg.who(1), 'loans:2:2', 'the next return severs the archived last borrower');
SELECT is((SELECT patron_id FROM tg.archive WHERE id = 1), 0::bigint, 'to the archive''s placeholder');

-- 18-19: moved insert first (the loans row still there when the archived copy arrives)
INSERT INTO tg.loans VALUES (3, 3, 2, '2024-01-12', '2024-01-12');
SELECT tg.move_insert_first('{3}');
SELECT is(tg.who(2), 'archive:3:3', 'moved insert first: the archived copy is the last borrower');
INSERT INTO tg.loans VALUES (4, 4, 2, '2024-02-12', '2024-02-12');
SELECT is(tg.who(2), 'loans:4:4', 'and the next return severs it');

-- 20-21: an unsettled archived row keeps its patron until paid, then goes
INSERT INTO tg.loans VALUES (5, 5, 3, '2024-01-05', NULL);
SELECT tg.move('{5}');
INSERT INTO tg.loans VALUES (6, 6, 3, '2024-02-05', '2024-02-05');
SELECT is(tg.who(3), 'archive:5:5 loans:6:6', 'an unsettled archived row is kept (fines open)');
UPDATE tg.archive SET paid = '2024-03-01' WHERE id = 5;
SELECT is(tg.who(3), 'loans:6:6', 'paid, it is severed: it is not the last borrower');

-- 22-23: NULL items are nobody's last borrower, in either member
INSERT INTO tg.archive VALUES (7, 7, NULL, '2024-01-01', '2024-01-01');
INSERT INTO tg.loans VALUES (8, 7, NULL, '2024-01-01', '2024-01-01');
SELECT is((SELECT patron_id FROM tg.archive WHERE id = 7), 0::bigint, 'an archived row without an item is severed at once');
SELECT is((SELECT patron_id FROM tg.loans WHERE id = 8), NULL, 'as is a loan without one');

-- 24-31: the desk tries to get two identified borrowers of one item
SET ROLE regress_tg_desk;
-- a back-dated closed row inserted straight into the archive
INSERT INTO tg.archive VALUES (100, 5, 1, '2023-05-01', '2023-05-01');
RESET ROLE;
SELECT is(tg.who(1), 'loans:2:2', 'desk: a back-dated closed row inserted into the archive is severed at once');
SET ROLE regress_tg_desk;
-- a later one: it becomes the last borrower, the loans' one is severed
INSERT INTO tg.archive VALUES (101, 5, 1, '2024-03-01', '2024-03-01');
RESET ROLE;
SELECT is(tg.who(1), 'archive:101:5', 'desk: a later closed row inserted into the archive takes over, one borrower');
SET ROLE regress_tg_desk;
-- an archived last borrower moved to another item (2, whose last borrower is in the loans)
UPDATE tg.archive SET item_id = 2 WHERE id = 101;
RESET ROLE;
SELECT is(tg.who(1) || ' | ' || tg.who(2), ' | archive:101:5', 'desk: an archived row given another item: one borrower for each');
SET ROLE regress_tg_desk;
-- a loans last borrower moved onto an item whose last borrower is archived
INSERT INTO tg.loans VALUES (9, 8, 4, '2024-04-01', '2024-04-01');
UPDATE tg.loans SET item_id = 2 WHERE id = 9;
RESET ROLE;
SELECT is(tg.who(2) || ' | ' || tg.who(4), 'loans:9:8 | ', 'desk: a loan moved onto that item takes over, the archived one severed');
SET ROLE regress_tg_desk;
-- a desk's own move: delete the last borrower and insert it into the archive back-dated
DELETE FROM tg.loans WHERE id = 9;
INSERT INTO tg.archive VALUES (9, 8, 2, '2023-04-01', '2023-04-01');
RESET ROLE;
SELECT is(tg.who(2), 'archive:9:8', 'desk: a back-dated move keeps the row it closed, alone');
SET ROLE regress_tg_desk;
SELECT is((SELECT count(*) FROM tg.archive WHERE item_id = 2 AND patron_id <> 0)
          + (SELECT count(*) FROM tg.loans WHERE item_id = 2 AND patron_id IS NOT NULL AND returned IS NOT NULL),
          1::bigint, 'the desk reads one identified borrower of item 2 across the group');
-- re-opening the archived last borrower is refused by nothing but makes it no closed row: then closing it again
UPDATE tg.loans SET returned = '2024-05-01', paid = '2024-05-01' WHERE id = 6;
RESET ROLE;
SELECT is(tg.who(3), 'loans:6:6', 'an update of the last borrower keeps it, alone');
SELECT is((SELECT count(*) FROM (SELECT item_id FROM tg.loans WHERE returned IS NOT NULL AND paid IS NOT NULL AND patron_id IS NOT NULL
                                 UNION ALL SELECT item_id FROM tg.archive WHERE paid IS NOT NULL AND patron_id <> 0) x
            GROUP BY item_id HAVING count(*) > 1 LIMIT 1), NULL,
          'ground truth: no item has two identified, settled closed rows across loans and archive');

-- 32-34: rebuild_tracker across the group, and the backlog after rows were loaded without the trigger
SET session_replication_role = replica;
INSERT INTO tg.archive VALUES (20, 1, 5, '2023-06-01', '2023-06-01');
INSERT INTO tg.loans VALUES (21, 2, 5, '2024-06-01', '2024-06-01');
INSERT INTO tg.archive VALUES (22, 3, 5, '2024-07-01', '2024-07-01');
INSERT INTO tg.loans VALUES (23, 4, 6, '2024-07-02', '2024-07-02');
INSERT INTO tg.archive VALUES (24, 5, 6, '2023-07-02', '2023-07-02');
RESET session_replication_role;
SELECT is(pals_privacy.rebuild_tracker('tg.archive') >= 2, true, 'rebuild_tracker of one member rebuilds the group');
SELECT is((SELECT string_agg(item || '>' || row_relid::regclass::text, ' ' ORDER BY item) FROM pals_privacy.last_borrower
            WHERE binding = 'tg.loans'::regclass AND item IN ('5', '6')),
          '5>tg.archive_rest 6>tg.loans', 'one entry per item, the latest close across loans and archive');
CALL pals_privacy.sever_backlog(restart => true);
SELECT is(tg.who(5) || ' | ' || tg.who(6), 'archive:22:3 | loans:23:4', 'sever_backlog severs the others in both members');

-- 35-36: a return in group 2 after a move ('delete' archive, inheritance child)
SELECT tg.move2('{2}');
SELECT is(tg.who(10, 2), 'a2:2:2', 'group 2: the moved row is the last borrower in the archive''s child');
INSERT INTO tg.l2 VALUES (30, 7, 10, '2024-08-01', '2024-08-01');
SELECT is(tg.who(10, 2) || ' / ' || (SELECT count(*) FROM tg.a2 WHERE item_id = 10), 'l2:30:7 / 0',
          'the next return deletes it from the archive (its sever_with)');

-- 37-41: validation
SELECT lives_ok($$SELECT pals_privacy.bind_loans('tg.l2', 'patron_id', 'item_id', '{returned}', 'paid', last_borrower_group => 'tg.a2')$$,
                'binding a member again the same way changes nothing');
CREATE TABLE tg.l3 (id int, patron_id bigint, item_id int, returned timestamptz, paid timestamptz);
CREATE TABLE tg.t3 (id int, patron_id bigint, item_id text, returned timestamptz, paid timestamptz);
SELECT throws_ok($$SELECT pals_privacy.bind_loans('tg.l3', 'patron_id', 'item_id', '{returned}', last_borrower_group => 'tg.patrons')$$,
                 '22023', 'bind_loans: last_borrower_group "tg.patrons" is not bound as loans', 'a group names a loan binding');
SELECT throws_ok($$SELECT pals_privacy.bind_loans('tg.l3', 'patron_id', 'item_id', '{returned}', last_borrower_group => 'tg.l3')$$,
                 '22023', 'bind_loans: last_borrower_group "tg.l3" is not bound as loans', 'not the relation itself (unbound)');
SELECT throws_ok($$SELECT pals_privacy.bind_loans('tg.l3', 'patron_id', 'item_id', '{returned}', keep_last_borrower => false, last_borrower_group => 'tg.loans')$$,
                 '22023', 'bind_loans: last_borrower_group needs keep_last_borrower => true on "tg.l3" and on "tg.loans"', 'a group keeps last borrowers');
SELECT throws_ok($$SELECT pals_privacy.bind_loans('tg.t3', 'patron_id', 'item_id', '{returned}', last_borrower_group => 'tg.loans')$$,
                 '42804', 'bind_loans: the item and closed columns of "tg.t3" and of its last_borrower_group "tg.loans" must have the same types',
                 'the item columns of a group have one type');

-- 42-45: unbind a member that is not the first: its entries go, the loans go on alone
SELECT pals_privacy.unbind('tg.archive');
SELECT is((SELECT count(*) FROM pals_privacy.last_borrower WHERE binding = 'tg.loans'::regclass
              AND row_relid IN ('tg.archive_2023'::regclass, 'tg.archive_rest'::regclass)), 0::bigint,
          'unbind of the archive: no entry names its rows');
SELECT is((SELECT row_relid::regclass::text FROM pals_privacy.last_borrower WHERE binding = 'tg.loans'::regclass AND item = '6'),
          'tg.loans', 'the loans'' own entries stay');
INSERT INTO tg.loans VALUES (40, 9, 5, '2024-09-01', '2024-09-01');
SELECT is(tg.who(5), 'archive:22:3 loans:40:9', 'a return in the loans no longer severs the unbound archive');
SELECT is((SELECT count(*) FROM pals_privacy.loan_binding WHERE last_borrower_group = 'tg.loans'::regclass), 0::bigint,
          'the loans are in no group any more');

-- 46-49: unbind the first binding of a group: the next member takes the group's entries
SELECT pals_privacy.unbind('tg.a2');
SELECT is((SELECT last_borrower_group FROM pals_privacy.loan_binding WHERE relation = 'tg.l2'::regclass), NULL,
          'unbind of the group''s first binding: the other member is its own again');
SELECT is((SELECT string_agg(binding::regclass::text || ':' || item, ' ' ORDER BY item) FROM pals_privacy.last_borrower
            WHERE binding IN ('tg.l2'::regclass, 'tg.a2'::regclass)),
          'tg.l2:10 tg.l2:12', 'its entries are re-keyed, those naming the archive''s rows dropped');
INSERT INTO tg.l2 VALUES (41, 1, 10, '2024-10-01', '2024-10-01');
SELECT is(tg.who(10, 2), 'l2:41:1', 'a return goes on severing the loans alone');
INSERT INTO tg.l2 VALUES (42, 2, 11, '2024-10-02', '2024-10-02');
SELECT is(tg.who(11, 2), 'a2:4:4 l2:42:2', 'and leaves the unbound archive alone');

-- 51-53: three members (the third names the second, which is in the first's group), and the
-- first's relation dropped: the others stay a group under the next
CREATE TABLE tg.d1 (id int PRIMARY KEY, patron_id bigint, item_id int, returned timestamptz);
CREATE TABLE tg.d2 (LIKE tg.d1);
CREATE TABLE tg.d3 (LIKE tg.d1);
DO $$ BEGIN
    PERFORM pals_privacy.bind_loans('tg.d1', 'patron_id', 'item_id', '{returned}');
    PERFORM pals_privacy.bind_loans('tg.d2', 'patron_id', 'item_id', '{returned}', last_borrower_group => 'tg.d1');
    PERFORM pals_privacy.bind_loans('tg.d3', 'patron_id', 'item_id', '{returned}', last_borrower_group => 'tg.d2');
END $$;
SELECT is((SELECT string_agg(relation || '>' || coalesce(last_borrower_group::text, '-'), ' ' ORDER BY relation::text)
             FROM pals_privacy.loan_binding WHERE relation::text LIKE 'tg.d_'),
          'tg.d1>- tg.d2>tg.d1 tg.d3>tg.d1', 'naming a member joins its group, recorded by the group''s first binding');
INSERT INTO tg.d1 VALUES (1, 1, 1, '2024-01-01');
INSERT INTO tg.d2 VALUES (2, 2, 1, '2024-02-01');
DROP TABLE tg.d1;
SELECT is((SELECT string_agg(relation || '>' || coalesce(last_borrower_group::text, '-'), ' ' ORDER BY relation::text)
             FROM pals_privacy.loan_binding WHERE relation::text LIKE 'tg.d_'),
          'tg.d2>- tg.d3>tg.d2', 'the first binding''s relation dropped: the next is the group''s first');
INSERT INTO tg.d3 VALUES (3, 3, 1, '2024-03-01');
SELECT is((SELECT string_agg(id || ':' || coalesce(patron_id::text, '-'), ' ' ORDER BY id)
             FROM (SELECT * FROM tg.d2 UNION ALL SELECT * FROM tg.d3) x),
          '2:- 3:3', 'and a close in one member still severs the other''s last borrower');

-- 54: clean up: nothing stays bound
DO $$ BEGIN
    PERFORM pals_privacy.unbind(t::regclass) FROM unnest(ARRAY['tg.loans', 'tg.l2', 'tg.d2', 'tg.d3', 'tg.patrons']) t;
END $$;
SELECT is((SELECT count(*) FROM pals_privacy.bindings) + (SELECT count(*) FROM pals_privacy.last_borrower)
          + (SELECT count(*) FROM pals_privacy.backlog_progress), 0::bigint, 'nothing is bound and no severing state is left');
SELECT * FROM finish();
DROP SCHEMA tg CASCADE;
SELECT pals_privacy.unclassify_role('regress_tg_desk');
DROP OWNED BY regress_tg_desk;
DROP ROLE regress_tg_desk;
