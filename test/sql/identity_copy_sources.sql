-- A derived copy with several sources (bind_copy(..., more_sources)): a
-- billable transaction is a circulation or a grocery bill, one id sequence,
-- and the ILS keeps one summary row per transaction id, with its patron.
-- The summary row is the copy of the one row, in either table, that holds
-- its id: bound to one table only, the sweep at binding would sever the
-- summaries of the other's transactions (the ILS's own data, lost).  A
-- source's sever severs the summary only when the other holds no identified
-- row with the id; reads fail closed while both hold it (a decoy).
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pals_privacy;

BEGIN;
SELECT plan(43);

CREATE SCHEMA ics;
CREATE TABLE ics.patrons (id bigint PRIMARY KEY, expires date NOT NULL DEFAULT 'infinity');
INSERT INTO ics.patrons (id) SELECT generate_series(0, 9);
CREATE SEQUENCE ics.xact_seq;
-- item 10: circ 1 (patron 1, done), then circ 2 (patron 2, done: the last borrower); circ 3 open
CREATE TABLE ics.circs (id int PRIMARY KEY, patron_id bigint REFERENCES ics.patrons, item_id int NOT NULL, done date);
INSERT INTO ics.circs VALUES (1, 1, 10, '2024-01-10'), (2, 2, 10, '2024-02-10'), (3, 3, 11, NULL);
-- grocery bills: 4 open (patron 4), 5 done (patron 5, the last of item 20)
CREATE TABLE ics.grocery (id int PRIMARY KEY, patron_id bigint REFERENCES ics.patrons, item_id int NOT NULL, done date);
INSERT INTO ics.grocery VALUES (4, 4, 20, NULL), (5, 5, 21, '2024-03-01');
CREATE TABLE ics.xact_sums (xact_id int PRIMARY KEY, patron_id bigint, last_billed date);
INSERT INTO ics.xact_sums VALUES (1, 1, '2024-01-10'), (2, 2, '2024-02-10'), (3, 3, NULL), (4, 4, NULL), (5, 5, '2024-03-01'),
                                 (6, 6, NULL);   -- a transaction neither table holds any more
CREATE FUNCTION pg_temp.sums() RETURNS text LANGUAGE sql AS $$
    SELECT string_agg(xact_id || ':' || coalesce(patron_id::text, '-'), ' ' ORDER BY xact_id) FROM ics.xact_sums
$$;
-- an error's SQLSTATE, message, detail and hint, one per line ('no error', the
-- call undone, when there is none)
CREATE FUNCTION pg_temp.error_of(call text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE st text; msg text; det text; hint text;
BEGIN
    EXECUTE call;
    RAISE EXCEPTION USING ERRCODE = 'PT999';
EXCEPTION WHEN SQLSTATE 'PT999' THEN
    RETURN 'no error';
WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL, hint = PG_EXCEPTION_HINT;
    RETURN concat_ws(E'\n', st || ': ' || msg, 'DETAIL: ' || det, 'HINT: ' || hint);
END $$;
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

SELECT pals_privacy.bind_patrons('ics.patrons', 'id', 'expires');
SELECT pals_privacy.bind_loans('ics.circs', 'patron_id', 'item_id', '{done}');
SELECT pals_privacy.bind_loans('ics.grocery', 'patron_id', 'item_id', '{done}');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_copy('ics.xact_sums', 'ics.circs', 'xact_id', 'patron_id', more_sources => '{ics.grocery,NULL}')$$,
    '22004', 'bind_copy: more_sources holds a NULL', 'a NULL among the sources is refused');
SELECT lives_ok($$SELECT pals_privacy.bind_copy('ics.xact_sums', 'ics.circs', 'xact_id', 'patron_id', more_sources => '{ics.grocery}')$$,
    'the summary bound with both sources in one call');
SELECT is((SELECT more_sources::text || ' ' || more_source_keys::text FROM pals_privacy.copy_binding WHERE relation = 'ics.xact_sums'::regclass),
          '{ics.grocery} {id}', 'the binding lists the other source and its key');
