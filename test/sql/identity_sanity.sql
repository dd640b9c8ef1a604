-- Binding sanity (issue 15): what cannot be right is refused at bind time
-- with its SQLSTATE and changes nothing (swapped patron and item columns, a
-- patron id that is not unique, a table that is not heap); what may be
-- wrong is said (temporary and unlogged tables, columns severing or purge
-- look rows up by without an index); and the usual slips get messages that
-- say what to do (closed_columns as a plain string, purge_function without
-- its signature, column names in another case or with double quotes).
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pals_privacy;
\set VERBOSITY default

BEGIN;
SELECT plan(22);

CREATE SCHEMA isa;
CREATE TABLE isa.patrons (id bigint PRIMARY KEY, expires date NOT NULL DEFAULT 'infinity');
INSERT INTO isa.patrons (id) SELECT generate_series(0, 3);
CREATE TABLE isa.items (id bigint PRIMARY KEY);
INSERT INTO isa.items SELECT generate_series(1, 3);
-- item_id references the patrons and patron_id the items: swapped
CREATE TABLE isa.loans (id int PRIMARY KEY, patron_id bigint REFERENCES isa.items,
                        item_id bigint REFERENCES isa.patrons, returned timestamptz);
CREATE INDEX ON isa.loans (patron_id);
CREATE INDEX ON isa.loans (item_id);
CREATE TABLE isa.good_loans (id int PRIMARY KEY, patron_id bigint REFERENCES isa.patrons,
                             item_id bigint REFERENCES isa.items, returned timestamptz, "Lost" timestamptz);
CREATE INDEX ON isa.good_loans (patron_id);
CREATE INDEX ON isa.good_loans (item_id);
CREATE TABLE isa.dup_patrons (id bigint, expires date NOT NULL);
CREATE INDEX ON isa.dup_patrons (id);
CREATE TABLE isa.partial_patrons (id bigint, expires date NOT NULL);
CREATE UNIQUE INDEX ON isa.partial_patrons (id) WHERE id > 0;
CREATE ACCESS METHOD isa_heap2 TYPE TABLE HANDLER heap_tableam_handler;
CREATE TABLE isa.other_am_patrons (id bigint PRIMARY KEY, expires date NOT NULL) USING isa_heap2;
CREATE TABLE isa.other_am_loans (id int PRIMARY KEY, patron_id bigint, item_id bigint, returned timestamptz);
CREATE TABLE isa.other_am_child (LIKE isa.other_am_loans) USING isa_heap2;
ALTER TABLE isa.other_am_child INHERIT isa.other_am_loans;
CREATE FUNCTION isa.purge_one(bigint) RETURNS void LANGUAGE sql AS 'DELETE FROM isa.patrons WHERE id = $1';
CREATE FUNCTION isa.purge_twice(bigint) RETURNS void LANGUAGE sql AS 'SELECT';
CREATE FUNCTION isa.purge_twice(integer) RETURNS void LANGUAGE sql AS 'SELECT';

CREATE FUNCTION pg_temp.fails(call text, code text, message text, hint text, description text)
RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE st text; msg text; h text;
BEGIN
    BEGIN
        EXECUTE call;
        RETURN NEXT fail(description || ' (no error)');
        RETURN;
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, h = PG_EXCEPTION_HINT;
    END;
    RETURN NEXT is(st || ': ' || msg || coalesce(' HINT: ' || h, ''),
                   code || ': ' || message || coalesce(' HINT: ' || hint, ''), description);
END $$;

-- the patron table
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_patrons('isa.dup_patrons', 'id', 'expires')$$,
    '22023', 'bind_patrons: the patron id column "id" of "isa.dup_patrons" has no unique constraint',
    'Bind the column that is the primary key, or add one: ALTER TABLE isa.dup_patrons ADD UNIQUE (id);',
    'a patron id without a unique constraint is refused');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_patrons('isa.partial_patrons', 'id', 'expires')$$,
    '22023', 'bind_patrons: the patron id column "id" of "isa.partial_patrons" has no unique constraint',
    'Bind the column that is the primary key, or add one: ALTER TABLE isa.partial_patrons ADD UNIQUE (id);',
    'a partial unique index does not make the id unique');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_patrons('isa.other_am_patrons', 'id', 'expires')$$,
    '0A000', 'bind_patrons: "isa.other_am_patrons" uses table access method "isa_heap2", not heap',
    'ALTER TABLE isa.other_am_patrons SET ACCESS METHOD heap, or do not bind it.',
    'a patron table that is not heap is refused');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_patrons('isa.patrons', 'id', 'expires', purge_function => 'isa.no_such')$$,
    '42883', 'bind_patrons: purge function isa.no_such does not exist',
    'Name it with its schema and argument type, for example ''ils.purge_patron(bigint)''.',
    'a purge function that does not exist: the hint shows how to name one');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_patrons('isa.patrons', 'id', 'expires', purge_function => 'isa.purge_twice')$$,
    '42883', 'bind_patrons: purge function isa.purge_twice is ambiguous',
    'Name it with its schema and argument type, for example ''ils.purge_patron(bigint)''.',
    'a purge function name that is overloaded needs its signature');
SELECT is((SELECT count(*) FROM pals_privacy.patron_binding), 0::bigint, 'none of these bound anything');
-- without the signature when the name is unique, and resolved through the caller's search path
SET LOCAL search_path = isa, public;
SELECT lives_ok($$SELECT pals_privacy.bind_patrons('isa.patrons', 'id', 'expires', purge_function => 'purge_one')$$,
                'purge_function without a signature, found through the search path');
SELECT is((SELECT purge_function FROM pals_privacy.patron_binding), 'isa.purge_one(bigint)',
          'it is stored with its schema and signature');
