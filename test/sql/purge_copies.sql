-- Purge and derived copies without a patron column (issue 14, residual 6):
-- a notice keyed by the loan only, its rendered text naming the patron, or
-- a link table of fees keyed by the loan, is tied to the patron only
-- through the loan.  When the patron is purged, the copy rows keyed by that
-- patron's loans are severed by the copy's strategy (deleted, unlinked),
-- also where the source's severing trigger did not do it; rows a trigger
-- of the ILS keeps from it keep the patron from the purge (an error of the
-- run), until they are severed.  Like purge.sql, outside a transaction
-- (the procedure commits), cleaned up at the end.
\set pu_schema pcp
\i test/purge/fixture.sql
SELECT plan(12);

CREATE TABLE pcp.patrons (id bigint PRIMARY KEY, name text NOT NULL, expires date NOT NULL);
INSERT INTO pcp.patrons VALUES (1, 'Ada Expired', current_date - 200), (2, 'Bo Disputed', current_date - 200),
                               (3, 'Cy Current', 'infinity');
CREATE TABLE pcp.loans (id int PRIMARY KEY, patron_id bigint REFERENCES pcp.patrons, item_id int NOT NULL,
                        returned timestamptz);
CREATE INDEX ON pcp.loans (patron_id);
CREATE INDEX ON pcp.loans (item_id);
-- history from before binding: loan 1 is item 10's last borrower, loan 2 an earlier one
INSERT INTO pcp.loans VALUES (1, 1, 10, now() - interval '150 days'), (2, 1, 11, now() - interval '300 days'),
                             (3, 2, 12, now() - interval '150 days'), (4, 3, 13, now() - interval '150 days'),
                             (5, 3, 11, now() - interval '100 days');
-- notices keyed by the loan, no patron column; the ILS keeps a disputed one from deletion
CREATE TABLE pcp.notices (id serial PRIMARY KEY, loan_id int, disputed boolean NOT NULL DEFAULT false, rendered text NOT NULL);
CREATE INDEX ON pcp.notices (loan_id);
INSERT INTO pcp.notices (loan_id, disputed, rendered) VALUES
    (1, false, 'Dear Ada Expired, item 10 is overdue'), (2, false, 'Dear Ada Expired, item 11 is overdue'),
    (3, true, 'Dear Bo Disputed, item 12 is lost'), (4, false, 'Dear Cy Current, item 13 is overdue');
CREATE TRIGGER keep_disputed BEFORE DELETE ON pcp.notices FOR EACH ROW EXECUTE FUNCTION pcp.keep_disputed();
-- fees keyed by the loan, no patron column: unlinked
CREATE TABLE pcp.fees (id serial PRIMARY KEY, loan_id int, amount numeric NOT NULL);
INSERT INTO pcp.fees (loan_id, amount) VALUES (1, 1.50), (4, 2.50);
SELECT pals_privacy.bind_patrons('pcp.patrons', 'id', 'expires');
SELECT pals_privacy.bind_loans('pcp.loans', 'patron_id', 'item_id', '{returned}');
SELECT pals_privacy.bind_copy('pcp.notices', 'pcp.loans', 'loan_id', sever_with => 'delete');
SELECT pals_privacy.bind_copy('pcp.fees', 'pcp.loans', 'loan_id', sever_with => 'unlink');
-- the binding left loan 2's notice alone: loan 2 is still identified (no backlog yet)
SELECT is((SELECT string_agg(loan_id::text, ',' ORDER BY id) FROM pcp.notices), '1,2,3,4', 'before the purge: every notice is there');

-- 1. patron 1 is purged: the notices of their loans are deleted, their fees unlinked
CALL pals_privacy.purge_expired() \gset
SELECT is(:'result'::jsonb -> 'purged', '1', 'patron 1 is purged; patron 2 is not (below)');
SELECT is((SELECT string_agg(id::text, ',' ORDER BY id) FROM pcp.patrons), '2,3', '... patron 1''s row is gone');
SELECT is((SELECT count(*) FROM pcp.notices WHERE rendered LIKE '%Ada Expired%'), 0::bigint,
          'no notice of the purged patron''s loans is left');
SELECT is((SELECT string_agg(coalesce(loan_id::text, '-') || ':' || amount, ' ' ORDER BY id) FROM pcp.fees), '-:1.50 4:2.50',
          'the fee of the purged patron''s loan is unlinked; another patron''s stays linked');

-- 2. patron 2: the ILS keeps the notice of their loan: not purged, and the run says why
SELECT is((SELECT string_agg(id::text, ',' ORDER BY id) FROM pcp.patrons WHERE id = 2), '2', 'patron 2 is not purged');
SELECT is((SELECT count(*) FROM pcp.notices WHERE rendered LIKE '%Bo Disputed%'), 1::bigint, '... the notice the ILS keeps is there');
SELECT is((SELECT patron_id FROM pcp.loans WHERE id = 3), 2::bigint, '... and the purge of patron 2 was rolled back whole');
SELECT is((:'result'::jsonb -> 'errors') ->> 0,
          '09000: purge: # row of "pcp.notices" (a copy of "pcp.loans") kept their link to the patron''s loans after sever_with ''delete''',
          'the run reports it');

-- 3. the ILS lets go: the next purge takes patron 2 and the notice
UPDATE pcp.notices SET disputed = false;
CALL pals_privacy.purge_expired() \gset
SELECT is(:'result'::jsonb -> 'purged', '1', 'the next purge takes patron 2');
SELECT is((SELECT string_agg(loan_id::text, ',' ORDER BY id) FROM pcp.notices), '4', 'only the current patron''s notice is left');

\i test/purge/done.sql

SELECT * FROM finish();