SELECT is(pg_temp.sums(), '1:1 2:2 3:3 4:4 5:5 6:-',
          'binding severs only the summary no source holds: the grocery bills'' summaries keep their patron');
SELECT is((SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'pals_privacy_copy_%' AND tgrelid IN ('ics.circs'::regclass, 'ics.grocery'::regclass)),
          6::bigint, 'severing triggers on both sources (update, delete, truncate)');
-- health() checks the severing triggers of every source
SAVEPOINT h;
DO $$ BEGIN EXECUTE format('DROP TRIGGER %I ON ics.grocery', 'pals_privacy_copy_' || 'ics.xact_sums'::regclass::oid || '_d'); END $$;
SELECT ok((SELECT detail FROM pals_privacy.health() WHERE check_name = 'protections in place') ~ 'trigger pals_privacy_copy_[0-9]+_d on ics.grocery is missing',
          'health(): a missing severing trigger of the second source is reported');
ROLLBACK TO SAVEPOINT h;
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_copy('ics.xact_sums', 'ics.grocery', 'xact_id', 'patron_id', 'delete')$$,
    '42710', 'bind_copy: "ics.xact_sums" is already bound as a copy of "ics.circs" with different settings',
    'another source with other settings is refused');
SELECT lives_ok($$SELECT pals_privacy.bind_copy('ics.xact_sums', 'ics.grocery', 'xact_id', 'patron_id')$$,
    'binding a source again with the same settings is a no-op');

-- staff: open transactions and each item's last borrower
CREATE ROLE ics_staff;
GRANT USAGE ON SCHEMA ics TO ics_staff;
GRANT SELECT, INSERT ON ALL TABLES IN SCHEMA ics TO ics_staff;
GRANT EXECUTE ON FUNCTION pg_temp.sums() TO ics_staff;
SELECT pals_privacy.classify_role('ics_staff', 'staff');
SET LOCAL ROLE ics_staff;
SELECT is(pg_temp.sums(), '1:- 2:2 3:3 4:4 5:5 6:-', 'staff: each summary as its own source row reads, in either table');
-- a decoy in the other table with the id of hidden circ 1, for a patron staff read
INSERT INTO ics.grocery VALUES (1, 7, 22, NULL);
SELECT is(pg_temp.sums(), '1:- 2:2 3:3 4:4 5:5 6:-', 'a decoy grocery bill with a hidden circulation''s id opens nothing');
-- and one with a visible id: two rows hold it, it reads as hidden
INSERT INTO ics.grocery VALUES (3, 7, 23, NULL);
SELECT is(pg_temp.sums(), '1:- 2:2 3:- 4:4 5:5 6:-', 'an id both tables hold reads as hidden, even where both rows are visible');
RESET ROLE;
DELETE FROM ics.grocery WHERE id IN (1, 3);

-- severing: grocery bill 4 moves to circs (inserted there first, then deleted): the summary stays
INSERT INTO ics.circs SELECT * FROM ics.grocery WHERE id = 4;
DELETE FROM ics.grocery WHERE id = 4;
SELECT is(pg_temp.sums(), '1:1 2:2 3:3 4:4 5:5 6:-', 'a move from one source to the other keeps the summary (the other holds it identified)');
-- deleted first, then inserted: the delete finds no identified row elsewhere and severs
DELETE FROM ics.circs WHERE id = 3;
SELECT is(pg_temp.sums(), '1:1 2:2 3:- 4:4 5:5 6:-', 'a row deleted before the other source holds it: its summary is severed');
-- a sever in one source while the other holds an identified row with the id: kept
INSERT INTO ics.grocery VALUES (9, 9, 29, NULL);
INSERT INTO ics.circs VALUES (9, 8, 30, NULL);
INSERT INTO ics.xact_sums VALUES (9, 9, NULL);
UPDATE ics.circs SET patron_id = NULL WHERE id = 9;
SELECT is((SELECT patron_id FROM ics.xact_sums WHERE xact_id = 9), 9::bigint,
          'a sever in one source leaves the summary the other holds identified');
