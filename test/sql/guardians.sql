-- Guardians of minors (bind_guardians, pals_privacy.guardian_access and
-- pals_privacy.guardian_age_limit): a logged-in patron reads, besides their
-- own rows, what guardian_access allows of each minor they are guardian of:
-- nothing (none, the default); the patron row, cards, contact rows, balances,
-- open or unsettled loans and open holds (current); everything, private
-- history included (all).  Patrons past the age limit or without a birth
-- date are nobody's minors.  The guardianship table reads only the rows
-- naming the logged-in patron.  Settings are superuser-only; changing them
-- re-plans prepared statements.
--
-- Patrons (bigint ids): 1 G1 (adult, guardian of 2, 3 and 4), 2 M (12 years
-- old), 3 A (adult), 4 N (no birth date), 5 O (nobody's), 6 G2 (adult,
-- guardian of 7), 7 M2 (8 years old).
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pals_privacy;

BEGIN;
SELECT plan(48);

CREATE ROLE regress_gd_opac;
CREATE ROLE regress_gd_staff;
DO $$ BEGIN
    PERFORM pals_privacy.classify_role('regress_gd_opac', 'patron');
    PERFORM pals_privacy.classify_role('regress_gd_staff', 'staff');
END $$;

CREATE SCHEMA gd;
CREATE TABLE gd.patrons (id bigint PRIMARY KEY, name text NOT NULL, card text UNIQUE, email text,
                         birth date, expires date NOT NULL DEFAULT 'infinity');
INSERT INTO gd.patrons (id, name, card, email, birth) VALUES
    (1, 'Gail Guardian', 'GD-0001', 'gail@example.org', '1980-05-01'),
    (2, 'Milo Minor', 'GD-0002', 'milo@example.org', current_date - interval '12 years'),
    (3, 'Ann Adult', 'GD-0003', 'ann@example.org', '2000-01-01'),
    (4, 'Ned Nodate', 'GD-0004', 'ned@example.org', NULL),
    (5, 'Otto Other', 'GD-0005', 'otto@example.org', current_date - interval '9 years'),
    (6, 'Gus Guardian', 'GD-0006', 'gus@example.org', '1975-03-03'),
    (7, 'Mia Minor', 'GD-0007', 'mia@example.org', current_date - interval '8 years');
CREATE TABLE gd.cards (card text PRIMARY KEY, patron_id bigint NOT NULL);
INSERT INTO gd.cards VALUES ('GDX-1', 1), ('GDX-2', 2), ('GDX-3', 3), ('GDX-4', 4), ('GDX-5', 5), ('GDX-7', 7);
CREATE TABLE gd.fines (id int PRIMARY KEY, patron_id bigint NOT NULL, amount numeric(8,2) NOT NULL);
INSERT INTO gd.fines VALUES (1, 1, 1.00), (2, 2, 2.00), (3, 3, 3.00), (4, 4, 4.00), (5, 5, 5.00), (7, 7, 7.00);
-- every loan row exists before bind_loans: the closed ones are not severed
CREATE TABLE gd.loans (id int PRIMARY KEY, patron_id bigint, item_id int NOT NULL, returned date, paid date);
INSERT INTO gd.loans VALUES
    (10, 2, 100, NULL, NULL),                        -- M: open
    (11, 2, 101, '2024-03-01', NULL),                -- M: returned, fine owed
    (12, 2, 102, '2024-02-01', '2024-02-01'),        -- M: returned and settled (past loan)
    (20, 1, 200, NULL, NULL),                        -- G1: open
    (21, 1, 201, '2024-01-01', '2024-01-01'),        -- G1: past loan
    (30, 3, 300, NULL, NULL),
    (40, 4, 400, NULL, NULL),
    (50, 5, 500, NULL, NULL),
    (70, 7, 700, NULL, NULL);
CREATE TABLE gd.holds (id int PRIMARY KEY, patron_id bigint, title_id int NOT NULL, fulfilled date);
INSERT INTO gd.holds VALUES (1, 2, 10, NULL), (2, 2, 11, '2024-01-05'), (3, 1, 12, NULL), (4, 5, 13, NULL),
                            (5, 3, 14, NULL), (7, 7, 15, NULL);
