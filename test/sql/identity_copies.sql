-- Derived copies of a loan row's identity, keyed by that row (bind_copy):
-- a summary kept by an ILS trigger, notices referencing a loan, a link
-- table of fines keyed by loan.  Severing or deleting the source severs
-- its copies in the same statement, by each copy's strategy; copies of rows
-- severed before binding are severed when bound; purge covers copies not
-- linked to any loan.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pals_privacy;

BEGIN;
SELECT plan(18);

CREATE SCHEMA icp;
CREATE TABLE icp.patrons (id bigint PRIMARY KEY, expires date NOT NULL DEFAULT 'infinity');
INSERT INTO icp.patrons (id) SELECT generate_series(0, 9);
CREATE TABLE icp.loans (id int PRIMARY KEY, patron_id bigint REFERENCES icp.patrons, item_id int NOT NULL,
                        returned date);
CREATE INDEX ON icp.loans (patron_id);
CREATE INDEX ON icp.loans (item_id);
-- the ILS keeps a per-loan summary with a trigger of its own
CREATE TABLE icp.loan_summary (loan_id int PRIMARY KEY, patron_id bigint, item_id int);
CREATE FUNCTION icp.summarise() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO icp.loan_summary VALUES (NEW.id, NEW.patron_id, NEW.item_id);
    RETURN NULL;
END $$;
CREATE TRIGGER summarise AFTER INSERT ON icp.loans FOR EACH ROW EXECUTE FUNCTION icp.summarise();
CREATE TABLE icp.notices (id serial PRIMARY KEY, loan_id int, patron_id bigint, body text);
CREATE INDEX ON icp.notices (loan_id);
CREATE TABLE icp.fines (id serial PRIMARY KEY, patron_id bigint NOT NULL, loan_id int, amount numeric);
CREATE INDEX ON icp.fines (loan_id);
-- a link by a two-column foreign key: the item alone would find the loan again
ALTER TABLE icp.loans ADD UNIQUE (id, item_id);
CREATE TABLE icp.charges (id serial PRIMARY KEY, patron_id bigint NOT NULL, loan_id int, loan_item int,
                          FOREIGN KEY (loan_id, loan_item) REFERENCES icp.loans (id, item_id));

INSERT INTO icp.loans VALUES (1, 1, 10, '2024-01-10'), (2, NULL, 11, '2024-01-10'), (3, 3, 11, '2024-02-10');
INSERT INTO icp.notices (loan_id, patron_id, body) VALUES
    (1, 1, 'patron 1: item 10 is due'), (2, 2, 'patron 2: item 11 is due'), (NULL, 3, 'patron 3: welcome');
INSERT INTO icp.fines (patron_id, loan_id, amount) VALUES (1, 1, 0.5), (2, 2, 1.0);
INSERT INTO icp.charges (patron_id, loan_id, loan_item) VALUES (1, 1, 10);
UPDATE icp.loan_summary SET patron_id = 2 WHERE loan_id = 2;   -- loan 2 was severed before; its summary was not

CREATE FUNCTION pg_temp.fails(call text, code text, message text, description text)
RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE st text; msg text;
BEGIN
    BEGIN
        EXECUTE call;
        RETURN NEXT fail(description || ' (no error)');
        RETURN;
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT;
    END;
    RETURN NEXT is(st || ': ' || msg, code || ': ' || message, description);
END $$;
CREATE VIEW pg_temp.state AS
    SELECT (SELECT string_agg(loan_id || ':' || coalesce(patron_id::text, '-'), ' ' ORDER BY loan_id) FROM icp.loan_summary) AS summary,
           (SELECT string_agg(coalesce(loan_id::text, '-') || ':' || patron_id, ' ' ORDER BY id) FROM icp.notices) AS notices,
           (SELECT string_agg(patron_id || ':' || coalesce(loan_id::text, '-'), ' ' ORDER BY id) FROM icp.fines) AS fines;

