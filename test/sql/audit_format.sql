-- The content an audit hash covers (issue 18): one definition (C,
-- entry_content() in src/audit.c) for the appenders and verify_audit(),
-- versioned by audit_log.content_format.  Format 1 (0.1.0) joined the
-- fields with a bare '|', so a '|' moved from one field into the next kept
-- the hash; format 2 writes each field with its length.  Checked here:
--   - the ambiguity: two different entries with the same format-1 content
--     have different format-2 contents, and that edit is detected in the
--     live chain;
--   - the exact format-2 text, as docs/audit.md states it (bytes, not
--     characters), and every entry's hash recomputed from the documented
--     forms with nothing but sha256() (what an auditor does outside the
--     database);
--   - a mixed chain (format-1 entries, then format-2 ones written by the
--     extension) verifies, and an edited, deleted or inserted entry of
--     either format, a changed format, or a format-1 entry after a
--     format-2 one is found.
-- Everything is rolled back.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pals_privacy;
BEGIN;
SELECT plan(25);

-- An entry as a row of audit_log, built by hand (never stored).
CREATE FUNCTION pg_temp.entry(fmt smallint, role text, class text, event text, details jsonb)
RETURNS pals_privacy.audit_log LANGUAGE sql AS $$
    SELECT ROW(1, timestamptz '2026-12-04 12:00:00.123456+00', role, class, event, details, NULL, '\x00', fmt)::pals_privacy.audit_log
$$;

------------------------------------------------------------------------------
-- The ambiguity of format 1, gone in format 2
------------------------------------------------------------------------------
-- role "clerk|staff" of class staff, against role "clerk" of class "staff|staff"
SELECT is(pals_privacy._audit_content(pg_temp.entry(1::smallint, 'clerk|staff', 'staff', 'policy.acknowledge', '{"version": "1"}')),
          pals_privacy._audit_content(pg_temp.entry(1::smallint, 'clerk', 'staff|staff', 'policy.acknowledge', '{"version": "1"}')),
          'format 1: two different entries (a | moved from role to class) have the same content, so the same hash');
SELECT isnt(pals_privacy._audit_content(pg_temp.entry(2::smallint, 'clerk|staff', 'staff', 'policy.acknowledge', '{"version": "1"}')),
            pals_privacy._audit_content(pg_temp.entry(2::smallint, 'clerk', 'staff|staff', 'policy.acknowledge', '{"version": "1"}')),
            'format 2: the same two entries have different contents');
SELECT isnt(pals_privacy._audit_content(pg_temp.entry(2::smallint, 'clerk', 'staff', 'x|y', NULL)),
            pals_privacy._audit_content(pg_temp.entry(2::smallint, 'clerk', 'staff|x', 'y', NULL)),
            'format 2: a | moved from event to class changes the content');
SELECT isnt(pals_privacy._audit_content(pg_temp.entry(2::smallint, 'clerk', 'staff', 'e', NULL)),
            pals_privacy._audit_content(pg_temp.entry(2::smallint, 'clerk', 'staff', 'e', 'null')),
            'format 2: NULL details and a JSON null differ');
SELECT is(pals_privacy._audit_content(pg_temp.entry(2::smallint, 'clerk|staff', 'staff', 'policy.acknowledge', '{"version": "1"}')),
          '1:2,1:1,16:1796385600123456,11:clerk|staff,5:staff,18:policy.acknowledge,16:{"version": "1"},',
          'format 2 is the documented text: netstrings of the format, id, microseconds since 1970, role, class, event, details');
SELECT is(pals_privacy._audit_content(pg_temp.entry(2::smallint, 'bibliothécaire', 'staff', 'e', NULL)),
          '1:2,1:1,16:1796385600123456,15:bibliothécaire,5:staff,1:e,0:,',
          'format 2: lengths count bytes (é is two), NULL details are empty');
SELECT is(pals_privacy._audit_content(pg_temp.entry(1::smallint, 'clerk', 'staff', 'e', NULL)),
          '1|1796385600123456|clerk|staff|e|',
          'format 1 is kept as 0.1.0 wrote it');
SELECT throws_ok($$SELECT pals_privacy._audit_content(pg_temp.entry(3::smallint, 'clerk', 'staff', 'e', NULL))$$,
                 'XX001', NULL, 'a format that does not exist is an error');

