-- A derived copy (bind_copy) follows one source row: its key must name that
-- row and no other (issue 14).  With a key that two rows may hold (loans.id,
-- where the primary key is (id, checked_out)), a writer could insert a decoy
-- with a hidden loan's id, or re-key a loan it reads, and the copies of the
-- hidden loan would read as the decoy's.  bind_copy takes keys of several
-- columns and refuses a key no unique index of the source makes unique; the
-- rule reads a copy as hidden where more than one row holds its key (a source
-- with inheritance children, an index dropped or deferred after binding);
-- severing matches the whole key, and a row whose key changes severs the
-- copies of its old key.  Each attempt below runs as staff.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pals_privacy;

BEGIN;
SELECT plan(36);
SET LOCAL datestyle = 'ISO, YMD';

CREATE SCHEMA ick;
CREATE TABLE ick.patrons (id bigint PRIMARY KEY, expires date NOT NULL DEFAULT 'infinity');
INSERT INTO ick.patrons (id) SELECT generate_series(0, 9);
-- the shape of demo.loans: the id alone is not unique
CREATE TABLE ick.loans (id int NOT NULL, checked_out date NOT NULL, patron_id bigint NOT NULL REFERENCES ick.patrons,
                        item_id int NOT NULL, returned date, PRIMARY KEY (id, checked_out));
-- item 10: loan 1 (patron 1, returned), then loan 2 (patron 2, the last
-- borrower); item 11: loan 3 open (patron 3); item 12: loan 4 open (patron 4)
INSERT INTO ick.loans VALUES (1, '2024-01-01', 1, 10, '2024-01-10'), (2, '2024-02-01', 2, 10, '2024-02-10'),
                             (3, '2024-03-01', 3, 11, NULL), (4, '2024-03-02', 4, 12, NULL);
CREATE TABLE ick.notices (id serial PRIMARY KEY, loan_id int, loan_out date, patron_id bigint, body text,
                          FOREIGN KEY (loan_id, loan_out) REFERENCES ick.loans (id, checked_out));
CREATE INDEX ON ick.notices (loan_id, loan_out);
INSERT INTO ick.notices (loan_id, loan_out, patron_id, body)
SELECT id, checked_out, patron_id, 'patron ' || patron_id || ': item ' || item_id FROM ick.loans;
-- fines keep the loan's id as a bigint: compared by the source's integer equality
CREATE TABLE ick.fines (id serial PRIMARY KEY, patron_id bigint NOT NULL, loan_id bigint, loan_out date, amount numeric);
CREATE INDEX ON ick.fines (loan_id, loan_out);
INSERT INTO ick.fines (patron_id, loan_id, loan_out, amount) SELECT patron_id, id, checked_out, 1 FROM ick.loans WHERE id IN (1, 2);

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
CREATE FUNCTION pg_temp.hint_of(call text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE h text;
BEGIN
    EXECUTE call;
    RETURN NULL;
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS h = PG_EXCEPTION_HINT;
    RETURN h;
END $$;

SELECT pals_privacy.bind_patrons('ick.patrons', 'id', 'expires');
SELECT pals_privacy.bind_loans('ick.loans', 'patron_id', 'item_id', '{returned}', sever_with => 'patron:0');

-- binding: the key must be unique in the source
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_copy('ick.notices', 'ick.loans', 'loan_id', 'patron_id', 'delete', source_key => 'id')$$,
    '42830', 'bind_copy: the key (id) does not identify one row of "ick.loans"',
    'a key the source does not hold unique is refused');
SELECT is(pg_temp.hint_of($$SELECT pals_privacy.bind_copy('ick.notices', 'ick.loans', 'loan_id', 'patron_id', 'delete', source_key => 'id')$$),
    'Bind on a unique key of the source that the copy holds: key_columns => ''{loan_id,loan_out}'', source_keys => ''{id,checked_out}'' (the foreign key notices_loan_id_loan_out_fkey of "ick.notices").',
    'the hint names the key to bind on, from the copy''s foreign key');
