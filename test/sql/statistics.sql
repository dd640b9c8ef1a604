-- Statistics without identity (issue 19, item 2): records written at sever
-- time with a keyed pseudonym (HMAC-SHA256 under the period's key, checked
-- here against pgcrypto's hmac()), age bracket, home library, item and a
-- coarsened date; the same patron's pseudonym links within a period and
-- differs across periods; an ended period's key is destroyed; the key is
-- unreadable to every class; the statistics class reads the records and no
-- row of any bound relation; export_statistics() suppresses groups under
-- pals_privacy.min_group_size patrons, with complementary suppression.
-- Everything is rolled back.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pals_privacy;

BEGIN;
SELECT plan(59);
CREATE EXTENSION pgcrypto;
CREATE TEMP TABLE st_mark AS SELECT coalesce(max(id), 0) AS id FROM pals_privacy.audit_log;

CREATE ROLE regress_st_stats;
CREATE ROLE regress_st_ils;
CREATE ROLE regress_st_staff;
CREATE ROLE regress_st_opac;
CREATE ROLE regress_st_coll;
CREATE ROLE regress_st_aud;

CREATE SCHEMA st;
GRANT USAGE ON SCHEMA st TO PUBLIC;
CREATE TABLE st.patrons (id bigint PRIMARY KEY, name text NOT NULL, card text NOT NULL, birth date,
                         library text NOT NULL, expires date NOT NULL DEFAULT 'infinity');
-- ages when the loans close (now): P1 about 30, P2 about 15, P3 unknown
INSERT INTO st.patrons VALUES (1, 'Una Stat', 'ST-1', current_date - interval '30 years 2 months', 'ALD'),
                              (2, 'Vic Stat', 'ST-2', current_date - interval '15 years 2 months', 'BRK'),
                              (3, 'Wim Stat', 'ST-3', NULL, 'ALD');
CREATE TABLE st.loans (id int PRIMARY KEY, patron_id bigint, item_id int NOT NULL, returned timestamptz, paid timestamptz);
CREATE TABLE st.titles (id int PRIMARY KEY, title text NOT NULL);     -- the catalogue: not bound
INSERT INTO st.titles VALUES (1, 'A Book');
GRANT SELECT ON ALL TABLES IN SCHEMA st TO PUBLIC;

SELECT throws_ok($$SELECT pals_privacy.collect_statistics('st.loans')$$, '42704', NULL,
                 'collect_statistics: only a loan binding');
DO $$ BEGIN
    PERFORM pals_privacy.bind_patrons('st.patrons', 'id', 'expires', card_column => 'card',
                                      library_column => 'library', birth_date_column => 'birth');
    PERFORM pals_privacy.bind_loans('st.loans', 'patron_id', 'item_id', ARRAY['returned'], 'paid');
    PERFORM pals_privacy.classify_role('regress_st_stats', 'statistics');
    PERFORM pals_privacy.classify_role('regress_st_ils', 'operational');
    PERFORM pals_privacy.classify_role('regress_st_staff', 'staff');
    PERFORM pals_privacy.classify_role('regress_st_opac', 'patron');
    PERFORM pals_privacy.classify_role('regress_st_coll', 'collections');
    PERFORM pals_privacy.classify_role('regress_st_aud', 'auditor');
END $$;
SELECT is(pals_privacy.class_of('regress_st_stats'), 'statistics', 'a role of class statistics');
SELECT throws_ok($$SELECT pals_privacy.collect_statistics('st.loans', 'fortnight')$$, '22023', NULL,
                 'collect_statistics: an unknown granularity');
SET ROLE regress_st_staff;
SELECT throws_ok($$SELECT pals_privacy.collect_statistics('st.loans')$$, '42501', NULL,
                 'collect_statistics: administrators only');
RESET ROLE;
SELECT lives_ok($$SELECT pals_privacy.collect_statistics('st.loans', 'month')$$, 'collect_statistics on st.loans');
SELECT is(current_setting('pals_privacy.pseudonym_period'), 'year', 'pseudonym_period defaults to a year');
SELECT is(current_setting('pals_privacy.min_group_size'), '5', 'min_group_size defaults to 5');
SELECT throws_ok($$SET pals_privacy.min_group_size = 1$$, '22023', NULL, 'min_group_size: at least 2');
SET ROLE regress_st_stats;
SELECT throws_ok($$SET pals_privacy.min_group_size = 2$$, '42501', NULL, 'min_group_size: not for the statistics class to lower');
SELECT throws_ok($$SET pals_privacy.pseudonym_period = 'day'$$, '42501', NULL, 'pseudonym_period: superuser only');
RESET ROLE;

-- Item 10: P1 returns it, then P2 (P1's row is severed: one record), then P1
-- again (P2's row severed).  Item 11: P1 returns, P3 returns (P1 severed).
INSERT INTO st.loans VALUES (1, 1, 10, NULL, NULL);
UPDATE st.loans SET returned = now() - interval '40 days', paid = now() - interval '40 days' WHERE id = 1;
INSERT INTO st.loans VALUES (2, 2, 10, NULL, NULL);
UPDATE st.loans SET returned = now() - interval '3 days', paid = now() - interval '3 days' WHERE id = 2;
INSERT INTO st.loans VALUES (3, 1, 10, NULL, NULL);
UPDATE st.loans SET returned = now(), paid = now() WHERE id = 3;
INSERT INTO st.loans VALUES (4, 1, 11, NULL, NULL);
UPDATE st.loans SET returned = now() - interval '1 day', paid = now() - interval '1 day' WHERE id = 4;
INSERT INTO st.loans VALUES (5, 3, 11, NULL, NULL);
UPDATE st.loans SET returned = now(), paid = now() WHERE id = 5;
SELECT is((SELECT string_agg(id || ':' || coalesce(patron_id::text, '-'), ' ' ORDER BY id) FROM st.loans),
          '1:- 2:- 3:1 4:- 5:3', 'three rows severed');

CREATE TEMP TABLE st_rec AS SELECT * FROM pals_privacy.pseudonymous_loans WHERE relation = 'st.loans'::regclass;
SELECT is((SELECT count(*) FROM st_rec), 3::bigint, 'one record per severed row');
SELECT is((SELECT string_agg(concat_ws(',', item, age_bracket, library, closed_on), ' | ' ORDER BY item, closed_on) FROM st_rec),
          concat_ws(' | ',
              concat_ws(',', 10, '25-44', 'ALD', date_trunc('month', now() - interval '40 days', 'UTC')::date),
              concat_ws(',', 10, '13-17', 'BRK', date_trunc('month', now() - interval '3 days', 'UTC')::date),
              concat_ws(',', 11, '25-44', 'ALD', date_trunc('month', now() - interval '1 day', 'UTC')::date)),
          'item, age bracket at the loan''s close, home library, closed date by month');
SELECT is((SELECT count(DISTINCT pseudonym) FROM st_rec), 2::bigint, 'two patrons, two pseudonyms');
SELECT is((SELECT count(DISTINCT pseudonym) FROM st_rec WHERE library = 'ALD'), 1::bigint,
          'P1''s two loans in one period: one pseudonym (they link)');
SELECT is((SELECT pseudonym FROM st_rec WHERE library = 'ALD' LIMIT 1),
          (SELECT encode(hmac('1', key, 'sha256'), 'hex') FROM pals_privacy.pseudonym_keys WHERE key IS NOT NULL),
          'the pseudonym is HMAC-SHA256 of the patron id under the period''s key');
SELECT isnt((SELECT pseudonym FROM st_rec WHERE library = 'ALD' LIMIT 1), encode(sha256('1'), 'hex'),
            'not a plain hash of the patron id');
SELECT is((SELECT count(*) FROM pals_privacy.pseudonym_keys WHERE key IS NOT NULL), 1::bigint, 'one live key');
SELECT is((SELECT length(key) FROM pals_privacy.pseudonym_keys WHERE key IS NOT NULL), 32, 'of 32 bytes');
SELECT ok((SELECT period_start <= now() AND clock_timestamp() < period_end AND period_end <= now() + interval '1 year'
             FROM pals_privacy.pseudonym_keys WHERE key IS NOT NULL), 'the key''s period holds now and lasts at most a year');
SELECT is((SELECT count(*) FROM st_rec r WHERE r::text ~ '(Una|Vic|Wim) Stat|ST-[0-9]'), 0::bigint, 'no name or card in a record');

-- A new period: the same patron gets another pseudonym; the old key is gone.
CREATE TEMP TABLE st_old_key AS SELECT period_start, key FROM pals_privacy.pseudonym_keys WHERE key IS NOT NULL;
SELECT lives_ok($$SELECT pals_privacy.rotate_pseudonym_key()$$, 'rotate_pseudonym_key() ends the period');
SELECT is((SELECT count(*) FROM pals_privacy.pseudonym_keys WHERE key IS NOT NULL), 0::bigint, 'its key is destroyed at once');
SELECT ok((SELECT destroyed_at IS NOT NULL FROM pals_privacy.pseudonym_keys k JOIN st_old_key o USING (period_start)),
          'and marked destroyed');
INSERT INTO st.loans VALUES (6, 1, 11, NULL, NULL);
UPDATE st.loans SET returned = now(), paid = now() WHERE id = 6;     -- severs P3's row
INSERT INTO st.loans VALUES (7, 3, 10, NULL, NULL);
UPDATE st.loans SET returned = now(), paid = now() WHERE id = 7;     -- severs P1's row 3
SELECT is((SELECT count(*) FROM pals_privacy.pseudonymous_loans WHERE relation = 'st.loans'::regclass), 5::bigint,
          'two more records');
SELECT is((SELECT count(DISTINCT period) FROM pals_privacy.pseudonymous_loans WHERE relation = 'st.loans'::regclass), 2::bigint,
          'in two periods');
SELECT isnt((SELECT pseudonym FROM pals_privacy.pseudonymous_loans WHERE relation = 'st.loans'::regclass AND library = 'ALD'
              AND age_bracket = '25-44' AND period > (SELECT period_start FROM st_old_key)),
            (SELECT pseudonym FROM st_rec WHERE library = 'ALD' LIMIT 1),
            'the same patron''s pseudonyms of two periods differ');
SELECT is((SELECT pseudonym FROM pals_privacy.pseudonymous_loans WHERE relation = 'st.loans'::regclass AND library = 'ALD'
            AND age_bracket = '25-44' AND period > (SELECT period_start FROM st_old_key)),
          (SELECT encode(hmac('1', key, 'sha256'), 'hex') FROM pals_privacy.pseudonym_keys WHERE key IS NOT NULL),
          'the new one is under the new key');
SELECT is((SELECT count(*) FROM pals_privacy.pseudonym_keys), 2::bigint, 'two periods, one live key');
SELECT is((SELECT string_agg(event || ':' || coalesce((SELECT string_agg(k, ',' ORDER BY k) FROM jsonb_object_keys(details) k), ''), ', ' ORDER BY id)
             FROM pals_privacy.audit_log WHERE id > (SELECT id FROM st_mark) AND event LIKE 'pseudonym_key.%'),
          'pseudonym_key.create:period_end,period_start, pseudonym_key.rotate:, pseudonym_key.create:period_end,period_start',
          'key events are audited, with their periods only');

------------------------------------------------------------------------------
-- The key is unreadable to every class; records only to the statistics class
------------------------------------------------------------------------------
CREATE FUNCTION pg_temp.key_read_as(r text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE got text := '';
BEGIN
    EXECUTE format('SET LOCAL ROLE %I', r);
    BEGIN
        PERFORM key FROM pals_privacy.pseudonym_keys;
        got := got || 'table;';
    EXCEPTION WHEN insufficient_privilege THEN NULL;
    END;
    BEGIN
        PERFORM pals_privacy._current_pseudonym_key();
        got := got || 'function;';
    EXCEPTION WHEN insufficient_privilege THEN NULL;
    END;
    BEGIN
        PERFORM * FROM pals_privacy.pseudonymous_loans;
        got := got || 'records;';
    EXCEPTION WHEN insufficient_privilege THEN NULL;
    END;
    RESET ROLE;
    RETURN got;
END $$;
SELECT is(pg_temp.key_read_as(r), '', format('%s (%s): no key, no key function, no raw records', r, pals_privacy.class_of(r::regrole)))
  FROM unnest(ARRAY['regress_st_ils', 'regress_st_staff', 'regress_st_opac', 'regress_st_coll', 'regress_st_aud',
                    'regress_st_stats']) r;

SET ROLE regress_st_stats;
SELECT is((SELECT count(*) FROM pals_privacy.loan_statistics WHERE relation = 'st.loans'::regclass), 5::bigint,
          'the statistics class reads the records');
SELECT is((SELECT count(*) FROM st.loans) + (SELECT count(*) FROM st.patrons), 0::bigint,
          'and no row of a bound relation');
SELECT is((SELECT count(*) FROM st.titles), 1::bigint, 'but the catalogue');
RESET ROLE;
SET ROLE regress_st_staff;
SELECT is((SELECT count(*) FROM pals_privacy.loan_statistics), 0::bigint, 'staff read no record');
SELECT throws_ok($$SELECT * FROM pals_privacy.export_statistics()$$, '42501', 'permission denied for export_statistics',
                 'staff may not export');
RESET ROLE;
SET ROLE regress_st_aud;
SELECT is((SELECT count(*) FROM pals_privacy.loan_statistics), 0::bigint, 'auditors read no record');
RESET ROLE;

------------------------------------------------------------------------------
-- Export with k-anonymity (k = 5): a period of synthetic records
--   18-24/ALD 6 patrons, 18-24/BRK 1, 25-44/ALD 7, 25-44/BRK 5
------------------------------------------------------------------------------
INSERT INTO pals_privacy.pseudonymous_loans (relation, period, pseudonym, age_bracket, library, item, closed_on)
SELECT 'st.loans', '2020-01-01', g.age || g.lib || n, g.age, g.lib, '1', '2020-03-01'
  FROM (VALUES ('18-24', 'ALD', 6), ('18-24', 'BRK', 1), ('25-44', 'ALD', 7), ('25-44', 'BRK', 5)) g(age, lib, k),
       generate_series(1, g.k) n, generate_series(1, 2) twice;     -- two loans each
CREATE FUNCTION pg_temp.export() RETURNS text LANGUAGE sql AS $$
    SELECT string_agg(concat_ws('/', coalesce(age_bracket, '*'), coalesce(library, '*'),
                                coalesce(loans::text, '-'), coalesce(patrons::text, '-')), ' ' ORDER BY n)
      FROM pals_privacy.export_statistics('2020-01-01', '2020-01-01') WITH ORDINALITY x(p, age_bracket, library, loans, patrons, s, n)
$$;
SET ROLE regress_st_stats;
SELECT is(pg_temp.export(),
          '*/*/38/19 */ALD/26/13 */BRK/12/6 18-24/*/14/7 25-44/*/24/12 18-24/ALD/-/- 18-24/BRK/-/- 25-44/ALD/-/- 25-44/BRK/-/-',
          'the group of 1 is suppressed, and its row and column partners with it (no subtraction recovers it)');
RESET ROLE;
SET LOCAL pals_privacy.min_group_size = 2;
SET ROLE regress_st_stats;
SELECT is(pg_temp.export(),
          '*/*/38/19 */ALD/26/13 */BRK/12/6 18-24/*/14/7 25-44/*/24/12 18-24/ALD/-/- 18-24/BRK/-/- 25-44/ALD/-/- 25-44/BRK/-/-',
          'k = 2: the same (the single patron still needs hiding)');
RESET ROLE;
SET LOCAL pals_privacy.min_group_size = 8;
SET ROLE regress_st_stats;
SELECT is(pg_temp.export(),
          '*/*/38/19 */ALD/-/- */BRK/-/- 18-24/*/-/- 25-44/*/-/- 18-24/ALD/-/- 18-24/BRK/-/- 25-44/ALD/-/- 25-44/BRK/-/-',
          'k = 8: margins under k suppressed, and their partners (the total is published)');
SELECT is((SELECT count(*) FROM pals_privacy.export_statistics('2020-01-01', '2020-01-01') WHERE NOT suppressed AND patrons < 8),
          0::bigint, 'no published group under k');
RESET ROLE;
SET LOCAL pals_privacy.min_group_size = 1000;
SET ROLE regress_st_stats;
SELECT is((SELECT count(*) FROM pals_privacy.export_statistics() WHERE NOT suppressed), 0::bigint,
          'k larger than everything: nothing published');
RESET ROLE;
RESET pals_privacy.min_group_size;

-- The compliance report watches for keys of ended periods.
CREATE FUNCTION pg_temp.ended_keys() RETURNS text LANGUAGE sql AS $$
    SELECT value || '/' || ok FROM pals_privacy.compliance_report()
     WHERE section = 'statistics' AND measure = 'ended_keys_not_destroyed'
$$;
SELECT is(pg_temp.ended_keys(), '0/true', 'report: no key of an ended period left');
UPDATE pals_privacy.pseudonym_keys SET period_end = clock_timestamp() WHERE key IS NOT NULL;    -- the period ends
SELECT is(pg_temp.ended_keys(), '1/false', 'report: an ended period''s key still there fails the check');
INSERT INTO st.loans VALUES (9, 2, 11, NULL, NULL);
UPDATE st.loans SET returned = now(), paid = now() WHERE id = 9;     -- severs P1's row 6: a record
SELECT is(pg_temp.ended_keys(), '0/true', 'the next record destroyed it');
SELECT is((SELECT count(*) FROM pals_privacy.pseudonym_keys WHERE key IS NOT NULL), 1::bigint, 'and made a new key');

-- A record that cannot be written never keeps a patron: the row is severed
-- all the same, with a WARNING that names the SQLSTATE, not the patron.
ALTER EXTENSION pals_privacy DROP FUNCTION pals_privacy._age_bracket(date, timestamptz);
DROP FUNCTION pals_privacy._age_bracket(date, timestamptz);
INSERT INTO st.loans VALUES (10, 3, 11, NULL, NULL);
UPDATE st.loans SET returned = now(), paid = now() WHERE id = 10;    -- severs P2's row 9: its record fails
SELECT is((SELECT patron_id FROM st.loans WHERE id = 9), NULL, 'a failed record does not stop the sever');
SELECT is((SELECT count(*) FROM pals_privacy.pseudonymous_loans WHERE relation = 'st.loans'::regclass AND period > '2021-01-01'),
          6::bigint, 'and no record was written');

-- stop_statistics: a sever writes no record any more
SELECT lives_ok($$SELECT pals_privacy.stop_statistics('st.loans')$$, 'stop_statistics');
INSERT INTO st.loans VALUES (8, 2, 10, NULL, NULL);
UPDATE st.loans SET returned = now(), paid = now() WHERE id = 8;     -- severs P3's row 7
SELECT is((SELECT patron_id FROM st.loans WHERE id = 7), NULL, 'the row is severed');
SELECT is((SELECT count(*) FROM pals_privacy.pseudonymous_loans WHERE relation = 'st.loans'::regclass AND period > '2021-01-01'),
          6::bigint, 'without a record');
-- unbind takes the option with it: binding the loans again does not resume records
SELECT lives_ok($$SELECT pals_privacy.collect_statistics('st.loans', 'week')$$, 'statistics on again');
SELECT lives_ok($$SELECT pals_privacy.unbind('st.loans')$$, 'unbind the loans');
SELECT is((SELECT count(*) FROM pals_privacy.statistics_binding WHERE relation = 'st.loans'::regclass), 0::bigint,
          'the statistics option went with the binding');

SELECT * FROM finish();
ROLLBACK;
