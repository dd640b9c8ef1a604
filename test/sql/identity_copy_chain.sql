-- A copy of a copy (issue 14: Evergreen's rendered notices, action_trigger.event_output, are keyed
-- by their event, and the event is a copy of the circulation).  bind_copy takes another copy as
-- its source, at any depth; a cycle is refused (42P19), and so is a copy with several sources of
-- which one is a copy (0A000).  On a demo-like schema: loans; events about a loan (the middle
-- copy), bound with each strategy ('delete', 'unlink', 'null', 'keep'); the rendered output of an
-- event (a copy of the event, keyed by the event's output_id, 'delete'); for 'delete' a third
-- level, the delivery of an output (keyed by the output, its recipient 'null'); for 'unlink' a
-- note keyed by the event's link itself (the column severing nulls).  Checked: staff read a
-- grandchild only where they read the loan (and attempts to read through it); a return, a delete,
-- the backlog and the purge sever the whole chain in the same transaction, each level by its own
-- strategy; a 'keep' middle copy is never written: its children are hidden at once and severed
-- by sever_copies(); unbind_copy() of a middle copy is refused while copies follow it (2BP01).
-- The backlog and the purge commit: the suite has its own database.
\set ECHO none
\set cp_db regress_copy_chain
\set cp_schema cc
\set cp_roles regress_cc
\i test/copy/fixture.sql
INSERT INTO cc.patrons (id) SELECT generate_series(1, 9);
UPDATE cc.patrons SET expires = '2020-01-01' WHERE id = 5;      -- expired: purged below
CREATE TABLE cc.loans (id int PRIMARY KEY, patron_id bigint, item_id int NOT NULL, returned date);
-- 1 is hidden from staff (2 is item 10's last borrower); 3 is out; 5 is item 12's last borrower
INSERT INTO cc.loans VALUES (1, 1, 10, '2024-01-10'), (2, 2, 10, '2024-02-10'), (3, 3, 11, NULL),
                            (5, 5, 12, '2024-01-05');
-- the rendered notices, one table per middle strategy: 100 + the loan's id
CREATE TABLE cc.out_d (id int PRIMARY KEY, body text NOT NULL);
CREATE TABLE cc.out_u (id int PRIMARY KEY, body text NOT NULL);
CREATE TABLE cc.out_n (id int PRIMARY KEY, body text NOT NULL);
CREATE TABLE cc.out_k (id int PRIMARY KEY, body text NOT NULL);
-- the events (the middle copies), each pointing to its output (output_id, unique)
CREATE TABLE cc.ev_d (id serial PRIMARY KEY, loan_id int NOT NULL, output_id int UNIQUE REFERENCES cc.out_d);
CREATE TABLE cc.ev_u (id serial PRIMARY KEY, loan_id int UNIQUE, output_id int UNIQUE);
CREATE TABLE cc.ev_n (id serial PRIMARY KEY, loan_id int, patron_id bigint,
                      output_id int UNIQUE REFERENCES cc.out_n ON DELETE SET NULL);
CREATE TABLE cc.ev_k (id serial PRIMARY KEY, loan_id int, sent_at date, output_id int UNIQUE);
-- depth 3: the delivery of an output ('delete' chain); a note keyed by an 'unlink' event's link
CREATE TABLE cc.sent_d (id serial PRIMARY KEY, output_id int, recipient bigint);
CREATE TABLE cc.note_u (id serial PRIMARY KEY, loan_ref int, body text);
INSERT INTO cc.out_d SELECT 100 + id, format('patron %s: item %s', patron_id, item_id) FROM cc.loans;
INSERT INTO cc.out_u SELECT * FROM cc.out_d;
INSERT INTO cc.out_n SELECT * FROM cc.out_d;
INSERT INTO cc.out_k SELECT * FROM cc.out_d;
INSERT INTO cc.ev_d (loan_id, output_id) SELECT id, 100 + id FROM cc.loans ORDER BY id;
INSERT INTO cc.ev_u (loan_id, output_id) SELECT id, 100 + id FROM cc.loans ORDER BY id;
INSERT INTO cc.ev_n (loan_id, patron_id, output_id) SELECT id, patron_id, 100 + id FROM cc.loans ORDER BY id;
INSERT INTO cc.ev_k (loan_id, sent_at, output_id) SELECT id, returned, 100 + id FROM cc.loans ORDER BY id;
INSERT INTO cc.sent_d (output_id, recipient) SELECT 100 + id, patron_id FROM cc.loans ORDER BY id;
INSERT INTO cc.note_u (loan_ref, body) SELECT id, format('patron %s', patron_id) FROM cc.loans ORDER BY id;

SELECT pals_privacy.bind_patrons('cc.patrons', 'id', 'expires');
SELECT pals_privacy.bind_loans('cc.loans', 'patron_id', 'item_id', '{returned}');
SELECT pals_privacy.bind_copy('cc.ev_d', 'cc.loans', 'loan_id', sever_with => 'delete');
SELECT pals_privacy.bind_copy('cc.ev_u', 'cc.loans', 'loan_id', sever_with => 'unlink');
SELECT pals_privacy.bind_copy('cc.ev_n', 'cc.loans', 'loan_id', 'patron_id');
SELECT pals_privacy.bind_copy('cc.ev_k', 'cc.loans', 'loan_id', sever_with => 'keep', hide_columns => '{sent_at}');
\i test/copy/grants.sql
-- what a role reads: the output ids of each table, "id" ("id:recipient" for deliveries)
CREATE FUNCTION cc.read() RETURNS text LANGUAGE sql AS $$
    SELECT concat_ws(' | ',
        'd ' || coalesce((SELECT string_agg(id::text, ' ' ORDER BY id) FROM cc.out_d), '-'),
        's ' || coalesce((SELECT string_agg(output_id || ':' || coalesce(recipient::text, '-'), ' ' ORDER BY output_id) FROM cc.sent_d), '-'),
        'u ' || coalesce((SELECT string_agg(id::text, ' ' ORDER BY id) FROM cc.out_u), '-'),
        'nu ' || coalesce((SELECT string_agg(coalesce(loan_ref::text, '-'), ' ' ORDER BY id) FROM cc.note_u), '-'),
        'n ' || coalesce((SELECT string_agg(id::text, ' ' ORDER BY id) FROM cc.out_n), '-'),
        'k ' || coalesce((SELECT string_agg(id::text, ' ' ORDER BY id) FROM cc.out_k), '-'))
$$;
\set ECHO all
SELECT plan(30);

-- 1. binding: a copy of each middle copy, and of that copy again (depth 3)
SELECT is(pg_temp.err($$SELECT pals_privacy.bind_copy('cc.out_d', 'cc.ev_d', 'id', source_key => 'output_id', sever_with => 'delete')$$),
          'ok', 'an output bound as a copy of its event (a ''delete'' copy of the loan)');
SELECT is(pg_temp.err($$SELECT pals_privacy.bind_copy('cc.sent_d', 'cc.out_d', 'output_id', 'recipient')$$),
          'ok', 'its delivery bound as a copy of the output (depth 3)');
SELECT is(pg_temp.err($q$DO $d$ BEGIN
                          PERFORM pals_privacy.bind_copy('cc.out_u', 'cc.ev_u', 'id', source_key => 'output_id', sever_with => 'delete');
                          PERFORM pals_privacy.bind_copy('cc.note_u', 'cc.ev_u', 'loan_ref', source_key => 'loan_id', sever_with => 'delete');
                          PERFORM pals_privacy.bind_copy('cc.out_n', 'cc.ev_n', 'id', source_key => 'output_id', sever_with => 'delete');
                          PERFORM pals_privacy.bind_copy('cc.out_k', 'cc.ev_k', 'id', source_key => 'output_id', sever_with => 'delete');
                        END $d$$q$), 'ok', 'copies of the ''unlink'', ''null'' and ''keep'' events bound');
SELECT is(cc.read(), 'd 101 102 103 105 | s 101:1 102:2 103:3 105:5 | u 101 102 103 105 | nu 1 2 3 5 | n 101 102 103 105 | k 101 102 103 105',
          'binding severs nothing of identified loans');
SELECT is((SELECT string_agg(relation::text || '<' || source::text, ' ' ORDER BY relation::text) FROM pals_privacy.copy_binding
            WHERE source::text NOT LIKE 'cc.loans'),
          'cc.note_u<cc.ev_u cc.out_d<cc.ev_d cc.out_k<cc.ev_k cc.out_n<cc.ev_n cc.out_u<cc.ev_u cc.sent_d<cc.out_d',
          'the copies of copies name their source copy');
-- refusals: a cycle at depth 2 and 3, a source that is no binding, a copy of a copy with a second source
SELECT is(pg_temp.err($$SELECT pals_privacy.bind_copy('cc.ev_d', 'cc.out_d', 'output_id', source_key => 'id', sever_with => 'delete')$$),
          '42P19 bind_copy: "cc.ev_d" would follow itself through "cc.out_d"', 'a cycle of two copies is refused (42P19)');
SELECT is(pg_temp.err($$SELECT pals_privacy.bind_copy('cc.ev_d', 'cc.sent_d', 'id', sever_with => 'delete')$$),
          '42P19 bind_copy: "cc.ev_d" would follow itself through "cc.out_d"', 'a cycle of three copies is refused (42P19)');
SELECT is(pg_temp.err($$SELECT pals_privacy.bind_copy('cc.note_u', 'cc.note_u', 'id', sever_with => 'delete')$$),
          '42P19 bind_copy: "cc.note_u" would follow itself through "cc.note_u"', 'a copy of itself is refused (42P19)');
SELECT is(pg_temp.err($$SELECT pals_privacy.bind_copy('cc.out_d', 'cc.loans', 'id', sever_with => 'delete')$$),
          '0A000 bind_copy: a copy of a copy has one source', 'a copy of a copy takes no second source (0A000)');
SELECT is(pg_temp.err($$SELECT pals_privacy.bind_copy('cc.sent_d', 'cc.patrons', 'output_id', 'recipient')$$),
          '55000 bind_copy: the source "cc.patrons" is not bound with bind_loans or bind_copy', 'a source bound otherwise is refused (55000)');
SELECT is(pg_temp.err($$SELECT pals_privacy.unbind_copy('cc.out_d')$$), '2BP01 unbind_copy: derived copies follow "cc.out_d"',
          'unbind_copy of a middle copy is refused while a copy follows it (2BP01)');
SELECT is((SELECT count(*) FROM pals_privacy.binding_problems()), 0::bigint, 'binding_problems(): none');

-- 2. staff read a grandchild where they read the loan: not loan 1's (hidden: not the last borrower)
SELECT is(pg_temp.v('regress_cc_staff', 'SELECT cc.read()'),
          'd 102 103 105 | s 101:- 102:2 103:3 105:5 | u 102 103 105 | nu 2 3 5 | n 102 103 105 | k 102 103 105',
          'staff: no output, delivery recipient or note of hidden loan 1, whatever the middle copy''s strategy');
SELECT is(pg_temp.v('regress_cc_ils', 'SELECT cc.read()'),
          'd 101 102 103 105 | s 101:1 102:2 103:3 105:5 | u 101 102 103 105 | nu 1 2 3 5 | n 101 102 103 105 | k 101 102 103 105',
          'operational: every row as stored');
-- attempts through the grandchild
SELECT is(pg_temp.v('regress_cc_staff', $$SELECT coalesce(string_agg(o.body, ','), '-') FROM cc.out_d o WHERE o.id = 101 OR o.body LIKE 'patron 1:%'$$),
          '-', 'staff: a WHERE on the key or the text finds no output of hidden loan 1');
SELECT is(pg_temp.v('regress_cc_staff', $$SELECT count(*)::text FROM cc.out_k o JOIN cc.ev_k e ON e.output_id = o.id WHERE e.loan_id = 1$$),
          '0', 'staff: a join through the ''keep'' event finds no output of loan 1');
SELECT is(pg_temp.v('regress_cc_staff', $$WITH u AS (UPDATE cc.out_n SET body = body WHERE id = 101 RETURNING body) SELECT count(*)::text FROM u$$),
          '0', 'staff: an UPDATE reaches no output of hidden loan 1');
SELECT is(pg_temp.v('regress_cc_staff', $$SELECT count(*)::text FROM cc.sent_d s JOIN cc.out_d o ON o.id = s.output_id WHERE s.recipient = 1$$),
          '0', 'staff: no delivery ties patron 1 to an output');

-- 3. a return severs the item's previous last borrower (loan 2), and the whole chain with it
SET ROLE regress_cc_ils;
INSERT INTO cc.loans VALUES (4, 4, 10, NULL);
UPDATE cc.loans SET returned = '2024-03-01' WHERE id = 4;
RESET ROLE;
SELECT is((SELECT patron_id FROM cc.loans WHERE id = 2), NULL, 'return: loan 2 is severed');
SELECT is(cc.read(), 'd 101 103 105 | s 101:1 102:- 103:3 105:5 | u 101 103 105 | nu 1 3 5 | n 101 103 105 | k 101 102 103 105',
          'return: loan 2''s events severed by their strategies, their outputs deleted, the delivery''s recipient gone, the note '
          'keyed by the unlinked link deleted; the ''keep'' event''s output stays (never written)');
SELECT is((SELECT string_agg(e, ' ') FROM (SELECT 'd' || count(*) FROM cc.ev_d WHERE loan_id = 2
                                           UNION ALL SELECT 'u' || count(*) FROM cc.ev_u WHERE output_id = 102 AND loan_id IS NULL
                                           UNION ALL SELECT 'n' || count(*) FROM cc.ev_n WHERE output_id IS NULL AND patron_id IS NULL AND loan_id = 2) x(e)),
          'd0 u1 n1', 'return: the middle copies of loan 2: deleted, unlinked, patron nulled (its output link set NULL by the ILS''s foreign key)');
SELECT is(pg_temp.v('regress_cc_staff', $$SELECT count(*)::text FROM cc.out_k WHERE id = 102$$), '0',
          'staff: the output of the ''keep'' event of severed loan 2 is hidden at once');
SELECT is(pals_privacy.sever_copies('cc.out_k'), 1::bigint, 'sever_copies(): it is deleted by the sweep');

-- 4. deleting a loan takes the chain too
DELETE FROM cc.loans WHERE id = 3;
SELECT is(cc.read(), 'd 101 105 | s 101:1 102:- 103:- 105:5 | u 101 105 | nu 1 5 | n 101 105 | k 101 103 105',
          'delete: loan 3''s outputs deleted, delivery severed, note deleted; the ''keep'' event''s output waits for the sweep');

-- 5. the backlog severs hidden loan 1, and its chain in the same batch
CALL pals_privacy.sever_backlog();
SELECT is((SELECT patron_id FROM cc.loans WHERE id = 1), NULL, 'backlog: loan 1 is severed');
SELECT is(cc.read(), 'd 105 | s 101:- 102:- 103:- 105:5 | u 105 | nu 5 | n 105 | k 105',
          'backlog: loan 1''s chain is severed at every depth, ''keep'' included (its closing sever_copies())');

-- 6. the purge: patron 5 (expired, no open loan)
SET pals_privacy.purge_grace = 0;
CALL pals_privacy.purge_expired();
RESET pals_privacy.purge_grace;
SELECT is((SELECT count(*) FROM cc.patrons WHERE id = 5), 0::bigint, 'purge: patron 5 is purged');
SELECT is(cc.read(), 'd - | s 101:- 102:- 103:- 105:- | u - | nu - | n - | k -',
          'purge: every copy of patron 5''s loan, at every depth, is severed');
-- the grandchild's copies left: none tie any patron to an item
SELECT is((SELECT count(*) FROM cc.sent_d WHERE recipient IS NOT NULL), 0::bigint, 'no delivery names a patron');
SELECT is(pg_temp.err($q$DO $d$ BEGIN PERFORM pals_privacy.unbind_copy(r) FROM unnest('{cc.sent_d,cc.out_d,cc.ev_d}'::regclass[]) r; END $d$$q$),
          'ok', 'unbind_copy, children first, unbinds the chain');

SELECT * FROM finish();

\set ECHO none
\i test/copy/done.sql