SELECT is(pg_temp.hint_of($$SELECT pals_privacy.bind_copy('ick.fines', 'ick.loans', 'loan_id', 'patron_id', 'unlink', source_key => 'id')$$),
    'Bind on a unique key of the source that the copy holds (key_columns, source_keys); the unique keys of "ick.loans": (id, checked_out).',
    'without a foreign key, the hint lists the source''s unique keys');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_copy('ick.notices', 'ick.loans', 'loan_id', 'patron_id', 'delete')$$,
    '22023', 'bind_copy: "ick.loans" has no primary key of 1 column(s) to match the key of the copy',
    'a one-column key is not matched to a primary key of two');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_copy('ick.notices', 'ick.loans', key_columns => '{loan_id,loan_out}',
                                                            source_keys => '{id}', patron_column => 'patron_id', sever_with => 'delete')$$,
    '22023', 'bind_copy: the copy''s key has 2 column(s) and the source''s key 1',
    'the copy''s and the source''s keys pair column for column');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_copy('ick.notices', 'ick.loans', 'loan_id', key_columns => '{loan_id,loan_out}',
                                                            patron_column => 'patron_id', sever_with => 'delete')$$,
    '22023', 'bind_copy: give key_column or key_columns (source_key or source_keys), not both',
    'a key given twice is refused');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_copy('ick.notices', 'ick.loans', patron_column => 'patron_id', sever_with => 'delete')$$,
    '22004', 'bind_copy: the key of the copy is missing', 'a copy needs a key');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_copy('ick.notices', 'ick.loans', key_columns => '{loan_id,loan_id}',
                                                            patron_column => 'patron_id', sever_with => 'delete')$$,
    '22023', 'bind_copy: a column is named twice in the key', 'a column named twice in the key is refused');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_copy('ick.notices', 'ick.loans', key_columns => '{loan_out,loan_id}',
                                                            patron_column => 'patron_id', sever_with => 'delete')$$,
    '42804', 'bind_copy: key column "loan_out" of "ick.notices" cannot hold "ick.loans"."id"',
    'the copy''s key columns pair with the source''s by position: a date cannot hold an integer id');
-- a source whose only unique indexes are deferrable or partial
CREATE TABLE ick.dloans (id int NOT NULL, patron_id bigint REFERENCES ick.patrons, item_id int NOT NULL, returned date,
                         UNIQUE (id) DEFERRABLE);
CREATE UNIQUE INDEX ON ick.dloans (id) WHERE returned IS NULL;
CREATE UNIQUE INDEX ON ick.dloans (item_id, (id + 0));
CREATE TABLE ick.dnotices (loan_id int, patron_id bigint);
SELECT pals_privacy.bind_loans('ick.dloans', 'patron_id', 'item_id', '{returned}');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_copy('ick.dnotices', 'ick.dloans', 'loan_id', 'patron_id', source_key => 'id')$$,
    '42830', 'bind_copy: the key (id) does not identify one row of "ick.dloans"',
    'a deferrable unique constraint, a partial unique index or one on an expression does not make the key unique');

SELECT lives_ok($$SELECT pals_privacy.bind_copy('ick.notices', 'ick.loans', key_columns => '{loan_id,loan_out}',
                                                patron_column => 'patron_id', sever_with => 'delete')$$,
                'notices bound on the whole primary key (source_keys default to it, in its order)');
SELECT lives_ok($$SELECT pals_privacy.bind_copy('ick.fines', 'ick.loans', key_columns => '{loan_id,loan_out}',
                                                source_keys => '{id,checked_out}', patron_column => 'patron_id',
                                                sever_with => 'unlink')$$,
                'fines bound on the whole key, a bigint against the source''s integer');
SELECT is((SELECT key_columns::text || ' ' || source_keys::text FROM pals_privacy.copy_binding WHERE relation = 'ick.notices'::regclass),
          '{loan_id,loan_out} {id,checked_out}', 'the binding keeps both keys');

