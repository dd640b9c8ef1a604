-- A time inside a column of a composite type (attack round 12, HOLE 2): on a
-- loan row whose patron a class does not read, every column that holds a
-- time reads coarsened (mask_hidden_times); holds_time looked through
-- domains, arrays, ranges and multiranges, not into composites, so a column
-- "st stamp" with stamp = (at timestamptz, desk text) read its exact second
-- to staff on a severed row, which the charge-time join turns into the
-- patron.  Now a composite with a time among its fields (and an array of
-- such, a domain over one) reads NULL where hidden, as mask_coarse reads any
-- composite; a composite without a time, an array of text, read as stored.
-- Item 100: patron 1 returned it (severed when patron 2 returned it after),
-- patron 2 is its last borrower (staff read that row whole).
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pals_privacy;
SET datestyle = ISO;
SET timezone = UTC;

BEGIN;
SELECT plan(8);

CREATE SCHEMA hc;
CREATE TABLE hc.patrons (id bigint PRIMARY KEY, expires date NOT NULL DEFAULT 'infinity');
INSERT INTO hc.patrons (id) SELECT generate_series(1, 2);
SELECT pals_privacy.bind_patrons('hc.patrons', 'id', 'expires');
CREATE TYPE hc.stamp AS (at timestamptz, desk text);
CREATE TYPE hc.nested AS (inner_stamp hc.stamp, n int);
CREATE TYPE hc.address AS (street text, town text);
CREATE DOMAIN hc.dstamp AS hc.stamp;
CREATE TABLE hc.loans (id int PRIMARY KEY, patron_id bigint REFERENCES hc.patrons, item_id int NOT NULL,
                       returned_at timestamptz, st hc.stamp, sts hc.stamp[], nest hc.nested, dst hc.dstamp,
                       addr hc.address, tags text[]);
SELECT pals_privacy.bind_loans('hc.loans', 'patron_id', 'item_id', '{returned_at}');
CREATE ROLE regress_hc_staff;
SELECT pals_privacy.classify_role('regress_hc_staff', 'staff');
GRANT USAGE ON SCHEMA hc TO regress_hc_staff;
GRANT SELECT ON hc.loans TO regress_hc_staff;
INSERT INTO hc.loans VALUES
    (1, 1, 100, NULL, ('2024-03-20 16:42:07+00', 'd1'), ARRAY[('2024-03-20 16:42:07+00', 'd1')::hc.stamp],
     (('2024-03-20 16:42:07+00', 'd1'), 1), ('2024-03-20 16:42:07+00', 'd1'), ('High St', 'Leeds'), '{a,b}');
UPDATE hc.loans SET returned_at = '2024-03-20 16:42:07+00' WHERE id = 1;
INSERT INTO hc.loans VALUES
    (2, 2, 100, NULL, ('2024-03-25 10:11:12+00', 'd2'), NULL, NULL, NULL, ('Low St', 'York'), '{c}');
UPDATE hc.loans SET returned_at = '2024-03-25 10:11:12+00' WHERE id = 2;

-- what staff read of a column of a row
CREATE FUNCTION pg_temp.staff(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE r text;
BEGIN
    SET LOCAL ROLE regress_hc_staff;
    EXECUTE q INTO r;
    RESET ROLE;
    RETURN coalesce(r, 'NULL');
END $$;
GRANT EXECUTE ON FUNCTION pg_temp.staff(text) TO PUBLIC;

SELECT is(pg_temp.staff('SELECT patron_id::text FROM hc.loans WHERE id = 1'), 'NULL',
          'control: the first loan is severed (staff do not read its patron)');
SELECT is(pg_temp.staff('SELECT st::text FROM hc.loans WHERE id = 1'), 'NULL',
          'a composite holding a time reads NULL on the severed row (not its exact second)');
SELECT is(pg_temp.staff('SELECT sts::text FROM hc.loans WHERE id = 1'), 'NULL',
          'an array of such composites: NULL');
SELECT is(pg_temp.staff('SELECT nest::text FROM hc.loans WHERE id = 1'), 'NULL',
          'a composite holding one that holds a time: NULL');
SELECT is(pg_temp.staff('SELECT dst::text FROM hc.loans WHERE id = 1'), 'NULL',
          'a domain over such a composite: NULL');
SELECT is(pg_temp.staff('SELECT addr::text || '' '' || tags::text FROM hc.loans WHERE id = 1'), '("High St",Leeds) {a,b}',
          'a composite without a time and an array of text read as stored');
SELECT is(pg_temp.staff('SELECT st::text FROM hc.loans WHERE id = 2'), '("2024-03-25 10:11:12+00",d2)',
          'the item''s last borrower reads whole, its composite time exact');
SELECT is((SELECT st::text FROM hc.loans WHERE id = 1), '("2024-03-20 16:42:07+00",d1)',
          'the stored value is unchanged (the superuser reads it)');

SELECT * FROM finish();
ROLLBACK;
