-- The copy-severing trigger (_sever_copies, src/copy_sever.c) runs a copy's
-- statement only where an index probe says a copy row may have the severed
-- row's key, and decides itself (no WHEN clause) whether an update changed
-- the key or the patron.  The probe must never let a copy row, or anything
-- the statement does, go missing: rows of an inheritance child, rows a
-- partial index does not hold, statement triggers of the copy, rows written
-- earlier in the same transaction; and an update that changes nothing (by the
-- type's equality) must sever nothing.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pals_privacy;

BEGIN;
SELECT plan(9);

CREATE SCHEMA csp;
CREATE TABLE csp.patrons (id bigint PRIMARY KEY, expires date NOT NULL DEFAULT 'infinity');
INSERT INTO csp.patrons (id) SELECT generate_series(0, 9);
CREATE TABLE csp.loans (id numeric PRIMARY KEY, patron_id bigint REFERENCES csp.patrons, item_id int NOT NULL,
                        returned date);
INSERT INTO csp.loans SELECT g, 1 + g % 9, g, NULL FROM generate_series(1, 40) g;
SELECT pals_privacy.bind_patrons('csp.patrons', 'id', 'expires');
SELECT pals_privacy.bind_loans('csp.loans', 'patron_id', 'item_id', '{returned}', sever_with => 'patron:0');

-- fines: indexed on the key (the probe is used); notes: an inheritance parent, its rows in a child;
-- marks: only a partial index on the key; logs: a statement trigger counts the copy's statements
CREATE TABLE csp.fines (id serial PRIMARY KEY, loan_id numeric, patron_id bigint);
CREATE INDEX ON csp.fines (loan_id);
CREATE TABLE csp.notes (loan_id numeric, patron_id bigint);
CREATE INDEX ON csp.notes (loan_id);
CREATE TABLE csp.notes_child () INHERITS (csp.notes);
CREATE TABLE csp.marks (loan_id numeric, patron_id bigint);
CREATE INDEX ON csp.marks (loan_id) WHERE loan_id > 30;
CREATE TABLE csp.logs (loan_id numeric, patron_id bigint);
CREATE INDEX ON csp.logs (loan_id);
CREATE TABLE csp.log_statements (n int);
CREATE FUNCTION csp.count_statement() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN INSERT INTO csp.log_statements VALUES (1); RETURN NULL; END $$;
CREATE TRIGGER count_statement AFTER DELETE ON csp.logs FOR EACH STATEMENT EXECUTE FUNCTION csp.count_statement();

INSERT INTO csp.fines (loan_id, patron_id) SELECT id, patron_id FROM csp.loans WHERE id IN (1, 2, 3);
INSERT INTO csp.notes_child SELECT id, patron_id FROM csp.loans WHERE id IN (4, 5);
INSERT INTO csp.marks SELECT id, patron_id FROM csp.loans WHERE id IN (6, 31);
INSERT INTO csp.logs SELECT id, patron_id FROM csp.loans WHERE id = 7;
SELECT pals_privacy.bind_copy('csp.fines', 'csp.loans', 'loan_id', 'patron_id', source_key => 'id', sever_with => 'unlink');
SELECT pals_privacy.bind_copy('csp.notes', 'csp.loans', 'loan_id', 'patron_id', source_key => 'id', sever_with => 'patron:0');
SELECT pals_privacy.bind_copy('csp.marks', 'csp.loans', 'loan_id', 'patron_id', source_key => 'id', sever_with => 'patron:0');
SELECT pals_privacy.bind_copy('csp.logs', 'csp.loans', 'loan_id', 'patron_id', source_key => 'id', sever_with => 'delete');

-- a sever of a loan with a fine, and of one without: the fine is unlinked, nothing else moves
UPDATE csp.loans SET patron_id = 0 WHERE id IN (1, 10);
SELECT is((SELECT string_agg(coalesce(loan_id::text, '-'), ' ' ORDER BY id) FROM csp.fines), '- 2 3',
          'a severed loan unlinks its fine; a loan without one changes no fine');

-- the notes are in a child of the copy: the parent's index does not hold them
UPDATE csp.loans SET patron_id = 0 WHERE id = 4;
SELECT is((SELECT string_agg(loan_id || ':' || patron_id, ' ' ORDER BY loan_id) FROM csp.notes), '4:0 5:6',
          'a copy row in an inheritance child of the copy is severed');

-- the marks' only index is partial: loan 6 is not in it
UPDATE csp.loans SET patron_id = 0 WHERE id IN (6, 31);
SELECT is((SELECT string_agg(loan_id || ':' || patron_id, ' ' ORDER BY loan_id) FROM csp.marks), '6:0 31:0',
          'a copy row a partial index does not hold is severed');

-- the logs' statement trigger sees the copy's statement at every sever, with or without a row
DELETE FROM csp.log_statements;
UPDATE csp.loans SET patron_id = 0 WHERE id = 7;
UPDATE csp.loans SET patron_id = 0 WHERE id = 11;
SELECT is((SELECT count(*) FROM csp.log_statements), 2::bigint,
          'the statement trigger of a copy fires for every sever, also when no copy row has the key');
SELECT is((SELECT count(*) FROM csp.logs), 0::bigint, 'and the copy row of the severed loan is deleted');

-- a fine written earlier in the same transaction as the sever (a return that charges, then severs)
INSERT INTO csp.fines (loan_id, patron_id) VALUES (12, 3);
UPDATE csp.loans SET patron_id = 0 WHERE id = 12;
SELECT is((SELECT count(*) FROM csp.fines WHERE loan_id = 12), 0::bigint,
          'a fine written earlier in the same transaction is unlinked by the sever');

-- an update that changes nothing, by the type's equality, severs nothing: the key 2 written as
-- 2.00 (the same numeric, another text), the patron set to itself
UPDATE csp.loans SET id = 2.00 WHERE id = 2;
SELECT is((SELECT string_agg(coalesce(loan_id::text, '-'), ' ' ORDER BY id) FROM csp.fines WHERE id <= 3), '- 2 3',
          'a key rewritten as an equal value keeps its fine linked');
INSERT INTO csp.fines (loan_id, patron_id) VALUES (1, 1);   -- a fine again for the severed loan 1
UPDATE csp.loans SET patron_id = 0 WHERE id = 1;            -- already the placeholder: no change
SELECT is((SELECT count(*) FROM csp.fines WHERE loan_id = 1), 1::bigint,
          'an update that leaves a severed loan''s placeholder as it was severs nothing');
-- a real change of the key severs the copies of the old key
UPDATE csp.loans SET id = 103 WHERE id = 3;
SELECT is((SELECT string_agg(coalesce(loan_id::text, '-'), ' ' ORDER BY id) FROM csp.fines WHERE id <= 3), '- 2 -',
          'a changed key unlinks the fines of the old key');

SELECT * FROM finish();
ROLLBACK;
