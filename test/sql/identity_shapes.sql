-- Shapes of real ILS schemas (issue 14), on a small schema of their own:
-- copies follow their source in redaction, for every class; account
-- records (bind_account); private history filled by the ILS's own triggers
-- during its purge function; a purge function that soft-deletes.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pals_privacy;

BEGIN;
SELECT plan(39);

CREATE SCHEMA ish;
CREATE TABLE ish.patrons (id bigint PRIMARY KEY, name text, card text, expires date NOT NULL DEFAULT 'infinity',
                          deleted boolean NOT NULL DEFAULT false);
INSERT INTO ish.patrons (id, name, card) SELECT g, 'patron ' || g, 'C' || g FROM generate_series(0, 9) g;
CREATE TABLE ish.loans (id int PRIMARY KEY, patron_id bigint NOT NULL REFERENCES ish.patrons, item_id int NOT NULL,
                        returned date, paid boolean NOT NULL DEFAULT true);
-- item 10: loan 1 (patron 1) then loan 2 (patron 2, the last borrower);
-- item 11: loan 3 (patron 3) returned, fine unpaid; item 12: loan 4 open (patron 4)
INSERT INTO ish.loans VALUES (1, 1, 10, '2024-01-10', true), (2, 2, 10, '2024-02-10', true),
                             (3, 3, 11, '2024-01-10', false), (4, 4, 12, NULL, true);
CREATE TABLE ish.summary (loan_id int PRIMARY KEY, patron_id bigint, item_id int);
INSERT INTO ish.summary SELECT id, patron_id, item_id FROM ish.loans;
CREATE TABLE ish.notices (id serial PRIMARY KEY, loan_id int, patron_id bigint, body text);
INSERT INTO ish.notices (loan_id, patron_id, body) SELECT id, patron_id, 'patron ' || patron_id || ': item ' || item_id FROM ish.loans;
INSERT INTO ish.notices (loan_id, patron_id, body) VALUES (NULL, 1, 'welcome, patron 1');
ALTER TABLE ish.loans ADD UNIQUE (id, item_id);
-- a fine is charged when its loan comes back: its time finds the loan again
CREATE TABLE ish.fines (id serial PRIMARY KEY, patron_id bigint NOT NULL, loan_id int, loan_item int, amount numeric,
                        charged date, FOREIGN KEY (loan_id, loan_item) REFERENCES ish.loans (id, item_id));
INSERT INTO ish.fines (patron_id, loan_id, loan_item, amount, charged) SELECT patron_id, id, item_id, 1, returned FROM ish.loans;
-- adjustments of a loan's fine, with nothing else that finds the loan
CREATE TABLE ish.adjustments (id serial PRIMARY KEY, patron_id bigint NOT NULL, loan_id int, amount numeric);
INSERT INTO ish.adjustments (patron_id, loan_id, amount) SELECT patron_id, id, 1 FROM ish.loans;
CREATE TABLE ish.payments (id serial PRIMARY KEY, patron_id bigint NOT NULL, amount numeric);
INSERT INTO ish.payments (patron_id, amount) SELECT g, 1 FROM generate_series(1, 4) g;

SELECT pals_privacy.bind_patrons('ish.patrons', 'id', 'expires', card_column => 'card', name_columns => '{name}');
SELECT pals_privacy.bind_loans('ish.loans', 'patron_id', 'item_id', '{returned}', sever_with => 'patron:0',
                               settled_when => 'paid');
SELECT pals_privacy.bind_copy('ish.summary', 'ish.loans', 'loan_id', 'patron_id');
SELECT pals_privacy.bind_copy('ish.notices', 'ish.loans', 'loan_id', 'patron_id', sever_with => 'delete');
SELECT pals_privacy.bind_copy('ish.fines', 'ish.loans', 'loan_id', 'patron_id', sever_with => 'unlink',
                              hide_columns => '{charged}');
SELECT pals_privacy.bind_copy('ish.adjustments', 'ish.loans', 'loan_id', 'patron_id', sever_with => 'unlink');
SELECT pals_privacy.bind_account('ish.payments', 'patron_id');

