-- Purge and account records (issue 14, "after a soft-deleting purge, staff read the purged
-- patron's id in account records"): a purge function that soft-deletes (scrubs the patron row
-- and keeps it) leaves the patron's id in payments, charges, sign-ups and receipts, which staff
-- read.  bind_account's purge_with says what the purge does to what the function left ('null',
-- 'patron:<id>', 'delete'; by default 'null' for a nullable column, the loans' one placeholder
-- for a NOT NULL one, else the binding is refused); rows a trigger of the ILS keeps keep the
-- patron from the purge; rows the ILS writes later for a purged patron get it at the next run.
-- A desk account (class staff, SELECT on every table) then looks for the purged patron's id in
-- every column of every relation of the schema.  Like purge.sql, outside a transaction (the
-- procedure commits), cleaned up at the end.
\set pu_schema pac
\i test/purge/fixture.sql
SELECT plan(48);

-- patrons: 0 and 9 anonymous placeholders (9 expired long ago: a placeholder is never purged),
-- 90001 Ada and 90002 Bo expired, 90003 Cy current, 90004 Di the control (forgotten by the ILS
-- alone), 90005 Ed (expired, purged later by a hard-deleting function)
CREATE TABLE pac.patrons (id bigint PRIMARY KEY, name text NOT NULL, expires date NOT NULL,
                          deleted boolean NOT NULL DEFAULT false);
INSERT INTO pac.patrons VALUES (0, 'anonymous', 'infinity'), (9, 'anonymous receipts', current_date - 900),
    (90001, 'Ada Expired', current_date - 200), (90002, 'Bo Disputed', current_date - 200),
    (90003, 'Cy Current', 'infinity'), (90004, 'Di Control', 'infinity'), (90005, 'Ed Hard', 'infinity');
CREATE TABLE pac.loans (id int PRIMARY KEY, patron_id bigint NOT NULL REFERENCES pac.patrons, item_id int NOT NULL,
                        returned timestamptz);
INSERT INTO pac.loans VALUES (1, 90001, 10, now() - interval '150 days'), (2, 90003, 10, now() - interval '100 days'),
                             (3, 90002, 11, now() - interval '150 days'), (4, 90004, 12, now() - interval '150 days'),
                             (5, 90005, 13, now() - interval '150 days');