UPDATE ics.grocery SET patron_id = NULL WHERE id = 9;
SELECT is((SELECT patron_id FROM ics.xact_sums WHERE xact_id = 9), NULL, '... and the last source''s sever severs it');
-- the sweep: a summary written for a transaction neither table holds (as a restore may leave it)
INSERT INTO ics.xact_sums VALUES (7, 7, NULL);
SELECT is(pals_privacy.sever_copies('ics.xact_sums'), 1::bigint, 'sever_copies: the one summary whose id no source holds identified');
SELECT is(pg_temp.sums(), '1:1 2:2 3:- 4:4 5:5 6:- 7:- 9:-', '(summary 7; the others, held identified in one table or the other, kept)');

SELECT pals_privacy.unbind_copy('ics.xact_sums');
SELECT is((SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'pals_privacy_copy_%' AND tgrelid IN ('ics.circs'::regclass, 'ics.grocery'::regclass)),
          0::bigint, 'unbind_copy removes the triggers of every source');

-- a source leaves a copy: unbind_copy(copy, source => ...), or a DROP of the
-- source (the sql_drop event trigger); never its only source
SELECT pals_privacy.bind_copy('ics.xact_sums', 'ics.circs', 'xact_id', 'patron_id', more_sources => '{ics.grocery}');
CREATE FUNCTION pg_temp.binding() RETURNS text LANGUAGE sql AS $$
    SELECT format('%s %s %s', source, coalesce(more_sources::text, '-'),
                  (SELECT string_agg(format('%s:%s', tgrelid::regclass, count), ',' ORDER BY tgrelid::regclass::text)
                     FROM (SELECT tgrelid, count(*) FROM pg_trigger WHERE tgname LIKE 'pals_privacy_copy_%' GROUP BY 1) t))
      FROM pals_privacy.copy_binding WHERE relation = 'ics.xact_sums'::regclass
$$;
SELECT is(pg_temp.binding(), 'ics.circs {ics.grocery} ics.circs:3,ics.grocery:3', 'bound again with both sources');
-- unbind() of a source a copy follows is refused, naming the copy and the
-- unbind_copy call that takes the source away from it (never a copy left
-- bound to a source nothing severs any more, its triggers still on the source)
SELECT is(pg_temp.error_of($$SELECT pals_privacy.unbind('ics.grocery')$$),
          E'2BP01: unbind: derived copies follow "ics.grocery"\n'
          'DETAIL: Bound as copies of it (bind_copy): ics.xact_sums.\n'
          'HINT: Unbind the copies first: SELECT pals_privacy.unbind_copy(''ics.xact_sums'', source => ''ics.grocery''). '
          'To bind "ics.grocery" again with other settings, unbind the copies, unbind and bind it, and bind the copies again in one transaction.',
          'unbind() of a source of a copy is refused, naming the copy and unbind_copy');
SELECT is(pg_temp.binding(), 'ics.circs {ics.grocery} ics.circs:3,ics.grocery:3', '... and nothing changed');
SAVEPOINT u;
SELECT pals_privacy.unbind_copy('ics.xact_sums', source => 'ics.grocery');
SELECT pals_privacy.unbind('ics.grocery');
SELECT pg_temp.binding() AS after_unbind, (SELECT count(*) FROM pals_privacy.binding_problems()) AS problems \gset
ROLLBACK TO SAVEPOINT u;
SELECT is(:'after_unbind'::text, 'ics.circs - ics.circs:3', 'as the hint says: unbind_copy(copy, source => ...), then unbind() of the source');
SELECT is(:'problems'::bigint, 0::bigint, '... leaves nothing for binding_problems()');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.unbind_copy('ics.xact_sums', source => 'ics.patrons')$$,
    '42704', 'unbind_copy: "ics.patrons" is not a source of "ics.xact_sums"', 'unbind_copy of a relation that is not a source');