CREATE TABLE gd.searches (id int PRIMARY KEY, patron_id bigint NOT NULL, query text);
INSERT INTO gd.searches VALUES (1, 2, 'dinosaurs'), (2, 1, 'gardening'), (3, 3, 'divorce'), (4, 5, 'bankruptcy'),
                               (5, 4, 'tax'), (7, 7, 'ponies');
CREATE TABLE gd.addresses (patron_id bigint PRIMARY KEY, phone text);
INSERT INTO gd.addresses VALUES (1, '555-0001'), (2, '555-0002'), (3, '555-0003'), (4, '555-0004'),
                                (5, '555-0005'), (7, '555-0007');
CREATE TABLE gd.guarantors (minor_id bigint NOT NULL, guardian_id bigint NOT NULL, note text, since date);
INSERT INTO gd.guarantors VALUES (2, 1, 'parent', NULL), (3, 1, 'parent', NULL), (4, 1, 'aunt', NULL),
                                 (7, 6, 'parent', NULL);

-- bind_guardians without a birth date on the patron binding: a WARNING
-- (the output shows it); undone
SAVEPOINT no_birth;
SELECT pals_privacy.bind_patrons('gd.patrons', 'id', 'expires', card_column => 'card');
SELECT pals_privacy.bind_guardians('gd.guarantors', 'minor_id', 'guardian_id');
ROLLBACK TO SAVEPOINT no_birth;

DO $$ BEGIN
    PERFORM pals_privacy.bind_patrons('gd.patrons', 'id', 'expires', card_column => 'card',
                                      birth_date_column => 'birth');
    PERFORM pals_privacy.bind_cards('gd.cards', 'card', 'patron_id');
    PERFORM pals_privacy.bind_balance('gd.fines', 'patron_id', 'amount');
    PERFORM pals_privacy.bind_loans('gd.loans', 'patron_id', 'item_id', ARRAY['returned'], 'paid');
    PERFORM pals_privacy.bind_loans('gd.holds', 'patron_id', 'title_id', ARRAY['fulfilled'], keep_last_borrower => false);
    PERFORM pals_privacy.bind_private_history('gd.searches', 'patron_id');
    PERFORM pals_privacy.bind_contact('gd.patrons', 'email', 'id', 'email');
    PERFORM pals_privacy.bind_contact('gd.addresses', 'phone', 'patron_id', 'phone');
END $$;

------------------------------------------------------------------------------
-- bind_guardians: argument checks, then the binding
------------------------------------------------------------------------------
SELECT throws_ok($$SELECT pals_privacy.bind_guardians('gd.guarantors', 'minor_id', 'minor_id')$$, '22023',
    'bind_guardians: the minor and the guardian column are both "minor_id"',
    'bind_guardians: the same column for minor and guardian');
SELECT throws_ok($$SELECT pals_privacy.bind_guardians('gd.guarantors', 'minor_id', 'note')$$, '42804',
    'bind_guardians: column "note" of relation "gd.guarantors" has type text, but patron ids (gd.patrons.id) are bigint',
    'bind_guardians: a guardian column whose type does not match the patron id');
SELECT throws_ok($$SELECT pals_privacy.bind_guardians('gd.guarantors', 'since', 'guardian_id')$$, '42804', NULL,
    'bind_guardians: a date column cannot be the minor column');
SELECT throws_ok($$SELECT pals_privacy.bind_guardians('gd.guarantors', 'minor_id', 'nobody')$$, '42703', NULL,
    'bind_guardians: an unknown column');
SELECT lives_ok($$SELECT pals_privacy.bind_guardians('gd.guarantors', 'minor_id', 'guardian_id')$$,
    'bind_guardians binds the guardianship table');
SELECT is((SELECT format('%s %s %s', kind, column_name, settings->>'guardian_column') FROM pals_privacy.bindings
            WHERE relation = 'gd.guarantors'::regclass),
    'guardians minor_id guardian_id', 'the bindings view lists it');