-- account records: charges (NOT NULL, a foreign key that cascades a delete), payments
-- (nullable, set NULL by a delete), sign-ups (one per patron: the patron is the key),
-- receipts (NOT NULL; the ILS keeps a disputed one with its patron)
CREATE TABLE pac.charges (id serial PRIMARY KEY, patron_id bigint NOT NULL REFERENCES pac.patrons ON DELETE CASCADE,
                          amount numeric NOT NULL, charged_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE pac.payments (id serial PRIMARY KEY, patron_id bigint REFERENCES pac.patrons ON DELETE SET NULL,
                           amount numeric NOT NULL);
CREATE TABLE pac.signups (patron_id bigint PRIMARY KEY REFERENCES pac.patrons ON DELETE CASCADE, signed_at timestamptz NOT NULL);
CREATE TABLE pac.receipts (id serial PRIMARY KEY, patron_id bigint NOT NULL REFERENCES pac.patrons ON DELETE CASCADE,
                           amount numeric NOT NULL, disputed boolean NOT NULL DEFAULT false);
CREATE FUNCTION pac.keep_disputed_receipt() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.disputed AND NEW.patron_id IS DISTINCT FROM OLD.patron_id THEN
        RETURN NULL;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER keep_disputed BEFORE UPDATE ON pac.receipts FOR EACH ROW EXECUTE FUNCTION pac.keep_disputed_receipt();
-- the ILS's audit of charge changes (the old row, patron and amount), by its trigger
CREATE TABLE pac.charge_audit (id serial PRIMARY KEY, patron_id bigint, amount numeric, changed_at timestamptz DEFAULT now());
CREATE FUNCTION pac.audit_charge() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO pac.charge_audit (patron_id, amount) VALUES (OLD.patron_id, OLD.amount);
    RETURN NULL;
END $$;
CREATE TRIGGER audit_charge AFTER UPDATE OR DELETE ON pac.charges FOR EACH ROW EXECUTE FUNCTION pac.audit_charge();
INSERT INTO pac.charges (patron_id, amount) SELECT p, 1.25 FROM unnest('{90001,90001,90002,90003,90004,90005}'::bigint[]) p;
INSERT INTO pac.payments (patron_id, amount) SELECT p, 2.50 FROM unnest('{90001,90002,90003,90004,90005}'::bigint[]) p;
INSERT INTO pac.signups SELECT p, now() FROM unnest('{90001,90002,90003,90004,90005}'::bigint[]) p;
INSERT INTO pac.receipts (patron_id, amount, disputed) VALUES (90001, 3.75, false), (90002, 3.75, true), (90003, 3.75, false),
                                                             (90004, 3.75, false), (90005, 3.75, false);
-- the ILS's purge routine: a soft delete, like Evergreen's actor.usr_delete without its transfer
CREATE FUNCTION pac.forget(p bigint) RETURNS void LANGUAGE sql AS $$
    UPDATE pac.patrons SET deleted = true, name = 'forgotten', expires = current_date WHERE id = p;
$$;
CREATE ROLE regress_pac_desk;
GRANT USAGE ON SCHEMA pac TO regress_pac_desk;
GRANT SELECT ON ALL TABLES IN SCHEMA pac TO regress_pac_desk;

SELECT pals_privacy.bind_patrons('pac.patrons', 'id', 'expires', purge_function => 'pac.forget(bigint)');
SELECT pals_privacy.classify_role('regress_pac_desk', 'staff');

------------------------------------------------------------------------------
-- Binding: purge_with and its default
------------------------------------------------------------------------------
-- before any loan binding names a placeholder: a NOT NULL column has no default
SELECT throws_ok($$SELECT pals_privacy.bind_account('pac.charges', 'patron_id')$$, '22023',
                 'bind_account: "pac.charges"."patron_id" is NOT NULL, and there is no one placeholder patron to give a purged patron''s rows',
                 'a NOT NULL patron column without purge_with, and no placeholder patron: refused');
SELECT pals_privacy.bind_loans('pac.loans', 'patron_id', 'item_id', '{returned}', sever_with => 'patron:0');
SELECT lives_ok($$SELECT pals_privacy.bind_account('pac.charges', 'patron_id')$$, 'then bound (NOT NULL, a foreign key)');
SELECT is((SELECT settings ->> 'purge_with' FROM pals_privacy.bindings WHERE relation = 'pac.charges'::regclass), 'patron:0',
          '... its default: the loans'' placeholder');
SELECT lives_ok($$SELECT pals_privacy.bind_account('pac.payments', 'patron_id')$$, 'a nullable patron column');
SELECT is((SELECT settings ->> 'purge_with' FROM pals_privacy.bindings WHERE relation = 'pac.payments'::regclass), 'null',
          '... its default: null');
SELECT throws_ok($$SELECT pals_privacy.bind_account('pac.signups', 'patron_id')$$, '22023', NULL,
                 'one row per patron (the patron is the key): no default');
SELECT throws_ok($$SELECT pals_privacy.bind_account('pac.signups', 'patron_id', purge_with => 'patron:0')$$, '22023',
                 'bind_account: purge_with => ''patron:<id>'' needs a patron column that is not unique, and "pac.signups"."patron_id" is',
                 '... nor a placeholder');
SELECT throws_ok($$SELECT pals_privacy.bind_account('pac.signups', 'patron_id', purge_with => 'null')$$, '22023',
                 'bind_account: purge_with => ''null'' needs a nullable patron column, and "pac.signups"."patron_id" is NOT NULL',
                 '... nor null');
SELECT lives_ok($$SELECT pals_privacy.bind_account('pac.signups', 'patron_id', purge_with => 'delete')$$, '... delete it is');
SELECT throws_ok($$SELECT pals_privacy.bind_account('pac.receipts', 'patron_id', purge_with => 'patron:77')$$, '23503',
                 'bind_account: placeholder patron ''77'' does not exist in pac.patrons', 'a placeholder that does not exist');
SELECT throws_ok($$SELECT pals_privacy.bind_account('pac.receipts', 'patron_id', purge_with => 'patron:')$$, '22023',
                 'bind_account: purge_with => ''patron:<id>'' needs the id of the placeholder patron', 'a placeholder without an id');
SELECT throws_ok($$SELECT pals_privacy.bind_account('pac.receipts', 'patron_id', purge_with => 'anonymise')$$, '22023',
                 'bind_account: unknown purge_with ''anonymise''', 'an unknown purge_with');
SELECT lives_ok($$SELECT pals_privacy.bind_account('pac.receipts', 'patron_id', purge_with => 'patron:9')$$, 'receipts: a placeholder of their own');
SELECT lives_ok($$SELECT pals_privacy.bind_account('pac.receipts', 'patron_id', purge_with => 'patron:9')$$, 'binding it again the same way is a no-op');
SELECT throws_ok($$SELECT pals_privacy.bind_account('pac.receipts', 'patron_id', purge_with => 'delete')$$, '42710', NULL,
                 'another purge_with: bound differently');
SELECT pals_privacy.bind_private_history('pac.charge_audit', 'patron_id');
SELECT is((SELECT count(*) FROM pals_privacy.binding_problems()), 0::bigint, 'no binding problem');

-- where a desk account finds a patron's id: every column of every relation of the schema (but
-- the patron table's own id), read as the role, filtered for the id; one 'relation.column' each
CREATE FUNCTION pg_temp.find_id(who text, id text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE c record; n bigint; found text[] := '{}';
BEGIN
    FOR c IN SELECT a.attrelid::regclass AS rel, a.attname FROM pg_attribute a JOIN pg_class k ON k.oid = a.attrelid
              WHERE k.relnamespace = 'pac'::regnamespace AND k.relkind IN ('r', 'p', 'v') AND a.attnum > 0 AND NOT a.attisdropped
                AND NOT (a.attrelid = 'pac.patrons'::regclass AND a.attname = 'id')
              ORDER BY 1::text, a.attnum LOOP
        BEGIN
            EXECUTE format('SET LOCAL ROLE %I', who);
            EXECUTE format('SELECT count(*) FROM %s x WHERE strpos(x.%I::text, $1) > 0', c.rel, c.attname) INTO n USING id;
            EXECUTE 'RESET ROLE';
            IF n > 0 THEN
                found := found || format('%s.%s', c.rel, c.attname);
            END IF;
        EXCEPTION WHEN insufficient_privilege THEN
            NULL;
        END;
    END LOOP;
    RETURN array_to_string(ARRAY(SELECT x FROM unnest(found) x ORDER BY 1), ' ');
END $$;
-- control: the ILS's own purge function alone (the purge without the account strategy) leaves
-- Di's id in every account relation, and the desk reads it there
SELECT pac.forget(90004);
SELECT is(pg_temp.find_id('regress_pac_desk', '90004'), 'pac.charges.patron_id pac.loans.patron_id pac.payments.patron_id pac.receipts.patron_id pac.signups.patron_id',
          'control: after the ILS''s soft delete alone, the desk finds the forgotten patron''s id in every account relation (and the loan)');
SELECT is((SELECT count(*) FROM pac.charges WHERE patron_id = 90004) || '/' || pg_temp.find_id('regress_pac_desk', 'Di Control'), '1/',
          'control: ... (the scrub itself worked: the name is gone)');

------------------------------------------------------------------------------
-- The purge: Ada purged, Bo kept by the ILS's trigger on a disputed receipt
------------------------------------------------------------------------------
CREATE TABLE pg_temp.before AS SELECT (SELECT sum(amount) FROM pac.charges) AS charges, (SELECT sum(amount) FROM pac.payments) AS payments,
                                      (SELECT sum(amount) FROM pac.receipts) AS receipts;
CALL pals_privacy.purge_expired(dry_run => true) \gset
SELECT is(:'result'::jsonb -> 'purged', '1', 'dry run: one patron would be purged');
SELECT is((SELECT count(*) FROM pac.charges WHERE patron_id = 90001) || '/' || (SELECT count(*) FROM pac.signups WHERE patron_id = 90001),
          '2/1', 'dry run: Ada''s account records are as they were');
CALL pals_privacy.purge_expired() \gset
SELECT is(:'result'::jsonb -> 'purged', '1', 'Ada is purged');
SELECT is((SELECT format('%s %s', name, deleted) FROM pac.patrons WHERE id = 90001), 'forgotten t', '... by the soft delete');
SELECT is((SELECT string_agg(patron_id::text, ',' ORDER BY id) FROM pac.charges WHERE id <= 2), '0,0',
          'Ada''s charges (NOT NULL, a foreign key): re-pointed to the loans'' placeholder');
SELECT is((SELECT count(*) FROM pac.payments WHERE id = 1 AND patron_id IS NULL), 1::bigint, 'Ada''s payment (nullable): NULL');
SELECT is((SELECT count(*) FROM pac.signups WHERE patron_id = 90001), 0::bigint, 'Ada''s sign-up: deleted');
SELECT is((SELECT patron_id FROM pac.receipts WHERE id = 1), 9::bigint, 'Ada''s receipt: the receipts'' placeholder');
SELECT is((SELECT format('%s %s %s', (SELECT sum(amount) FROM pac.charges) = b.charges, (SELECT sum(amount) FROM pac.payments) = b.payments,
                         (SELECT sum(amount) FROM pac.receipts) = b.receipts) FROM pg_temp.before b),
          't t t', 'every amount is kept (charges, payments, receipts)');
SELECT is((SELECT count(*) FROM pac.charge_audit WHERE patron_id = 90001), 0::bigint,
          'the ILS''s audit of the re-pointed charges (private history) holds nothing of Ada');
SELECT is(pg_temp.find_id('regress_pac_desk', '90001'), '', 'the desk finds Ada''s id nowhere');
SELECT is(pg_temp.find_id(current_user, '90001'), '', '... nor does the superuser (the id is gone, not masked)');
SELECT is((SELECT name FROM pac.patrons WHERE id = 9) || ' ' || (SELECT count(*) FROM pals_privacy.purged_patrons WHERE patron = '9'),
          'anonymous receipts 0', 'the receipts'' placeholder, expired long ago, is never purged');
-- Bo: the ILS's trigger keeps the disputed receipt; the purge of Bo is rolled back whole
SELECT is((:'result'::jsonb -> 'errors') ->> 0,
          '09000: purge: # row of "pac.receipts" (account records) kept the patron after purge_with ''patron:#''',
          'Bo is not purged: the run says why');
SELECT is((SELECT format('%s %s %s', p.name, p.deleted, (SELECT count(*) FROM pac.charges c WHERE c.patron_id = 90002)) FROM pac.patrons p WHERE p.id = 90002),
          'Bo Disputed f 1', '... Bo''s row and charge as they were');
SELECT is((SELECT patron_id FROM pac.loans WHERE id = 3), 90002::bigint, '... and Bo''s loan not severed');
SELECT is((SELECT count(*) FROM pals_privacy.purged_patrons WHERE patron = '90002'), 0::bigint, '... nor recorded as purged');
SELECT isnt(pg_temp.find_id('regress_pac_desk', '90002'), '', 'the walk finds the id of a patron not purged');

------------------------------------------------------------------------------
-- Later: the ILS charges the forgotten patron again; another run; Bo let go
------------------------------------------------------------------------------
INSERT INTO pac.charges (patron_id, amount) VALUES (90001, 4.00);
INSERT INTO pac.payments (patron_id, amount) VALUES (90001, 4.00);
SELECT is(pg_temp.find_id('regress_pac_desk', '90001'), 'pac.charges.patron_id pac.payments.patron_id',
          'the ILS charged Ada after her purge: the desk reads her id there until the next run');
CALL pals_privacy.purge_expired(dry_run => true) \gset
SELECT is(:'result'::jsonb ->> 'accounts', '2', 'a dry run counts the rows of patrons purged before');
SELECT is(pg_temp.find_id(current_user, '90001'), 'pac.charges.patron_id pac.payments.patron_id', '... and leaves them');
UPDATE pac.receipts SET disputed = false WHERE patron_id = 90002;
CALL pals_privacy.purge_expired() \gset
SELECT is(format('%s %s', :'result'::jsonb -> 'purged', :'result'::jsonb -> 'accounts'), '1 2',
          'the next run: Bo purged, the two new rows of Ada cleared');
SELECT is(pg_temp.find_id('regress_pac_desk', '90001') || '|' || pg_temp.find_id('regress_pac_desk', '90002'), '|',
          'the desk finds neither Ada''s id nor Bo''s');
SELECT is((SELECT count(*) FROM pac.charges WHERE amount = 4.00 AND patron_id = 0) || '/' || (SELECT count(*) FROM pac.charge_audit WHERE patron_id = 90001),
          '1/0', 'Ada''s new charge: re-pointed, and its audit row deleted');
CALL pals_privacy.purge_expired() \gset
SELECT is(:'result'::jsonb, '{"errors": [], "purged": 0, "dry_run": false, "skipped": {"error": 0, "locked": 0, "balance": 0, "open_loan": 0}, "eligible": 0}'::jsonb,
          'a run with nothing to do: no one purged again, no accounts key');

------------------------------------------------------------------------------
-- A purge function that hard-deletes: the foreign keys' actions stand
------------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION pac.forget(p bigint) RETURNS void LANGUAGE sql AS $$
    DELETE FROM pac.patrons WHERE id = p;
$$;
UPDATE pac.patrons SET expires = current_date - 200 WHERE id = 90005;
CALL pals_privacy.purge_expired() \gset
SELECT is(:'result'::jsonb -> 'purged', '1', 'Ed is purged by a hard delete');
SELECT is((SELECT count(*) FROM pac.charges WHERE patron_id = 0) || '/' || (SELECT count(*) FROM pac.payments WHERE patron_id IS NULL)
          || '/' || (SELECT count(*) FROM pac.receipts WHERE patron_id = 90005),
          '4/4/0', 'the foreign keys'' actions stand: Ed''s charge and receipt deleted by the cascade (none re-pointed), his payment NULL');
SELECT is(pg_temp.find_id('regress_pac_desk', '90005'), '', 'the desk finds Ed''s id nowhere');

------------------------------------------------------------------------------
-- binding_problems: a purge_with the purge can no longer apply
------------------------------------------------------------------------------
BEGIN;
DELETE FROM pac.payments WHERE patron_id IS NULL;
ALTER TABLE pac.payments ALTER patron_id SET NOT NULL;
DELETE FROM pac.receipts WHERE patron_id = 9;
DELETE FROM pac.patrons WHERE id = 9;
SELECT is((SELECT string_agg(format('%s: %s', relation, problem), '; ' ORDER BY relation::text) FROM pals_privacy.binding_problems()),
          'pac.payments: purge_with ''null'', and column "patron_id" is NOT NULL now; pac.receipts: placeholder patron 9 of purge_with no longer exists',
          'binding_problems: NULL into a column NOT NULL now, a placeholder that is gone');
ROLLBACK;

\i test/purge/done.sql
SELECT pals_privacy.unclassify_role('regress_pac_desk');
DROP ROLE regress_pac_desk;

SELECT * FROM finish();
