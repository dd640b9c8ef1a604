-- sever_backlog() severs the derived copies (bind_copy) of a batch's rows by
-- parts of the batch's own statement, one per copy binding, and leaves the
-- copy triggers of those bindings out of that statement (no firing per
-- row).  The copies severed must be exactly those the triggers would have
-- severed: keyed by the key each row had before the statement (an ILS
-- trigger that changes a key leaves the copies of the old key to no row),
-- not those of a row an ILS trigger kept identified, not those another
-- source still holds identified; and every other trigger of the table still
-- fires.  It commits: this file runs outside a transaction block and drops
-- what it made.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pals_privacy;
\set VERBOSITY terse

SELECT plan(14);

CREATE SCHEMA bc;
CREATE TABLE bc.patrons (id bigint PRIMARY KEY, expires date NOT NULL DEFAULT 'infinity');
INSERT INTO bc.patrons (id) SELECT generate_series(0, 9);
-- returned loans, partitioned; sever_with 'null'.  Items 1..5, three returns each (ids 1..15:
-- item 1 + (id - 1) / 3, the last of each 3, 6, 9, 12, 15), patron 1 + id % 9; id 16: a loan
-- still out
CREATE TABLE bc.loans (id int PRIMARY KEY, patron_id bigint REFERENCES bc.patrons, item_id int NOT NULL,
                       returned date) PARTITION BY RANGE (id);
CREATE TABLE bc.loans_a PARTITION OF bc.loans FOR VALUES FROM (1) TO (9);
CREATE TABLE bc.loans_b PARTITION OF bc.loans FOR VALUES FROM (9) TO (1000);
INSERT INTO bc.loans SELECT i, 1 + i % 9, 1 + (i - 1) / 3, date '2024-01-01' + i FROM generate_series(1, 15) i;
INSERT INTO bc.loans VALUES (16, 8, 6, NULL);
INSERT INTO bc.loans VALUES (20, 6, 9, NULL);
-- the current loans, a second source of the fines (a loan id is in one table or the other;
-- 14 and 20 in both: a move half done, identified in one of them); 18, 19 returned (item 8,
-- 19 the last), 20, 21 returned (item 9, 21 the last)
CREATE TABLE bc.current (id int PRIMARY KEY, patron_id bigint REFERENCES bc.patrons, item_id int NOT NULL, returned date);
INSERT INTO bc.current VALUES (14, 3, 5, NULL), (17, 4, 7, NULL), (18, 2, 8, '2024-03-01'), (19, 3, 8, '2024-03-02'),
                              (20, 4, 9, '2024-03-01'), (21, 5, 9, '2024-03-02');
-- fines: a copy of the loan (by its id), unlinked; notices: deleted with it
CREATE TABLE bc.fines (id serial PRIMARY KEY, loan_id int, patron_id bigint NOT NULL, orig int NOT NULL);
INSERT INTO bc.fines (loan_id, patron_id, orig) SELECT id, patron_id, id FROM bc.loans WHERE id < 20
                                              UNION ALL SELECT id, patron_id, id FROM bc.current WHERE id >= 17;
CREATE TABLE bc.notices (loan_id int, patron_id bigint, body text);
INSERT INTO bc.notices SELECT id, patron_id, 'overdue: item ' || item_id FROM bc.loans;
-- the ILS's triggers on one partition (ids 9 and up): patron 5 keeps their loans (puts the
-- patron back: loan 13), and a severed loan of an even id is renumbered (id + 100: loans 10 and
-- 14): its copies, keyed by the old id, belong to no row any more; severed loan 11 is written
-- into the current loans again, identified (a move: the fine follows that row).  An audit of
-- every change of a loan's patron there and in bc.current, and of every change of a copy, with
-- the transaction that made it.
CREATE FUNCTION bc.ils_rules() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.patron_id = 5 THEN NEW.patron_id := 5;
    ELSIF NEW.patron_id IS NULL AND OLD.id % 2 = 0 THEN NEW.id := OLD.id + 100;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER ils_rules BEFORE UPDATE ON bc.loans_b FOR EACH ROW EXECUTE FUNCTION bc.ils_rules();
