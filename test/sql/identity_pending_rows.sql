-- A loan row whose sever a trigger of the ILS skips (issue 14, residual 5):
-- the return goes through, the row is recorded in sever_pending and the
-- client that returned is told with a WARNING (09000), as it is for the rows
-- of a derived copy; the maintenance retry (_retry_pending) tries the row
-- again in place, counting its attempts and keeping when it was first seen,
-- without a warning of its own (its result counts the rows), until the ILS
-- lets go.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pals_privacy;
\set VERBOSITY default

BEGIN;
SELECT plan(12);

CREATE SCHEMA ipr;
CREATE TABLE ipr.patrons (id bigint PRIMARY KEY, expires date NOT NULL DEFAULT 'infinity');
INSERT INTO ipr.patrons (id) SELECT generate_series(0, 9);
-- loans severed to NULL; the ILS keeps renewed rows (a BEFORE UPDATE trigger returning NULL)
CREATE TABLE ipr.loans (id int PRIMARY KEY, patron_id bigint REFERENCES ipr.patrons, item_id int NOT NULL,
                        returned date, renewed boolean NOT NULL DEFAULT false);
CREATE INDEX ON ipr.loans (item_id);
CREATE INDEX ON ipr.loans (patron_id);
CREATE FUNCTION ipr.keep_renewed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.renewed AND NEW.patron_id IS NULL THEN
        RETURN NULL;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER keep_renewed BEFORE UPDATE ON ipr.loans FOR EACH ROW EXECUTE FUNCTION ipr.keep_renewed();
-- holds deleted when severed; the ILS keeps some from deletion
CREATE TABLE ipr.holds (id int PRIMARY KEY, patron_id bigint NOT NULL REFERENCES ipr.patrons, title_id int NOT NULL,
                        done date, disputed boolean NOT NULL DEFAULT false);
CREATE FUNCTION ipr.keep_disputed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.disputed THEN
        RETURN NULL;
    END IF;
    RETURN OLD;
END $$;
CREATE TRIGGER keep_disputed BEFORE DELETE ON ipr.holds FOR EACH ROW EXECUTE FUNCTION ipr.keep_disputed();
SELECT pals_privacy.bind_patrons('ipr.patrons', 'id', 'expires');
SELECT pals_privacy.bind_loans('ipr.loans', 'patron_id', 'item_id', '{returned}');
SELECT pals_privacy.bind_loans('ipr.holds', 'patron_id', 'title_id', '{done}', sever_with => 'delete',
                               keep_last_borrower => false);
CREATE FUNCTION pg_temp.pending() RETURNS text LANGUAGE sql AS $$
    SELECT coalesce(string_agg(format('%s/%s:%s', p.binding::regclass, p.item, p.attempts), ' ' ORDER BY p.binding::regclass::text, p.item), '')
      FROM pals_privacy.sever_pending p
$$;

-- item 10: loan 1 (patron 1, renewed), then loan 2 (patron 2) returned: loan 1 is to be severed
INSERT INTO ipr.loans VALUES (1, 1, 10, NULL, true), (2, 2, 10, NULL, false);
UPDATE ipr.loans SET returned = '2024-01-10' WHERE id = 1;
-- the return of loan 2: the ILS keeps loan 1; the return goes through, with a warning
UPDATE ipr.loans SET returned = '2024-02-10' WHERE id = 2;
SELECT is((SELECT returned FROM ipr.loans WHERE id = 2), date '2024-02-10', 'the return went through');
SELECT is((SELECT patron_id FROM ipr.loans WHERE id = 1), 1::bigint, 'the row the ILS kept still has its patron');
SELECT is(pg_temp.pending(), 'ipr.loans/10:1', 'it is recorded as a pending sever, first attempt');
-- a hold closed and kept from deletion (keep_last_borrower => false: severed at once)
INSERT INTO ipr.holds VALUES (1, 3, 20, NULL, true), (2, 4, 21, NULL, false);
UPDATE ipr.holds SET done = '2024-03-01' WHERE id IN (1, 2);
SELECT is((SELECT string_agg(id::text, ',' ORDER BY id) FROM ipr.holds), '1', 'the hold the ILS did not keep is deleted');
SELECT is(pg_temp.pending(), 'ipr.holds/20:1 ipr.loans/10:1', '... the kept one is pending, with a warning ''delete''');

-- the maintenance retry: in place, counted, no warning
CREATE TEMP TABLE first AS SELECT binding, row_tid, first_seen FROM pals_privacy.sever_pending;
SELECT is(pals_privacy._retry_pending(), '{"retried": 2, "resolved": 0, "still_pending": 2}'::jsonb,
          'retry: both rows are still kept');
SELECT is(pals_privacy._retry_pending() ->> 'still_pending', '2', 'retry: ... and again');
SELECT is(pg_temp.pending(), 'ipr.holds/20:3 ipr.loans/10:3', 'retry: the attempts are counted (1 + 2 retries)');
SELECT is((SELECT count(*) FROM pals_privacy.sever_pending p JOIN first f USING (binding, row_tid)
            WHERE p.first_seen = f.first_seen), 2::bigint, 'retry: when each row was first seen is kept');

-- the ILS lets go
UPDATE ipr.loans SET renewed = false WHERE id = 1;
UPDATE ipr.holds SET disputed = false WHERE id = 1;
SELECT is(pals_privacy._retry_pending(), '{"retried": 2, "resolved": 2, "still_pending": 0}'::jsonb,
          'retry: both are severed once the ILS lets go');
SELECT is(pg_temp.pending(), '', 'retry: the pending list is empty');
SELECT is((SELECT patron_id FROM ipr.loans WHERE id = 1) IS NULL AND NOT EXISTS (SELECT FROM ipr.holds), true,
          'retry: the loan lost its patron, the hold is deleted');

SELECT * FROM finish();
ROLLBACK;