SAVEPOINT d;
SELECT lives_ok($$DROP TABLE ics.grocery$$, 'a source of the copy can be dropped');
SELECT is(pg_temp.binding(), 'ics.circs - ics.circs:3', '... it leaves the copy''s sources (no OID of a dropped relation is left)');
SELECT is(pg_temp.sums(), '1:1 2:2 3:- 4:4 5:- 6:- 7:- 9:-', '... and the copies of rows only it held are severed');
SELECT is((SELECT count(*) FROM pals_privacy.binding_problems()), 0::bigint, '... binding_problems() finds nothing wrong');
SET LOCAL ROLE ics_staff;
SELECT is(pg_temp.sums(), '1:- 2:2 3:- 4:4 5:- 6:- 7:- 9:-', 'staff read the copy after the drop as before');
RESET ROLE;
UPDATE ics.circs SET patron_id = NULL WHERE id = 4;
SELECT is((SELECT patron_id FROM ics.xact_sums WHERE xact_id = 4), NULL, 'the source left severs the copy alone');
SELECT * FROM pg_temp.fails($$DROP TABLE ics.circs$$,
    '2BP01', 'cannot drop ics.circs: pals_privacy binds "ics.xact_sums" as a copy of it', 'dropping the only source of a copy is refused');
SELECT is(pg_temp.binding(), 'ics.circs - ics.circs:3', '... and nothing changed');
SELECT lives_ok($$DROP TABLE ics.circs, ics.xact_sums$$, 'the copy and its only source dropped together');
SELECT is((SELECT count(*) FROM pals_privacy.copy_binding), 0::bigint, '... take the binding with them');
ROLLBACK TO SAVEPOINT d;
SELECT lives_ok($$SELECT pals_privacy.unbind_copy('ics.xact_sums', source => 'ics.circs')$$, 'unbind_copy of the first source');
SELECT is(pg_temp.binding(), 'ics.grocery - ics.grocery:3', '... the other becomes the source, the first loses the triggers');
SELECT is(pg_temp.sums(), '1:- 2:- 3:- 4:- 5:5 6:- 7:- 9:-', '... and the copies of rows only the first held are severed');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.unbind_copy('ics.xact_sums', source => 'ics.grocery')$$,
    '55000', 'unbind_copy: "ics.grocery" is the only source of "ics.xact_sums"', 'unbind_copy of the only source is refused');
SELECT is(split_part(pg_temp.error_of($$SELECT pals_privacy.unbind('ics.grocery')$$), E'\n', 3),
          'HINT: Unbind the copies first: SELECT pals_privacy.unbind_copy(''ics.xact_sums''). '
          'To bind "ics.grocery" again with other settings, unbind the copies, unbind and bind it, and bind the copies again in one transaction.',
          'unbind() of the only source of a copy: the hint unbinds the copy');
UPDATE ics.grocery SET patron_id = NULL WHERE id = 5;
SELECT is((SELECT patron_id FROM ics.xact_sums WHERE xact_id = 5), NULL, 'the source left severs the copy');
-- a source gone without a DROP (a temporary table of an ended session), simulated by a dead OID
SET LOCAL session_replication_role = replica;   -- damage, not a change: no audit trigger
UPDATE pals_privacy.copy_binding SET more_sources = '{4000000000}', more_source_keys = '{id}' WHERE relation = 'ics.xact_sums'::regclass;
RESET session_replication_role;
SELECT results_eq($$SELECT kind, relation, problem FROM pals_privacy.binding_problems()$$,
                  $$VALUES ('copy', 'ics.xact_sums'::regclass, 'source with OID 4000000000 no longer exists')$$,
                  'binding_problems() names a copy''s source that no longer exists');
SELECT is(pals_privacy._forget_dead_bindings(), 0, 'maintenance''s sweep of dead bindings ...');
SELECT is(pg_temp.binding(), 'ics.grocery - ics.grocery:3', '... removes it from the copy''s sources');

SELECT * FROM finish();
ROLLBACK;