------------------------------------------------------------------------------
-- The same ambiguity as an attack on the live chain
------------------------------------------------------------------------------
CREATE ROLE "regress_af|clerk";
SELECT pals_privacy.classify_role('"regress_af|clerk"', 'staff');
SET SESSION AUTHORIZATION "regress_af|clerk";
SELECT pals_privacy.acknowledge_policy('2026');
RESET SESSION AUTHORIZATION;
SELECT max(id) AS ack_id FROM pals_privacy.audit_log WHERE event = 'policy.acknowledge' \gset
SELECT is((SELECT role || ' ' || class || ' ' || content_format FROM pals_privacy.audit_log WHERE id = :ack_id),
          'regress_af|clerk staff 2', 'the entry names the role with a | and is written in format 2');
SELECT is(pals_privacy.verify_audit(), NULL, 'the chain verifies');
SAVEPOINT moved;
UPDATE pals_privacy.audit_log SET role = 'regress_af', class = 'clerk|staff' WHERE id = :ack_id;
SELECT is((SELECT pals_privacy._audit_content(ROW(e.id, e.at, e.role, e.class, e.event, e.details, e.prev_hash, e.hash, 1)::pals_privacy.audit_log)
             FROM pals_privacy.audit_log e WHERE id = :ack_id),
          (SELECT format('%s|%s|%s|%s|%s|%s', id, (extract(epoch FROM at) * 1000000)::bigint, 'regress_af|clerk', 'staff', event, details)
             FROM pals_privacy.audit_log WHERE id = :ack_id),
          'format 1 would not see the edit: the edited entry has the original''s format-1 content');
SELECT is(pals_privacy.verify_audit(), :ack_id::bigint, 'format 2 sees it: verify_audit() names the edited entry');
ROLLBACK TO moved;