CREATE ROLE ick_staff;
GRANT USAGE ON SCHEMA ick TO ick_staff;
GRANT SELECT ON ALL TABLES IN SCHEMA ick TO ick_staff;
GRANT INSERT, UPDATE ON ick.loans TO ick_staff;
SELECT pals_privacy.classify_role('ick_staff', 'staff');

-- what staff read of the copies: loan:patron per notice, patron:loan per fine
CREATE FUNCTION pg_temp.seen() RETURNS text LANGUAGE plpgsql AS $$
DECLARE n text; f text;
BEGIN
    SELECT string_agg(coalesce(loan_id::text, '-') || ':' || coalesce(patron_id::text, '-'), ' ' ORDER BY id) INTO n FROM ick.notices;
    SELECT string_agg(coalesce(patron_id::text, '-') || ':' || coalesce(loan_id::text, '-') || '/' || coalesce(loan_out::text, '-'), ' ' ORDER BY id) INTO f
      FROM ick.fines;
    RETURN 'notices ' || coalesce(n, '') || ' | fines ' || coalesce(f, '');
END $$;
GRANT EXECUTE ON FUNCTION pg_temp.seen() TO ick_staff;

SET LOCAL ROLE ick_staff;
SELECT is(pg_temp.seen(), 'notices 2:2 3:3 4:4 | fines -:-/- 2:2/2024-02-01',
          'staff: loan 1 (returned, not the last borrower) is hidden: its notice not read, its fine unlinked');
RESET ROLE;
SELECT is(pg_temp.seen(), 'notices 1:1 2:2 3:3 4:4 | fines 1:1/2024-01-01 2:2/2024-02-01', 'stored: all there');

-- decoys: rows that hold the hidden loan's id (the notices' foreign key
-- dropped, as an ILS that keeps the notices of deleted or re-keyed loans has
-- none: with it, re-keying a loan that has notices is refused by it)
ALTER TABLE ick.notices DROP CONSTRAINT notices_loan_id_loan_out_fkey;
SET LOCAL ROLE ick_staff;
INSERT INTO ick.loans VALUES (1, '2030-01-01', 5, 20, NULL), (1, '2030-01-02', 5, 21, NULL), (1, '2024-01-02', 5, 22, NULL);
SELECT is(pg_temp.seen(), 'notices 2:2 3:3 4:4 | fines -:-/- 2:2/2024-02-01',
          'open loans inserted with the hidden loan''s id (three, one a day after its checkout) open none of its copies');
SELECT is((SELECT count(*) FROM ick.notices n JOIN ick.loans l ON l.id = n.loan_id WHERE l.patron_id = 5), 0::bigint,
          'nor does a join from the decoys to the notices by the id');
COPY ick.loans (id, checked_out, patron_id, item_id) FROM STDIN;
1	2031-05-05	6	23
\.
SELECT is(pg_temp.seen(), 'notices 2:2 3:3 4:4 | fines -:-/- 2:2/2024-02-01', 'nor one loaded with COPY FROM');
-- re-keying a loan staff read whole to the hidden loan's id: refused as a
-- duplicate with its whole key, opens nothing with the id alone
SELECT throws_ok($$UPDATE ick.loans SET id = 1, checked_out = '2024-01-01' WHERE id = 3$$, '23505', NULL,
                 'an open loan re-keyed to the hidden loan''s whole key is a duplicate');
UPDATE ick.loans SET id = 1 WHERE id = 4;
SELECT is(pg_temp.seen(), 'notices 2:2 3:3 | fines -:-/- 2:2/2024-02-01',
          'an open loan re-keyed to the hidden loan''s id opens none of its copies (and its own notice went with its old key)');
RESET ROLE;
SELECT is((SELECT string_agg(loan_id || ':' || patron_id, ' ' ORDER BY id) FROM ick.notices), '1:1 2:2 3:3',
          'stored: the re-keyed loan''s notice was severed (deleted): a loan given its old key later would take it over');