CREATE FUNCTION bc.ils_move() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.id = 11 AND NEW.patron_id IS NULL THEN
        INSERT INTO bc.current VALUES (11, OLD.patron_id, OLD.item_id, NULL);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER ils_move AFTER UPDATE ON bc.loans_b FOR EACH ROW EXECUTE FUNCTION bc.ils_move();
CREATE TABLE bc.audit (rel text, loan_id int, old_patron bigint, new_patron bigint, xact xid8 DEFAULT pg_current_xact_id());
CREATE FUNCTION bc.audit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN INSERT INTO bc.audit VALUES (TG_TABLE_NAME, OLD.id, OLD.patron_id, NEW.patron_id); RETURN NULL; END $$;
CREATE TRIGGER ils_audit AFTER UPDATE OF patron_id ON bc.loans_b FOR EACH ROW EXECUTE FUNCTION bc.audit();
CREATE TRIGGER ils_audit AFTER UPDATE OF patron_id ON bc.current FOR EACH ROW EXECUTE FUNCTION bc.audit();
CREATE TABLE bc.copy_log (copy text, loan_id int, xact xid8 DEFAULT pg_current_xact_id());
CREATE FUNCTION bc.copy_log() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN INSERT INTO bc.copy_log VALUES (TG_TABLE_NAME, OLD.loan_id); RETURN NULL; END $$;
CREATE TRIGGER copy_log AFTER UPDATE OF loan_id ON bc.fines FOR EACH ROW EXECUTE FUNCTION bc.copy_log();
CREATE TRIGGER copy_log AFTER DELETE ON bc.notices FOR EACH ROW EXECUTE FUNCTION bc.copy_log();

DO $$ BEGIN
    PERFORM pals_privacy.bind_patrons('bc.patrons', 'id', 'expires');
    PERFORM pals_privacy.bind_loans('bc.loans', 'patron_id', 'item_id', '{returned}', sever_with => 'null',
                                    build_tracker => false);
    PERFORM pals_privacy.bind_loans('bc.current', 'patron_id', 'item_id', '{returned}', sever_with => 'null',
                                    build_tracker => false);
    PERFORM pals_privacy.bind_copy('bc.fines', 'bc.loans', 'loan_id', 'patron_id', sever_with => 'unlink',
                                   source_keys => '{id}', more_sources => '{bc.current}');
    PERFORM pals_privacy.bind_copy('bc.notices', 'bc.loans', 'loan_id', 'patron_id', sever_with => 'delete',
                                   source_keys => '{id}');
END $$;
CREATE TABLE bc.before AS SELECT * FROM bc.loans;
-- statistics sampled before the backlog: of every patron column; on one partition, extended
-- statistics over (patron, item) too
CREATE STATISTICS bc.loans_a_patron_item (mcv) ON patron_id, item_id FROM bc.loans_a;
ANALYZE bc.loans, bc.current;