SELECT is(current_setting('search_path'), 'isa, public', 'binding leaves the caller''s search path as it was');
RESET search_path;

-- loans: swapped columns
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_loans('isa.loans', 'patron_id', 'item_id', '{returned}')$$,
    '22023', 'bind_loans: the item column "item_id" of "isa.loans" references the patron table "isa.patrons"',
    'Are the patron and item columns swapped? Try patron_column => ''item_id'', item_column => ''patron_id''.',
    'an item column that references the patron table is refused');
ALTER TABLE isa.loans DROP CONSTRAINT loans_item_id_fkey;
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_loans('isa.loans', 'patron_id', 'item_id', '{returned}')$$,
    '22023', 'bind_loans: the patron column "patron_id" of "isa.loans" references "isa.items", not the patron table "isa.patrons"',
    'Are the patron and item columns swapped? Try patron_column => ''item_id'', item_column => ''patron_id''.',
    'a patron column that references another table is refused');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_loans('isa.other_am_loans', 'patron_id', 'item_id', '{returned}')$$,
    '0A000', 'bind_loans: "isa.other_am_child" uses table access method "isa_heap2", not heap',
    'ALTER TABLE isa.other_am_child SET ACCESS METHOD heap, or do not bind it.',
    'a loan table with an inheritance child that is not heap is refused');
SELECT is((SELECT count(*) FROM pals_privacy.loan_binding), 0::bigint, 'none of these bound anything');

-- column names: exact, case included, without quotes
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_loans('isa.good_loans', 'patron_id', 'item_id', '{lost}')$$,
    '42703', 'bind_loans: column "lost" of relation "isa.good_loans" does not exist',
    'Column names are matched exactly, case included: the column is ''Lost''.',
    'a column name in the wrong case: the hint gives the right one');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_loans('isa.good_loans', 'patron_id', 'item_id', '{"\"Lost\""}')$$,
    '42703', 'bind_loans: column ""Lost"" of relation "isa.good_loans" does not exist',
    'Give column names as they are, without double quotes: ''Lost''.',
    'a column name given with double quotes: the hint says to drop them');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_loans('isa.good_loans', 'patron_id', 'item', '{returned}')$$,
    '42703', 'bind_loans: column "item" of relation "isa.good_loans" does not exist',
    'The columns of "isa.good_loans" are: id, patron_id, item_id, returned, "Lost".',
    'a column that does not exist at all: the hint lists the columns');

-- closed_columns as a plain string
SELECT lives_ok($$SELECT pals_privacy.bind_loans('isa.good_loans', 'patron_id', 'item_id', 'returned, Lost')$$,
                'closed_columns given as one string');
SELECT is((SELECT closed_columns FROM pals_privacy.loan_binding WHERE relation = 'isa.good_loans'::regclass),
          '{returned,Lost}'::name[], 'is a list of columns');
SELECT lives_ok($$SELECT pals_privacy.unbind('isa.good_loans')$$, 'unbound');
SELECT lives_ok($$SELECT pals_privacy.bind_loans('isa.good_loans', 'patron_id', 'item_id', closed_columns => 'returned')$$,
                'one closed column given as a bare name');
SELECT is((SELECT closed_columns FROM pals_privacy.loan_binding WHERE relation = 'isa.good_loans'::regclass),
          '{returned}'::name[], 'is a one-column list');
SELECT lives_ok($$SELECT pals_privacy.bind_loans('isa.good_loans', 'patron_id', 'item_id', '{returned}')$$,
                'the same binding as an array literal is the same binding');

SELECT * FROM finish();

-- what is only said: temporary and unlogged tables, missing indexes
SET client_min_messages = notice;
\set VERBOSITY terse
CREATE TEMP TABLE isa_temp_loans (id int, patron_id bigint, item_id bigint, returned timestamptz);
SELECT pals_privacy.bind_loans('isa_temp_loans', 'patron_id', 'item_id', '{returned}', keep_last_borrower => false);
CREATE UNLOGGED TABLE isa.unlogged_loans (id int, patron_id bigint, item_id bigint, returned timestamptz);
CREATE INDEX ON isa.unlogged_loans (patron_id, returned);
SELECT pals_privacy.bind_loans('isa.unlogged_loans', 'patron_id', 'item_id', '{returned}');
-- an inheritance parent that holds no row: its own index covers no child, the
-- child without one is named, with an index on it as the hint
\set VERBOSITY default
CREATE TABLE isa.inh_loans (id int, patron_id bigint, item_id bigint, returned timestamptz);
CREATE INDEX ON isa.inh_loans (patron_id);
CREATE TABLE isa.inh_loans_2025 () INHERITS (isa.inh_loans);
CREATE TABLE isa.inh_loans_2026 () INHERITS (isa.inh_loans);
CREATE INDEX ON isa.inh_loans_2025 (patron_id);
SELECT pals_privacy.bind_loans('isa.inh_loans', 'patron_id', 'item_id', '{returned}', keep_last_borrower => false);
-- a partitioned table: the partition without one is named, the hint indexes the parent
CREATE TABLE isa.part_loans (id int, patron_id bigint, item_id bigint, returned timestamptz) PARTITION BY RANGE (returned);
CREATE TABLE isa.part_loans_2025 PARTITION OF isa.part_loans FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
CREATE TABLE isa.part_loans_rest PARTITION OF isa.part_loans DEFAULT;
CREATE INDEX ON isa.part_loans_2025 (patron_id);
SELECT pals_privacy.bind_loans('isa.part_loans', 'patron_id', 'item_id', '{returned}', keep_last_borrower => false);
ROLLBACK;