-- a loan re-keyed back to the key it had does not get its severed copies back; and a
-- loan given a key that copies still name (left from before binding) takes them over
-- only where its class reads its patron
INSERT INTO ick.notices (loan_id, loan_out, patron_id, body) VALUES (2, '2024-02-01', 2, 'patron 2: item 10, again');
UPDATE ick.loans SET id = 3, checked_out = '2024-03-01' WHERE id = 3;
SELECT is((SELECT count(*) FROM ick.notices WHERE loan_id = 3), 1::bigint, 'an UPDATE that leaves the key as it was severs nothing');

-- copies whose key is NULL in part find no source row: hidden; NULL in whole: not a copy
INSERT INTO ick.notices (loan_id, loan_out, patron_id, body) VALUES (1, NULL, 1, 'patron 1: partial key'),
                                                                   (NULL, NULL, 7, 'patron 7: welcome');
INSERT INTO ick.fines (patron_id, loan_id, loan_out, amount) VALUES (1, 1, NULL, 5);
SET LOCAL ROLE ick_staff;
SELECT is(pg_temp.seen(), 'notices 2:2 3:3 2:2 -:7 | fines -:-/- 2:2/2024-02-01 -:-/-',
          'a copy keyed in part (the loan''s id, no checkout) reads as hidden; one with no key at all reads whole');
SELECT is((SELECT count(*) FROM ick.notices WHERE body LIKE 'patron 1:%'), 0::bigint, 'the partly keyed notice is not read');
RESET ROLE;

-- severing matches the whole key: loans 6 on two days, each with a notice and a fine
INSERT INTO ick.loans VALUES (6, '2024-05-01', 6, 30, NULL), (6, '2024-05-02', 7, 31, NULL);
INSERT INTO ick.notices (loan_id, loan_out, patron_id, body) VALUES (6, '2024-05-01', 6, 'patron 6: item 30'),
                                                                   (6, '2024-05-02', 7, 'patron 7: item 31');
INSERT INTO ick.fines (patron_id, loan_id, loan_out, amount) VALUES (6, 6, '2024-05-01', 1), (7, 6, '2024-05-02', 1);
UPDATE ick.loans SET patron_id = 0 WHERE id = 6 AND checked_out = '2024-05-01';
SELECT is((SELECT string_agg(patron_id::text, ' ' ORDER BY id) FROM ick.notices WHERE loan_id = 6), '7',
          'severing a loan deletes its notice, not the notice of another loan with the same id');
SELECT is((SELECT string_agg(patron_id || ':' || coalesce(loan_id::text, '-') || '/' || coalesce(loan_out::text, '-'), ' ' ORDER BY id)
             FROM ick.fines WHERE patron_id IN (6, 7)),
          '6:-/- 7:6/2024-05-02', 'and unlinks its fine (both columns), not the other''s');
DELETE FROM ick.loans WHERE id = 6 AND checked_out = '2024-05-02';
SELECT is((SELECT count(*) FROM ick.notices WHERE loan_id = 6), 0::bigint, 'deleting the other severs its own copies');
-- the backlog severs copies whose key finds no identified row, the whole key compared
INSERT INTO ick.loans VALUES (8, '2024-06-01', 8, 40, NULL);
INSERT INTO ick.notices (loan_id, loan_out, patron_id, body) VALUES (8, '2024-06-01', 8, 'patron 8: item 40'),
                                                                   (8, '2024-06-02', 8, 'patron 8: the id of loan 8, another day');
SELECT is(pals_privacy.sever_copies('ick.notices'), 2::bigint,
          'sever_copies: a copy whose whole key finds no row is severed, and the partly keyed one');
SELECT is((SELECT string_agg(coalesce(loan_out::text, '-') || ' ' || body, ', ' ORDER BY id) FROM ick.notices WHERE patron_id IN (1, 8)),
          '2024-01-01 patron 1: item 10, 2024-06-01 patron 8: item 40',
          'the copies of identified rows stay, each matched on its whole key');

