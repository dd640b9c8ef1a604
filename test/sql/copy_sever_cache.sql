-- The copy-severing trigger (_sever_copies, src/copy_sever.c) keeps each copy
-- binding's statement per backend: it must follow every change of the copy
-- binding, of the loan binding, and of the relations, in the same session,
-- and act as the extension owner whoever severs.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pals_privacy;

BEGIN;
SELECT plan(9);

CREATE SCHEMA csc;
CREATE TABLE csc.patrons (id bigint PRIMARY KEY, expires date NOT NULL DEFAULT 'infinity');
INSERT INTO csc.patrons (id) SELECT generate_series(0, 9);
-- partitions whose columns sit at other positions than the parent's
CREATE TABLE csc.loans (id int NOT NULL, patron_id bigint, item_id int NOT NULL, returned date)
    PARTITION BY RANGE (id);
CREATE TABLE csc.loans_a (gone int, id int NOT NULL, patron_id bigint, item_id int NOT NULL, returned date);
ALTER TABLE csc.loans_a DROP COLUMN gone;
ALTER TABLE csc.loans ATTACH PARTITION csc.loans_a FOR VALUES FROM (0) TO (100);
CREATE TABLE csc.loans_b PARTITION OF csc.loans FOR VALUES FROM (100) TO (200);
ALTER TABLE csc.loans ADD PRIMARY KEY (id);     -- a copy's key must name one loan
CREATE TABLE csc.summary (loan_id int PRIMARY KEY, patron_id bigint);
INSERT INTO csc.loans VALUES (1, 1, 10, NULL), (2, 2, 11, NULL), (3, 3, 12, NULL), (101, 4, 13, NULL), (102, 5, 14, NULL),
                             (103, 6, 15, NULL);
INSERT INTO csc.summary SELECT id, patron_id FROM csc.loans;
CREATE VIEW pg_temp.summary AS
    SELECT string_agg(loan_id || ':' || coalesce(patron_id::text, '-'), ' ' ORDER BY loan_id) AS s FROM csc.summary;

SELECT pals_privacy.bind_patrons('csc.patrons', 'id', 'expires');
SELECT pals_privacy.bind_loans('csc.loans', 'patron_id', 'item_id', '{returned}');
SELECT pals_privacy.bind_copy('csc.summary', 'csc.loans', 'loan_id', 'patron_id', source_key => 'id');

UPDATE csc.loans SET patron_id = NULL WHERE id IN (1, 101);
SELECT is((SELECT s FROM pg_temp.summary), '1:- 2:2 3:3 101:- 102:5 103:6',
          'a severed loan severs its summary, in either partition (columns found by name)');

-- the copy bound again with another strategy, in the same session: the next sever uses it
SELECT pals_privacy.unbind_copy('csc.summary');
SELECT pals_privacy.bind_copy('csc.summary', 'csc.loans', 'loan_id', 'patron_id', source_key => 'id', sever_with => 'delete');
UPDATE csc.loans SET patron_id = NULL WHERE id = 2;
SELECT is((SELECT s FROM pg_temp.summary), '3:3 102:5 103:6',
          'after the copy is bound again with sever_with => ''delete'' (which deletes the copies of loans 1 and 101, severed before), a sever deletes the copy');

-- unbound: nothing happens to the copy any more (and the triggers are gone)
SELECT pals_privacy.unbind_copy('csc.summary');
UPDATE csc.loans SET patron_id = NULL WHERE id = 3;
SELECT is((SELECT s FROM pg_temp.summary), '3:3 102:5 103:6', 'an unbound copy is left alone');

-- the loan binding changes to a placeholder: a move to the placeholder is a sever, to a patron is not
SELECT pals_privacy.bind_copy('csc.summary', 'csc.loans', 'loan_id', 'patron_id', source_key => 'id');
UPDATE csc.loans SET patron_id = 7 WHERE id = 3;
SELECT pals_privacy.unbind_copy('csc.summary');
SELECT pals_privacy.unbind('csc.loans');
SELECT pals_privacy.bind_loans('csc.loans', 'patron_id', 'item_id', '{returned}', sever_with => 'patron:0');
SELECT pals_privacy.bind_copy('csc.summary', 'csc.loans', 'loan_id', 'patron_id', source_key => 'id', sever_with => 'patron:0');
UPDATE csc.loans SET patron_id = 8 WHERE id = 102;
SELECT is((SELECT s FROM pg_temp.summary), '3:- 102:5 103:6', 'a loan moved to another patron is not a sever');
UPDATE csc.loans SET patron_id = 0 WHERE id = 102;
SELECT is((SELECT s FROM pg_temp.summary), '3:- 102:0 103:6',
          'a loan moved to the placeholder of the loan binding (bound again in this session) is a sever');

-- the copy's key column renamed and the copy bound again: the statement follows
SELECT pals_privacy.unbind_copy('csc.summary');
ALTER TABLE csc.summary RENAME loan_id TO loan_ref;
SELECT pals_privacy.bind_copy('csc.summary', 'csc.loans', 'loan_ref', 'patron_id', source_key => 'id', sever_with => 'patron:0');
UPDATE csc.loans SET patron_id = 0 WHERE id = 3;
SELECT is((SELECT string_agg(loan_ref || ':' || coalesce(patron_id::text, '-'), ' ' ORDER BY loan_ref) FROM csc.summary),
          '3:0 102:0 103:6', 'after a rename of the copy''s key column, the new name is used');

-- a role that may write the loans but not read or write the copy severs it all the same
CREATE ROLE csc_ils;
GRANT USAGE ON SCHEMA csc TO csc_ils;
GRANT SELECT, UPDATE, DELETE ON csc.loans TO csc_ils;
INSERT INTO csc.loans VALUES (104, 9, 16, NULL), (105, 9, 17, NULL);
INSERT INTO csc.summary VALUES (104, 9), (105, 9);
SET LOCAL ROLE csc_ils;
UPDATE csc.loans SET patron_id = 0 WHERE id = 103;
DELETE FROM csc.loans WHERE id = 104;
RESET ROLE;
SELECT is((SELECT string_agg(loan_ref || ':' || coalesce(patron_id::text, '-'), ' ' ORDER BY loan_ref) FROM csc.summary),
          '3:0 102:0 103:0 104:0 105:9', 'a role without privileges on the copy severs it (the trigger acts as the extension owner)');
SELECT throws_ok($$SET ROLE csc_ils; SELECT * FROM csc.summary$$, '42501', NULL, 'that role cannot read the copy itself');
RESET ROLE;

-- a rolled-back binding leaves no trace in the backend's statements
SAVEPOINT s;
SELECT pals_privacy.unbind_copy('csc.summary');
SELECT pals_privacy.bind_copy('csc.summary', 'csc.loans', 'loan_ref', 'patron_id', source_key => 'id', sever_with => 'delete');
UPDATE csc.loans SET patron_id = 0 WHERE id = 102;
ROLLBACK TO SAVEPOINT s;
UPDATE csc.loans SET patron_id = 0 WHERE id = 105;
SELECT is((SELECT string_agg(loan_ref || ':' || coalesce(patron_id::text, '-'), ' ' ORDER BY loan_ref) FROM csc.summary),
          '3:0 102:0 103:0 104:0 105:0', 'after a rolled-back rebinding, the binding in force (patron:0) is used, not the rolled-back one');

SELECT * FROM finish();
ROLLBACK;