SET pals_privacy.pin_iterations = 10000;
DO $$ BEGIN
    PERFORM pals_privacy.set_pin('1', '1111');
    PERFORM pals_privacy.set_pin('2', '2222');
    PERFORM pals_privacy.set_pin('6', '6666');
END $$;
GRANT USAGE ON SCHEMA gd TO regress_gd_opac, regress_gd_staff;
GRANT SELECT ON ALL TABLES IN SCHEMA gd TO regress_gd_opac, regress_gd_staff;

-- rows of every bound relation, as one line
CREATE FUNCTION pg_temp.counts() RETURNS text LANGUAGE sql AS $$
    SELECT format('patrons %s cards %s fines %s loans %s holds %s searches %s addresses %s guarantors %s',
                  (SELECT count(*) FROM gd.patrons), (SELECT count(*) FROM gd.cards), (SELECT count(*) FROM gd.fines),
                  (SELECT count(*) FROM gd.loans), (SELECT count(*) FROM gd.holds), (SELECT count(*) FROM gd.searches),
                  (SELECT count(*) FROM gd.addresses), (SELECT count(*) FROM gd.guarantors))
$$;
-- rows of the given patrons in every bound relation but the guardianship table
CREATE FUNCTION pg_temp.rows_of(ids bigint[]) RETURNS bigint LANGUAGE sql AS $$
    SELECT (SELECT count(*) FROM gd.patrons WHERE id = ANY (ids)) + (SELECT count(*) FROM gd.cards WHERE patron_id = ANY (ids))
         + (SELECT count(*) FROM gd.fines WHERE patron_id = ANY (ids)) + (SELECT count(*) FROM gd.loans WHERE patron_id = ANY (ids))
         + (SELECT count(*) FROM gd.holds WHERE patron_id = ANY (ids)) + (SELECT count(*) FROM gd.searches WHERE patron_id = ANY (ids))
         + (SELECT count(*) FROM gd.addresses WHERE patron_id = ANY (ids))
$$;

------------------------------------------------------------------------------
-- The settings are the superuser's
------------------------------------------------------------------------------
SELECT is(current_setting('pals_privacy.guardian_access'), 'none', 'guardian_access is none by default');
SELECT is(current_setting('pals_privacy.guardian_age_limit'), '18', 'guardian_age_limit is 18 by default');
SET SESSION AUTHORIZATION regress_gd_staff;
SELECT is(pals_privacy.current_class(), 'staff', 'regress_gd_staff is of class staff');
SELECT throws_ok($$SET pals_privacy.guardian_access = 'all'$$, '42501', NULL, 'staff cannot set guardian_access');
SELECT throws_ok($$SET pals_privacy.guardian_age_limit = 99$$, '42501', NULL, 'staff cannot set guardian_age_limit');
RESET SESSION AUTHORIZATION;

------------------------------------------------------------------------------
-- Before login nothing; logged in as G1 with guardian_access = none: own rows
------------------------------------------------------------------------------
SET pals_privacy.guardian_access = 'all';
SET SESSION AUTHORIZATION regress_gd_opac;
SELECT throws_ok($$SET pals_privacy.guardian_access = 'all'$$, '42501', NULL, 'a patron-class role cannot set guardian_access');
SELECT is(pg_temp.counts(), 'patrons 0 cards 0 fines 0 loans 0 holds 0 searches 0 addresses 0 guarantors 0',
    'before login nothing, the guardianship table included, even with guardian_access = all');
RESET SESSION AUTHORIZATION;
RESET pals_privacy.guardian_access;
SET SESSION AUTHORIZATION regress_gd_opac;
SELECT ok(pals_privacy.login('GD-0001', '1111'), 'G1 logs in');
SELECT is(pg_temp.counts(), 'patrons 1 cards 1 fines 1 loans 2 holds 1 searches 1 addresses 1 guarantors 3',
    'none: G1 reads own rows and the guardianship rows naming them');
SELECT is(pg_temp.rows_of('{2,3,4,5,6,7}'), 0::bigint, 'none: nothing of the minor M, nor of anybody else');
SELECT results_eq('SELECT minor_id, guardian_id FROM gd.guarantors ORDER BY minor_id',
    $$VALUES (2::bigint, 1::bigint), (3, 1), (4, 1)$$, 'G1 reads the guardianship rows naming them, not G2''s');