-- a unique key given up after binding (a deferrable constraint instead of
-- the primary key): two rows may hold a key within a transaction, so the
-- rule asks that no second row holds it
SAVEPOINT deferred;
ALTER TABLE ick.loans DROP CONSTRAINT loans_pkey;
ALTER TABLE ick.loans ADD UNIQUE (id, checked_out) DEFERRABLE INITIALLY DEFERRED;
SET LOCAL ROLE ick_staff;
SELECT is(pg_temp.seen(), 'notices 2:2 3:3 2:2 -:7 8:8 | fines -:-/- 2:2/2024-02-01 -:-/- -:-/- -:-/-',
          'staff read the same with the key held unique by a deferred constraint');
INSERT INTO ick.loans VALUES (1, '2024-01-01', 5, 20, NULL), (2, '2024-02-01', 5, 21, NULL);
SELECT is(pg_temp.seen(), 'notices 3:3 -:7 8:8 | fines -:-/- -:-/- -:-/- -:-/- -:-/-',
          'a decoy with the whole key of a hidden loan (and of a visible one) opens nothing: a key two rows hold reads as hidden');
RESET ROLE;
ROLLBACK TO SAVEPOINT deferred;

-- a source with inheritance children: its unique index does not reach them
CREATE TABLE ick.xacts (id int PRIMARY KEY, patron_id bigint NOT NULL, item_id int NOT NULL, finished date);
CREATE TABLE ick.xacts_more (note text) INHERITS (ick.xacts);
INSERT INTO ick.xacts VALUES (1, 1, 50, '2024-01-01'), (2, 2, 50, '2024-02-01'), (3, 3, 51, NULL);
CREATE TABLE ick.xact_sums (xact_id int PRIMARY KEY, patron_id bigint);
INSERT INTO ick.xact_sums VALUES (1, 1), (2, 2), (3, 3);
SELECT pals_privacy.bind_loans('ick.xacts', 'patron_id', 'item_id', '{finished}', sever_with => 'patron:0');
SELECT pals_privacy.bind_copy('ick.xact_sums', 'ick.xacts', 'xact_id', 'patron_id');
GRANT SELECT, INSERT ON ick.xacts, ick.xacts_more, ick.xact_sums TO ick_staff;
CREATE FUNCTION pg_temp.sums() RETURNS text LANGUAGE sql AS $$
    SELECT string_agg(xact_id || ':' || coalesce(patron_id::text, '-'), ' ' ORDER BY xact_id) FROM ick.xact_sums
$$;
GRANT EXECUTE ON FUNCTION pg_temp.sums() TO ick_staff;
SET LOCAL ROLE ick_staff;
SELECT is(pg_temp.sums(), '1:- 2:2 3:3', 'staff: the summary of hidden transaction 1 without its patron');
INSERT INTO ick.xacts_more VALUES (1, 5, 52, NULL, 'decoy');
SELECT is(pg_temp.sums(), '1:- 2:2 3:3', 'a decoy in a child with the hidden transaction''s id opens nothing');
INSERT INTO ick.xacts_more VALUES (3, 5, 53, NULL, 'decoy');
SELECT is(pg_temp.sums(), '1:- 2:2 3:-', 'a key two rows of the hierarchy hold reads as hidden, even where both are visible');
RESET ROLE;
-- and the other way round: the hidden row in the child, the decoy in the parent
INSERT INTO ick.xacts_more VALUES (7, 7, 54, '2024-01-01', NULL), (8, 8, 54, '2024-02-01', NULL);
INSERT INTO ick.xact_sums VALUES (7, 7), (8, 8);
SELECT pals_privacy.rebuild_tracker('ick.xacts');
SET LOCAL ROLE ick_staff;
SELECT is((SELECT patron_id FROM ick.xact_sums WHERE xact_id = 7), NULL, 'the summary of a hidden row of the child: no patron');
INSERT INTO ick.xacts VALUES (7, 5, 55, NULL);
SELECT is((SELECT patron_id FROM ick.xact_sums WHERE xact_id = 7), NULL, 'a decoy in the parent with its id opens nothing');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