-- interrupted in the first batch of the second partition (loans 9 and 10, where that batch's
-- progress is written: the batch is undone): the batches of 2 rows before it (loans 1 to 8, a
-- partition without triggers of the ILS) committed with the copies of the loans they severed
-- (item 3's loans 7 and 8 too: loan 9 is a later one)
CREATE FUNCTION bc.interrupt() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('bc.interrupt', true) = 'on' AND NEW.relation = 'bc.loans' AND NEW.batches = 5 THEN
        RAISE EXCEPTION 'simulated interruption';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER bc_interrupt BEFORE UPDATE ON pals_privacy.backlog_progress FOR EACH ROW EXECUTE FUNCTION bc.interrupt();
SET bc.interrupt = on;
CALL pals_privacy.sever_backlog(batch_size => 2);
RESET bc.interrupt;
DROP TRIGGER bc_interrupt ON pals_privacy.backlog_progress;
SELECT is((SELECT string_agg(f.orig || ':' || coalesce(f.loan_id::text, '-') || ':' || (SELECT count(*) FROM bc.notices n WHERE n.loan_id = f.orig),
                             ' ' ORDER BY f.orig) FROM bc.fines f WHERE f.orig <= 8),
          '1:-:0 2:-:0 3:3:1 4:-:0 5:-:0 6:6:1 7:-:0 8:-:0',
          'the first batches unlinked the fines and deleted the notices of the loans they severed, each in its own transaction');

CALL pals_privacy.sever_backlog(batch_size => 2);

-- what the rows became: the last of each item keeps its patron, and so do patron 5's loan 13
-- (pending) and the open loans 16 and 20; the others lost theirs, 10 and 14 renumbered by the ILS
SELECT is((SELECT string_agg(b.id || '>' || l.id || ':' || coalesce(l.patron_id::text, '-'), ' ' ORDER BY b.id)
             FROM bc.before b JOIN bc.loans l ON l.item_id = b.item_id AND l.returned IS NOT DISTINCT FROM b.returned),
          '1>1:- 2>2:- 3>3:4 4>4:- 5>5:- 6>6:7 7>7:- 8>8:- 9>9:1 10>110:- 11>11:- 12>12:4 13>13:5 14>114:- 15>15:7 16>16:8 20>20:6',
          'the backlog severed every row but the last of each item, the open loan and patron 5''s (the ILS kept it)');
SELECT is((SELECT string_agg(reason, '; ') FROM pals_privacy.sever_pending_rows WHERE row_relation = 'bc.loans_b'::regclass),
          'a trigger of the table kept the patron of the row being severed', 'patron 5''s loan is pending, with the reason');
-- fines: unlinked for every severed loan, by its id before the statement (10 and 14: renumbered
-- by the ILS, their fines of the old id unlinked too; bc.current's row 14, written before, is no
-- continuation of it); kept for the last borrowers, the open loans, patron 5's loan 13 (still
-- identified) and loan 11 (moved into bc.current by the ILS, in the same transaction); 17 open in
-- bc.current; of bc.current's returns, 18 and 20 severed (unlinked: bc.loans's open row 20 was
-- written before)
SELECT is((SELECT string_agg(orig || ':' || coalesce(loan_id::text, '-'), ' ' ORDER BY orig) FROM bc.fines),
          '1:- 2:- 3:3 4:- 5:- 6:6 7:- 8:- 9:9 10:- 11:11 12:12 13:13 14:- 15:15 16:16 17:17 18:- 19:19 20:- 21:21',
          'fines: unlinked for each severed loan (by its old id), kept for patron 5''s and the one the ILS moved');
SELECT is((SELECT string_agg(loan_id::text, ' ' ORDER BY loan_id) FROM bc.notices),
          '3 6 9 12 13 15 16 20',
          'notices: deleted with each severed loan (by its old id), kept for the rows that kept their patron');
SELECT is((SELECT count(*) FROM bc.fines f WHERE f.loan_id IS NOT NULL
             AND NOT EXISTS (SELECT FROM bc.loans l WHERE l.id = f.loan_id AND l.patron_id IS NOT NULL)
             AND NOT EXISTS (SELECT FROM bc.current c WHERE c.id = f.loan_id AND c.patron_id IS NOT NULL)), 0::bigint,
          'no fine is linked to a loan id that no identified row holds');
-- the ILS's other triggers fired for every row the statement changed
SELECT is((SELECT string_agg(rel || ':' || loan_id, ' ' ORDER BY rel, loan_id) FROM bc.audit WHERE new_patron IS NULL),
          'current:18 current:20 loans_b:10 loans_b:11 loans_b:14',
          'the ILS''s audit trigger fired for every severed row');