------------------------------------------------------------------------------
-- guardian_access = current
------------------------------------------------------------------------------
RESET SESSION AUTHORIZATION;
SET pals_privacy.guardian_access = 'current';
SET SESSION AUTHORIZATION regress_gd_opac;
SELECT results_eq('SELECT id, name, email FROM gd.patrons ORDER BY id',
    $$VALUES (1::bigint, 'Gail Guardian'::text, 'gail@example.org'::text), (2, 'Milo Minor', 'milo@example.org')$$,
    'current: G1 and the minor M''s patron row, contact field included');
SELECT results_eq('SELECT card FROM gd.cards ORDER BY card', ARRAY['GDX-1', 'GDX-2'], 'current: M''s cards');
SELECT results_eq('SELECT id, amount FROM gd.fines ORDER BY id', $$VALUES (1, 1.00::numeric(8,2)), (2, 2.00)$$,
    'current: M''s balance');
SELECT results_eq('SELECT patron_id, phone FROM gd.addresses ORDER BY patron_id',
    $$VALUES (1::bigint, '555-0001'::text), (2, '555-0002')$$, 'current: M''s contact row');
SELECT results_eq('SELECT id, patron_id FROM gd.loans ORDER BY id',
    $$VALUES (10, 2::bigint), (11, 2), (20, 1), (21, 1)$$,
    'current: M''s open loan and returned loan with a fine owed, not M''s past loan; all of G1''s');
SELECT results_eq('SELECT id FROM gd.holds ORDER BY id', ARRAY[1, 3], 'current: M''s open hold, not the fulfilled one');
SELECT results_eq('SELECT query FROM gd.searches ORDER BY id', ARRAY['gardening'], 'current: not M''s private history');
SELECT is(pg_temp.rows_of('{3,4,5,6,7}'), 0::bigint,
    'current: nothing of the adult ward, the ward without a birth date, or anybody else');
SELECT is_empty('SELECT id FROM gd.loans WHERE id = 12 OR patron_id = 7', 'current: asking for M''s past loan or M2''s loan by value');

------------------------------------------------------------------------------
-- guardian_access = all
------------------------------------------------------------------------------
RESET SESSION AUTHORIZATION;
SET pals_privacy.guardian_access = 'all';
SET SESSION AUTHORIZATION regress_gd_opac;
SELECT results_eq('SELECT id FROM gd.loans ORDER BY id', ARRAY[10, 11, 12, 20, 21], 'all: M''s past loan too');
SELECT results_eq('SELECT id FROM gd.holds ORDER BY id', ARRAY[1, 2, 3], 'all: M''s fulfilled hold too');
SELECT results_eq('SELECT query FROM gd.searches ORDER BY id', ARRAY['dinosaurs', 'gardening'], 'all: M''s private history');
SELECT is(pg_temp.counts(), 'patrons 2 cards 2 fines 2 loans 5 holds 3 searches 2 addresses 2 guarantors 3',
    'all: G1''s and M''s rows; the guardianship table unchanged');
SELECT is(pg_temp.rows_of('{3,4,5,6,7}'), 0::bigint, 'all: still nothing of non-minor wards or anybody else');
SELECT results_eq('SELECT p.name FROM gd.loans l JOIN gd.patrons p ON p.id = l.patron_id WHERE l.returned IS NOT NULL ORDER BY l.id',
    ARRAY['Milo Minor', 'Milo Minor', 'Gail Guardian'], 'all: a join of loans to patrons');

------------------------------------------------------------------------------
-- The age limit: a lower limit, and the birthday that ends the access
------------------------------------------------------------------------------
RESET SESSION AUTHORIZATION;
SET pals_privacy.guardian_age_limit = 10;
SET SESSION AUTHORIZATION regress_gd_opac;
SELECT is(pg_temp.counts(), 'patrons 1 cards 1 fines 1 loans 2 holds 1 searches 1 addresses 1 guarantors 3',
    'age limit 10: M (12) is no longer a minor: own rows only');