CREATE ROLE ish_staff; CREATE ROLE ish_audit; CREATE ROLE ish_coll; CREATE ROLE ish_opac; CREATE ROLE ish_stat;
CREATE ROLE ish_nosource;
GRANT USAGE ON SCHEMA ish TO ish_staff, ish_audit, ish_coll, ish_opac, ish_stat, ish_nosource;
GRANT SELECT ON ALL TABLES IN SCHEMA ish TO ish_staff, ish_audit, ish_coll, ish_opac, ish_stat;
GRANT SELECT ON ish.summary, ish.fines, ish.notices, ish.payments TO ish_nosource;
GRANT UPDATE ON ish.fines, ish.adjustments TO ish_staff;
SELECT pals_privacy.classify_role('ish_staff', 'staff'), pals_privacy.classify_role('ish_audit', 'auditor'),
       pals_privacy.classify_role('ish_coll', 'collections'), pals_privacy.classify_role('ish_opac', 'patron'),
       pals_privacy.classify_role('ish_stat', 'statistics'), pals_privacy.classify_role('ish_nosource', 'staff');
SET LOCAL pals_privacy.pin_iterations = 10000;
SELECT pals_privacy.set_pin('2', '2222');

-- what a role reads of the copies: loan:patron per row
CREATE FUNCTION pg_temp.copies(who text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE s text; n text; f text; p text;
BEGIN
    EXECUTE format('SET LOCAL ROLE %I', who);
    IF who = 'ish_opac' THEN PERFORM pals_privacy.login('C2', '2222'); END IF;
    SELECT string_agg(loan_id || ':' || coalesce(patron_id::text, '-'), ' ' ORDER BY loan_id) INTO s FROM ish.summary;
    SELECT string_agg(coalesce(loan_id::text, '-') || ':' || coalesce(patron_id::text, '-'), ' ' ORDER BY id) INTO n FROM ish.notices;
    SELECT string_agg(coalesce(patron_id::text, '-') || ':' || coalesce(loan_id::text, '-') || '/' || coalesce(loan_item::text, '-'), ' ' ORDER BY id)
      INTO f FROM ish.fines;
    SELECT string_agg(coalesce(patron_id::text, '-'), ' ' ORDER BY id) INTO p FROM ish.payments;
    IF who = 'ish_opac' THEN PERFORM pals_privacy.logout(); END IF;
    RESET ROLE;
    RETURN 'summary ' || coalesce(s, '') || ' | notices ' || coalesce(n, '') || ' | fines ' || coalesce(f, '')
           || ' | payments ' || coalesce(p, '');
END $$;

-- staff read a loan's patron while it is open or unpaid, and the item's last
-- borrower: loan 1's copies read without it
SELECT is(pg_temp.copies('ish_staff'),
          'summary 1:- 2:2 3:3 4:4 | notices 2:2 3:3 4:4 -:1 | fines -:-/- 2:2/10 3:3/11 4:4/12 | payments 1 2 3 4',
          'staff: a copy of a loan whose patron staff read masked hides its patron, its row, its link (both columns)');
SELECT is(pg_temp.copies('ish_opac'),
          'summary 2:2 | notices 2:2 | fines 2:2/10 | payments 2',
          'patron: only copies and account rows of their own loans and account');
SELECT is(pg_temp.copies('ish_audit'),
          'summary 1:- 2:- 3:- 4:- | notices -:- | fines -:-/- -:-/- -:-/- -:-/- | payments - - - -',
          'auditor: no copy''s patron or link; account rows without the patron');
SELECT is(pg_temp.copies('ish_coll'), 'summary  | notices  | fines  | payments ',
          'collections: nobody owes above the threshold, so no row of a patron');
SELECT is(pg_temp.copies('ish_stat'), 'summary  | notices  | fines  | payments ', 'statistics: nothing');
SELECT is(pg_temp.copies('ish_nosource'),
          'summary 1:- 2:2 3:3 4:4 | notices 2:2 3:3 4:4 -:1 | fines -:-/- 2:2/10 3:3/11 4:4/12 | payments 1 2 3 4',
          'a role with no privilege on the source reads the copy as its class would (no error), learning no more');

-- getting around it: filters, joins, counts, EXPLAIN, writes
SET LOCAL ROLE ish_staff;
SELECT is((SELECT count(*) FROM ish.summary WHERE patron_id = 1), 0::bigint, 'a filter on the hidden patron of a copy matches nothing');
SELECT is((SELECT count(*) FROM ish.fines WHERE loan_id = 1), 0::bigint, 'a filter on a hidden link matches nothing');
SELECT is((SELECT count(*) FROM ish.fines WHERE loan_item = 10 AND patron_id = 1), 0::bigint,
          'nor on the other column of the link');
SELECT is((SELECT count(*) FROM ish.fines f JOIN ish.loans l ON l.id = f.loan_id WHERE f.patron_id = 1), 0::bigint,
          'a join of a fine to its hidden loan finds nothing');
SELECT is((SELECT count(*) FROM ish.fines f JOIN ish.loans l ON l.returned = f.charged WHERE f.patron_id = 1), 0::bigint,
          'nor a join on the time the fine was charged, equal to the hidden loan''s return (hide_columns)');
SELECT is((SELECT count(*) FROM ish.fines f JOIN ish.loans l ON l.returned = f.charged WHERE f.patron_id = 2), 1::bigint,
          'the time of a fine whose loan staff may see reads as stored');
SELECT is((SELECT count(*) FROM ish.summary), 4::bigint, 'row counts stay true');
SELECT is((SELECT count(*) FROM ish.notices WHERE body LIKE 'patron 1:%'), 0::bigint,
          'a notice of a hidden loan is not read, also through a filter on its text');
SELECT throws_ok($$EXPLAIN ANALYZE SELECT * FROM ish.summary$$, '42501', NULL, 'EXPLAIN ANALYZE of a copy is refused like any bound relation''s');
UPDATE ish.fines SET amount = 2 WHERE loan_id IS NULL;
RESET ROLE;
SELECT is((SELECT string_agg(amount::text, ' ' ORDER BY id) FROM ish.fines), '1 1 1 1',
          'staff cannot find or change the fine whose link they read hidden (a write reaches rows read whole)');

-- a return severs loan 2 (the item's new last borrower is patron 5): its copies
-- follow at once, in storage and in what staff read
INSERT INTO ish.loans VALUES (5, 5, 10, NULL, true);
INSERT INTO ish.summary VALUES (5, 5, 10);
UPDATE ish.loans SET returned = '2024-03-01' WHERE id = 5;
SELECT is((SELECT patron_id FROM ish.loans WHERE id = 2), 0::bigint, 'loan 2 severed by the return');
SELECT is(pg_temp.copies('ish_staff'),
          'summary 1:- 2:- 3:3 4:4 5:5 | notices 3:3 4:4 -:1 | fines -:-/- -:-/- 3:3/11 4:4/12 | payments 1 2 3 4',
          'staff read loan 2''s copies severed, and loan 5''s (the last borrower) whole');
SELECT is((SELECT string_agg(loan_id || ':' || coalesce(patron_id::text, '-'), ' ' ORDER BY loan_id) FROM ish.summary),
          '1:1 2:- 3:3 4:4 5:5', 'stored: the summary of the severed loan lost its patron (loan 1 waits for the backlog)');
-- an adjustment unlinked by the sever keeps its patron, which would pair it with the severed loan
-- by order (ids, amounts, physical order): its patron reads hidden, so staff do not reach it, nor
-- the one whose link they read hidden; an unlinked fine keeps its time hidden (it finds the loan),
-- so staff do not reach it either
SET LOCAL ROLE ish_staff;
UPDATE ish.adjustments SET amount = 3 WHERE loan_id IS NULL;
UPDATE ish.fines SET amount = 3 WHERE loan_id IS NULL;
SELECT is((SELECT count(*) FROM ish.fines f JOIN ish.loans l ON l.returned = f.charged WHERE f.loan_id IS NULL), 0::bigint,
          'the time of an unlinked fine stays hidden: it cannot be joined back to the severed loan');
RESET ROLE;
SELECT is((SELECT string_agg(coalesce(loan_id::text, '-') || ':' || amount, ' ' ORDER BY id) FROM ish.adjustments),
          '1:1 -:1 3:1 4:1', 'staff update neither the unlinked adjustment (its patron reads hidden) nor the one whose link they read hidden');
SELECT is((SELECT string_agg(coalesce(loan_id::text, '-') || ':' || amount, ' ' ORDER BY id) FROM ish.fines),
          '1:1 -:1 3:1 4:1', 'nor an unlinked fine whose time they read hidden');

-- binding errors
SELECT throws_ok($$SELECT pals_privacy.bind_account('ish.fines', 'patron_id')$$, '42710',
                 'bind_account: "ish.fines" is already bound as a copy', 'a copy is not bound as an account too');
SELECT throws_ok($$SELECT pals_privacy.bind_account('ish.loans', 'patron_id')$$, '42710', NULL, 'nor a loan table');
SELECT throws_ok($$SELECT pals_privacy.bind_copy('ish.payments', 'ish.loans', 'id', 'patron_id')$$, '42710', NULL,
                 'an account table is not bound as a copy');
SELECT throws_ok($$SELECT pals_privacy.bind_account('ish.payments', NULL)$$, '22004', NULL, 'the patron column is required');
SELECT throws_ok($$SELECT pals_privacy.bind_copy('ish.notices', 'ish.loans', 'loan_id', 'patron_id', sever_with => 'delete', hide_columns => '{body}')$$,
                 '22023', NULL, 'hide_columns has no use with a copy deleted with its source');
SELECT throws_ok($$SELECT pals_privacy.bind_account('ish.payments', 'nope')$$, '42703', NULL,
                 'the patron column must exist');
SELECT lives_ok($$SELECT pals_privacy.bind_account('ish.payments', 'patron_id')$$, 'binding it again the same way is a no-op');
SELECT is((SELECT count(*) FROM pals_privacy.bindings WHERE kind = 'accounts'), 1::bigint, 'the bindings view lists it');
SELECT ok((SELECT relrowsecurity FROM pg_class WHERE oid = 'ish.summary'::regclass)
          AND EXISTS (SELECT FROM pg_policy WHERE polrelid = 'ish.summary'::regclass AND polname = 'pals_privacy_guard'),
          'a copy gets row security and the fail-closed policy like every binding');
SELECT lives_ok($$SELECT pals_privacy.unbind('ish.payments')$$, 'unbind removes an account binding');
SELECT is(pg_temp.copies('ish_audit'),
          'summary 1:- 2:- 3:- 4:- 5:- | notices -:- | fines -:-/- -:-/- -:-/- -:-/- | payments 1 2 3 4',
          'and then the payments are read as stored');

-- purge: the ILS's purge function soft-deletes, and its own audit trigger
-- writes the old patron row into a history bound as private history
CREATE TABLE ish.patron_audit (patron_id bigint, name text, card text, at timestamptz DEFAULT now());
SELECT pals_privacy.bind_private_history('ish.patron_audit', 'patron_id');
CREATE FUNCTION ish.audit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO ish.patron_audit (patron_id, name, card) VALUES (OLD.id, OLD.name, OLD.card);
    RETURN NULL;
END $$;
CREATE TRIGGER audit AFTER UPDATE OR DELETE ON ish.patrons FOR EACH ROW EXECUTE FUNCTION ish.audit();
CREATE FUNCTION ish.scrub(p bigint) RETURNS void LANGUAGE sql AS $$
    UPDATE ish.patrons SET name = 'PURGED', card = NULL, deleted = true, expires = current_date - 1000 WHERE id = p;
$$;
UPDATE pals_privacy.patron_binding SET purge_function = 'ish.scrub(bigint)';
SELECT is(pals_privacy._purge_patrons(ARRAY['6']), 1::bigint, 'patron 6 purged by the soft-deleting function');
SELECT is((SELECT name FROM ish.patrons WHERE id = 6), 'PURGED', 'its row stays, scrubbed');
SELECT is((SELECT count(*) FROM ish.patron_audit WHERE patron_id = 6), 0::bigint,
          'the old row the function''s own trigger wrote into the private history is gone (purged after the function)');
SELECT is((SELECT array_agg(patron) FROM pals_privacy.purged_patrons), ARRAY['6'], 'the purge is recorded');
SELECT is(pals_privacy._purged_patrons(), ARRAY['6'], 'and left out of every later purge');
SELECT is((SELECT value FROM pals_privacy.compliance_report() WHERE section = 'expired_patrons' AND measure = 'expired_beyond_grace'),
          0::numeric, 'the compliance report does not count the purged patron as an expired one (its expiry is long past)');

SELECT * FROM finish();
ROLLBACK;