SELECT is((SELECT string_agg(loan_id || ':' || new_patron, ' ') FROM bc.audit WHERE new_patron IS NOT NULL), '13:5',
          'and for the row the ILS kept (its patron set and put back), no other');
-- each copy severed in the transaction that severed its loan (not later, by the closing sweep)
SELECT is((SELECT string_agg(c.copy || ':' || c.loan_id, ' ' ORDER BY c.copy, c.loan_id) FROM bc.copy_log c
            WHERE c.loan_id IN (SELECT a.loan_id FROM bc.audit a)
              AND NOT EXISTS (SELECT FROM bc.audit a WHERE a.loan_id = c.loan_id AND a.xact = c.xact AND a.new_patron IS NULL)),
          NULL, 'every copy was severed in the transaction that severed its loan');
SELECT is((SELECT count(DISTINCT xact) FROM bc.audit), 5::bigint,
          'by the backlog''s batches of 2 rows (three of bc.loans_b: 9-10, 11-12, 13-14; two of bc.current: 18-19, 20-21)');

-- statistics: analyzed again, so that they hold no patron the rows lost (a relation with
-- extended statistics wholly, else its patron column)
SELECT is((SELECT string_agg(s.tablename || ':' || round(s.null_frac::numeric, 2), ' ' ORDER BY s.tablename) FROM pg_stats s
            WHERE s.schemaname = 'bc' AND s.tablename IN ('loans_a', 'loans_b', 'current') AND s.attname = 'patron_id'),
          (SELECT string_agg(r || ':' || round(n::numeric, 2), ' ' ORDER BY r) FROM (
               SELECT 'current' r, avg((patron_id IS NULL)::int) n FROM bc.current
               UNION ALL SELECT split_part(tableoid::regclass::text, '.', 2), avg((patron_id IS NULL)::int) FROM bc.loans GROUP BY tableoid) x),
          'pg_stats of the patron columns: sampled after the backlog');
SELECT is((SELECT count(*) FROM pg_statistic_ext s JOIN pg_statistic_ext_data d ON d.stxoid = s.oid, pg_mcv_list_items(d.stxdmcv) m
            WHERE s.stxname = 'loans_a_patron_item'
              AND NOT EXISTS (SELECT FROM bc.loans_a l WHERE l.patron_id IS NOT DISTINCT FROM m.values[1]::bigint
                                                        AND l.item_id = m.values[2]::int)),
          0::bigint, 'the extended statistics hold no (patron, item) the rows no longer have');

-- the copy triggers are left out of the backlog's statements only: a later change of a loan's
-- patron severs its copies through them
UPDATE bc.loans SET patron_id = NULL WHERE id = 15;
SELECT is((SELECT (SELECT loan_id FROM bc.fines WHERE orig = 15) IS NULL AND NOT EXISTS (SELECT FROM bc.notices WHERE loan_id = 15)),
          true, 'after the backlog, a loan that loses its patron takes its copies with it (the triggers fire)');
SELECT is((SELECT count(*) FROM pals_privacy.backlog_progress WHERE relation IN ('bc.loans', 'bc.current') AND finished_at IS NOT NULL),
          2::bigint, 'the backlog finished both bindings');

SELECT * FROM finish();

DELETE FROM pals_privacy.sever_pending WHERE binding IN ('bc.loans'::regclass, 'bc.current'::regclass);
DO $$ BEGIN
    PERFORM pals_privacy.unbind_copy('bc.fines');
    PERFORM pals_privacy.unbind_copy('bc.notices');
    PERFORM pals_privacy.unbind(r) FROM unnest(ARRAY['bc.loans', 'bc.current', 'bc.patrons']::regclass[]) r;
END $$;
DELETE FROM pals_privacy.backlog_progress;
DROP SCHEMA bc CASCADE;