RESET SESSION AUTHORIZATION;
RESET pals_privacy.guardian_age_limit;
UPDATE gd.patrons SET birth = current_date - interval '18 years' WHERE id = 2;
SET SESSION AUTHORIZATION regress_gd_opac;
SELECT is(pg_temp.rows_of('{2}'), 0::bigint, 'M''s 18th birthday today ends the access at once');
RESET SESSION AUTHORIZATION;
UPDATE gd.patrons SET birth = current_date - interval '12 years' WHERE id = 2;
SET SESSION AUTHORIZATION regress_gd_opac;
SELECT is(pg_temp.rows_of('{2}'), 10::bigint, 'M is 12 again: patron, card, fine, 3 loans, 2 holds, a search, address');

------------------------------------------------------------------------------
-- Another guardian; the minor themselves
------------------------------------------------------------------------------
SELECT ok(pals_privacy.login('GD-0006', '6666'), 'G2 logs in on the same connection');
SELECT results_eq('SELECT id FROM gd.patrons ORDER BY id', ARRAY[6::bigint, 7], 'G2 reads their own and M2''s patron rows, not M');
SELECT is(pg_temp.rows_of('{1,2,3,4,5}'), 0::bigint, 'G2: nothing of M, G1 or the others');
SELECT ok(pals_privacy.login('GD-0002', '2222'), 'the minor M logs in');
SELECT is(pg_temp.counts(), 'patrons 1 cards 1 fines 1 loans 3 holds 2 searches 1 addresses 1 guarantors 1',
    'M reads their own account and the guardianship row naming them, nothing of their guardian');

------------------------------------------------------------------------------
-- A prepared statement is re-planned when guardian_access changes
------------------------------------------------------------------------------
RESET SESSION AUTHORIZATION;
SET pals_privacy.guardian_access = 'none';
SET SESSION AUTHORIZATION regress_gd_opac;
SELECT ok(pals_privacy.login('GD-0001', '1111'), 'G1 logs in again');
PREPARE gd_q AS SELECT id FROM gd.loans ORDER BY id;
SELECT results_eq('EXECUTE gd_q', ARRAY[20, 21], 'none: the prepared statement shows G1''s loans');
RESET SESSION AUTHORIZATION;
SET pals_privacy.guardian_access = 'all';
SET SESSION AUTHORIZATION regress_gd_opac;
SELECT results_eq('EXECUTE gd_q', ARRAY[10, 11, 12, 20, 21], 'all: the same prepared statement now shows M''s loans');
RESET SESSION AUTHORIZATION;
SET pals_privacy.guardian_access = 'current';
SET SESSION AUTHORIZATION regress_gd_opac;
SELECT results_eq('EXECUTE gd_q', ARRAY[10, 11, 20, 21], 'current: and now M''s current loans');

------------------------------------------------------------------------------
-- logout
------------------------------------------------------------------------------
SELECT lives_ok('SELECT pals_privacy.logout()', 'G1 logs out');
SELECT is(pg_temp.counts(), 'patrons 0 cards 0 fines 0 loans 0 holds 0 searches 0 addresses 0 guarantors 0',
    'after logout nothing, of the minor neither');
RESET SESSION AUTHORIZATION;
DEALLOCATE gd_q;

-- bind_guardians and unbind of a guardianship table are audited (sql/triggers/audit.sql)
SELECT is((SELECT format('%s %s %s', event, details->>'table', details->'row'->>'relation') FROM pals_privacy.audit_log
            WHERE details->>'table' = 'guardian_binding' ORDER BY id DESC LIMIT 1),
    'binding.insert guardian_binding gd.guarantors', 'bind_guardians is audited, as every bind_* call is');
SELECT pals_privacy.unbind('gd.guarantors');   -- (the test's transaction is rolled back)
SELECT is((SELECT format('%s %s %s', event, details->>'table', details->'row'->>'relation') FROM pals_privacy.audit_log
            WHERE details->>'table' = 'guardian_binding' ORDER BY id DESC LIMIT 1),
    'binding.delete guardian_binding gd.guarantors', 'and so is unbinding it');

SELECT * FROM finish();
ROLLBACK;