------------------------------------------------------------------------------
-- A mixed chain, checked against the documented forms with sha256() alone
------------------------------------------------------------------------------
-- format 1 and 2 of an entry, written from docs/audit.md (not from the
-- extension's code)
CREATE FUNCTION pg_temp.ns(field text) RETURNS text LANGUAGE sql AS $$
    SELECT octet_length(field) || ':' || field || ','
$$;
CREATE FUNCTION pg_temp.documented(e pals_privacy.audit_log) RETURNS bytea LANGUAGE sql AS $$
    SELECT sha256(coalesce(e.prev_hash, '') || convert_to(CASE e.content_format
        WHEN 1 THEN concat_ws('|', e.id, (extract(epoch FROM e.at) * 1000000)::bigint, e.role, e.class, e.event,
                              coalesce(e.details::text, ''))
        WHEN 2 THEN pg_temp.ns('2') || pg_temp.ns(e.id::text) || pg_temp.ns(((extract(epoch FROM e.at) * 1000000)::bigint)::text)
                 || pg_temp.ns(e.role) || pg_temp.ns(e.class) || pg_temp.ns(e.event) || pg_temp.ns(coalesce(e.details::text, ''))
        END, 'UTF8'))
$$;
-- every entry's hash, and its link to the one before
CREATE FUNCTION pg_temp.mismatches() RETURNS text LANGUAGE sql AS $$
    SELECT coalesce(string_agg(id::text, ' ' ORDER BY id), 'none') FROM (
        SELECT e.id, e.hash, pg_temp.documented(e) AS recomputed, e.prev_hash, lag(e.hash) OVER (ORDER BY e.id) AS before
          FROM pals_privacy.audit_log e) s
     WHERE hash IS DISTINCT FROM recomputed OR (before IS NOT NULL AND prev_hash IS DISTINCT FROM before)
$$;
SELECT is(pg_temp.mismatches(), 'none', 'every entry of the log so far matches the documented form');

-- The log as a database upgraded from 0.1.0 has it: three format-1 entries
-- (hashed here by hand, as 0.1.0 did), then what the extension appends.
SELECT pals_privacy._audit_lock();
DELETE FROM pals_privacy.audit_log;
INSERT INTO pals_privacy.audit_log (id, at, role, class, event, details, prev_hash, hash, content_format)
VALUES (1, '2025-03-01 10:00+00', 'ils', 'operational', 'binding.insert', '{"table": "patron_binding"}', NULL, '\x', 1);
UPDATE pals_privacy.audit_log e SET hash = pg_temp.documented(e) WHERE id = 1;
INSERT INTO pals_privacy.audit_log (id, at, role, class, event, details, prev_hash, hash, content_format)
SELECT 2, '2025-03-02 10:00+00', 'clerk|x', 'staff', 'policy.acknowledge', '{"version": "2025"}', hash, '\x', 1
  FROM pals_privacy.audit_log WHERE id = 1;
UPDATE pals_privacy.audit_log e SET hash = pg_temp.documented(e) WHERE id = 2;
INSERT INTO pals_privacy.audit_log (id, at, role, class, event, details, prev_hash, hash, content_format)
SELECT 3, '2025-03-03 10:00+00', 'ils', 'operational', 'maintenance.purge', NULL, hash, '\x', 1
  FROM pals_privacy.audit_log WHERE id = 2;
UPDATE pals_privacy.audit_log e SET hash = pg_temp.documented(e) WHERE id = 3;
SELECT pals_privacy._audit('test.format', '{"n": 4}'), pals_privacy._audit('test.format', NULL),
       pals_privacy._audit('test.format', '{"n": 6, "why": "a|b"}');
SELECT is((SELECT string_agg(id || ':' || content_format, ' ' ORDER BY id) FROM pals_privacy.audit_log),
          '1:1 2:1 3:1 4:2 5:2 6:2', 'a mixed chain: format-1 entries, then the extension appends in format 2');
SELECT is(pals_privacy.verify_audit(), NULL, 'verify_audit() verifies the mixed chain');
SELECT is(pg_temp.mismatches(), 'none', 'and so does the documented form, outside the extension''s code');

SAVEPOINT tamper;
UPDATE pals_privacy.audit_log SET details = '{"table": "loan_binding"}' WHERE id = 1;
SELECT is(pals_privacy.verify_audit(), 1::bigint, 'mixed chain: an edited format-1 entry is found');
ROLLBACK TO tamper;
UPDATE pals_privacy.audit_log SET details = '{"n": 7}' WHERE id = 6;
SELECT is(pals_privacy.verify_audit(), 6::bigint, 'mixed chain: an edited format-2 entry is found');
ROLLBACK TO tamper;
DELETE FROM pals_privacy.audit_log WHERE id = 3;
SELECT is(pals_privacy.verify_audit(), 4::bigint, 'mixed chain: the last format-1 entry deleted, the first format-2 one is found');
ROLLBACK TO tamper;
UPDATE pals_privacy.audit_log SET content_format = 1 WHERE id = 5;
SELECT is(pals_privacy.verify_audit(), 5::bigint, 'mixed chain: a format-2 entry relabelled format 1 is found');
ROLLBACK TO tamper;
UPDATE pals_privacy.audit_log SET content_format = 2 WHERE id = 2;
SELECT is(pals_privacy.verify_audit(), 2::bigint, 'mixed chain: a format-1 entry relabelled format 2 is found');
ROLLBACK TO tamper;
-- a well-formed format-1 entry (right link, right format-1 hash) appended
-- after the format-2 ones: only the order of formats gives it away
INSERT INTO pals_privacy.audit_log (id, at, role, class, event, details, prev_hash, hash, content_format)
SELECT 7, now(), 'ils', 'operational', 'binding.delete', NULL, hash, '\x', 1 FROM pals_privacy.audit_log WHERE id = 6;
UPDATE pals_privacy.audit_log e SET hash = pg_temp.documented(e) WHERE id = 7;
SELECT is(pg_temp.mismatches(), 'none', 'set-up: the forged format-1 entry hashes and links right');
SELECT is(pals_privacy.verify_audit(), 7::bigint, 'mixed chain: a format-1 entry after format-2 ones is found');
ROLLBACK TO tamper;
-- entries moved up by one and a forged format-2 entry put between 3 and 4
UPDATE pals_privacy.audit_log SET id = -id WHERE id > 3;
UPDATE pals_privacy.audit_log SET id = -id + 1 WHERE id < 0;
INSERT INTO pals_privacy.audit_log (id, at, role, class, event, details, prev_hash, hash, content_format)
SELECT 4, now(), 'ils', 'operational', 'binding.delete', NULL, hash, '\x', 2 FROM pals_privacy.audit_log WHERE id = 3;
UPDATE pals_privacy.audit_log e SET hash = pg_temp.documented(e) WHERE id = 4;
SELECT is(pals_privacy.verify_audit(), 5::bigint, 'mixed chain: an entry inserted at the boundary is found (the one after it)');
ROLLBACK TO tamper;
SELECT is(pals_privacy.verify_audit(), NULL, 'undone: the mixed chain verifies again');

SELECT * FROM finish();
ROLLBACK;