SELECT lives_ok($$SELECT pals_privacy.bind_patrons('icp.patrons', 'id', 'expires')$$, 'patrons bound');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_copy('icp.loan_summary', 'icp.loans', 'loan_id', 'patron_id')$$,
    '55000', 'bind_copy: the source "icp.loans" is not bound with bind_loans or bind_copy', 'the source must be a loan binding');
SELECT lives_ok($$SELECT pals_privacy.bind_loans('icp.loans', 'patron_id', 'item_id', '{returned}')$$, 'loans bound');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_copy('icp.notices', 'icp.loans', 'loan_id')$$,
    '22023', 'bind_copy: sever_with => ''null'' needs the patron column of the copy', 'severing to NULL needs a patron column');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_copy('icp.fines', 'icp.loans', 'patron_id', sever_with => 'unlink')$$,
    '22023', 'bind_copy: sever_with => ''unlink'' needs a nullable key column, and "icp.fines"."patron_id" is NOT NULL',
    'unlinking needs a nullable key column');

SELECT lives_ok($$SELECT pals_privacy.bind_copy('icp.loan_summary', 'icp.loans', 'loan_id', 'patron_id')$$, 'a summary bound');
SELECT lives_ok($$SELECT pals_privacy.bind_copy('icp.notices', 'icp.loans', 'loan_id', 'patron_id', sever_with => 'delete')$$,
                'notices bound');
SELECT lives_ok($$SELECT pals_privacy.bind_copy('icp.fines', 'icp.loans', 'loan_id', sever_with => 'unlink')$$, 'a link table bound');
SELECT lives_ok($$SELECT pals_privacy.bind_copy('icp.charges', 'icp.loans', 'loan_id', sever_with => 'unlink')$$,
                'a link table with a two-column foreign key bound');
SELECT is((SELECT summary || ' / ' || notices || ' / ' || fines FROM pg_temp.state),
          '1:1 2:- 3:3 / 1:1 -:3 / 1:1 2:-',
          'binding severs the copies of the loan severed before: its summary''s patron, its notice, its fine''s link');

-- a return severs the item's previous last borrower, and its copies with it
INSERT INTO icp.loans VALUES (4, 4, 10, NULL);
INSERT INTO icp.notices (loan_id, patron_id, body) VALUES (4, 4, 'patron 4: item 10 is due');
UPDATE icp.loans SET returned = '2024-03-01' WHERE id = 4;
SELECT is((SELECT patron_id FROM icp.loans WHERE id = 1), NULL, 'the return severed loan 1');
SELECT is((SELECT summary || ' / ' || notices || ' / ' || fines FROM pg_temp.state),
          '1:- 2:- 3:3 4:4 / -:3 4:4 / 1:- 2:-',
          'and in the same statement its summary lost the patron, its notice went, its fine lost the link');
SELECT is((SELECT patron_id || ':' || coalesce(loan_id::text, '-') || ':' || coalesce(loan_item::text, '-') FROM icp.charges),
          '1:-:-', 'unlinking clears every column of the foreign key, not only the key column');
-- deleting a loan takes its copies' identity too
DELETE FROM icp.loans WHERE id = 3;
SELECT is((SELECT summary FROM pg_temp.state), '1:- 2:- 3:- 4:4', 'deleting a loan severs its summary');
-- a change of patron that is not a sever changes nothing
UPDATE icp.loans SET patron_id = 5 WHERE id = 4;
SELECT is((SELECT summary FROM pg_temp.state), '1:- 2:- 3:- 4:4', 'a loan moved to another patron is not a sever');

-- purge: copies of the purged patron that no loan links
SELECT is(pals_privacy._purge_patrons(ARRAY['3']), 1::bigint, 'patron 3 purged');
SELECT is((SELECT notices FROM pg_temp.state), '4:4', 'the purged patron''s notice that no loan linked is gone');
SELECT is((SELECT string_agg(kind || ' ' || relation, ', ' ORDER BY relation::text) FROM pals_privacy.bindings WHERE kind = 'copy'),
          'copy icp.charges, copy icp.fines, copy icp.loan_summary, copy icp.notices', 'the bindings view lists the copies');

SELECT * FROM finish();
ROLLBACK;
