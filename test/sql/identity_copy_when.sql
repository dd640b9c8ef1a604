-- A table whose rows are not all copies of a loan (issue 14, from the Evergreen-shaped acceptance
-- test): a per-transaction summary with rows for circulations and for groceries (xact_type says
-- which), a notice table with rows about loans and about holds (kind says which).  Bound with
-- bind_copy(..., copy_when => condition), only the rows for which the condition is not false are
-- copies: severed with their source (a return, a delete: the C trigger path), by sever_copies(),
-- the backlog (batched) and the purge, and redacted by the copy rule; the other rows are the ILS's
-- own and every path leaves them alone (their patron, their money, the notice of a hold whose id
-- is also a circulation's).  A row for which the condition is NULL counts as a copy (fail closed).
-- Bad conditions are refused with current_when's errors; a re-bind with another copy_when is a
-- conflict; without copy_when every row is a copy (the old behaviour: a grocery's summary loses
-- its patron at bind time).  The backlog and the purge commit: the suite has its own database.
\set ECHO none
\set cp_db regress_copy_when
\set cp_schema cw
\set cp_roles regress_cw
\i test/copy/fixture.sql
INSERT INTO cw.patrons (id) SELECT generate_series(1, 9);
UPDATE cw.patrons SET expires = '2020-01-01' WHERE id IN (4, 6);     -- expired: purge candidates
CREATE TABLE cw.circs (id int PRIMARY KEY, patron_id bigint, item_id int NOT NULL, done date);
-- history from before binding: 1 is hidden from staff (2 is item 10's last borrower), 5 is item
-- 11's last borrower until 3 (out now) comes back, 7 item 12's
INSERT INTO cw.circs VALUES (1, 1, 10, '2024-01-10'), (2, 2, 10, '2024-02-10'), (3, 3, 11, NULL),
                            (5, 5, 11, '2024-01-05'), (7, 7, 12, '2024-01-07');
-- the summary of every billable transaction, circulation or grocery (one id sequence in the ILS;
-- grocery 1 shares circulation 1's id here, to prove the rule on the key itself)
CREATE TABLE cw.sums (id serial PRIMARY KEY, xact_id int, xact_type text, patron_id bigint,
                      owed numeric NOT NULL DEFAULT 0, last_billed date);
INSERT INTO cw.sums (xact_id, xact_type, patron_id, owed, last_billed) VALUES
    (1, 'circulation', 1, 0, '2024-01-10'), (2, 'circulation', 2, 0, '2024-02-10'),
    (3, 'circulation', 3, 0, NULL), (5, 'circulation', 5, 0, '2024-01-05'),
    (7, 'circulation', 7, 0, '2024-01-07'),
    (99, 'circulation', 8, 0, NULL),            -- its circulation is gone: severed at bind
    (98, NULL, 8, 0, NULL),                     -- type unknown: a copy (fail closed), severed at bind
    (NULL, 'circulation', 6, 0, NULL),          -- no key: left to the purge
    (101, 'grocery', 4, 5.00, '2024-03-01'),    -- Y owes 5.00 for a grocery
    (102, 'grocery', 2, 0, '2024-03-02'),
    (1, 'grocery', 9, 1.50, '2024-03-03'),
    (NULL, 'grocery', 6, 0, NULL);
-- notices: about a loan (target: the circulation) or a hold (target: the hold, own ids)
CREATE TABLE cw.notices (id serial PRIMARY KEY, target int, kind text, patron_id bigint);
INSERT INTO cw.notices (target, kind, patron_id) VALUES
    (1, 'loan', 1), (1, 'hold', 5), (2, 'loan', 2), (2, 'hold', 6), (5, 'hold', 5),
    (7, 'loan', 7), (50, 'hold', 6),
    (97, 'loan', 8),                            -- its circulation is gone: deleted at bind
    (96, NULL, 8);                              -- kind unknown: a copy (fail closed), deleted at bind

SELECT pals_privacy.bind_patrons('cw.patrons', 'id', 'expires');
SELECT pals_privacy.bind_loans('cw.circs', 'patron_id', 'item_id', '{done}');
SELECT pals_privacy.bind_balance('cw.sums', 'patron_id', 'owed');
SELECT pals_privacy.bind_copy('cw.sums', 'cw.circs', 'xact_id', 'patron_id', hide_columns => '{last_billed}',
                              copy_when => 'xact_type = ''circulation''');
SELECT pals_privacy.bind_copy('cw.notices', 'cw.circs', 'target', 'patron_id', 'delete',
                              copy_when => 'kind = ''loan''');
\i test/copy/grants.sql
-- what a role reads: summaries "xact type:patron/last_billed", notices "target kind:patron"
CREATE FUNCTION cw.sums_read() RETURNS text LANGUAGE sql AS $$
    SELECT string_agg(coalesce(xact_id::text, 'n') || coalesce(left(xact_type, 1), '?') || ':' || coalesce(patron_id::text, '-')
                      || '/' || coalesce(to_char(last_billed, 'MM-DD'), '-'), ' ' ORDER BY xact_id, xact_type, id) FROM cw.sums
$$;
CREATE FUNCTION cw.notices_read() RETURNS text LANGUAGE sql AS $$
    SELECT string_agg(target || coalesce(left(kind, 1), '?') || ':' || patron_id, ' ' ORDER BY target, kind) FROM cw.notices
$$;
\set ECHO all
SELECT plan(26);

-- 1. binding sweeps the copies of rows severed or gone before, and nothing else
SELECT is(cw.sums_read(),
          '1c:1/01-10 1g:9/03-03 2c:2/02-10 3c:3/- 5c:5/01-05 7c:7/01-07 98?:-/- 99c:-/- 101g:4/03-01 102g:2/03-02 nc:6/- ng:6/-',
          'binding: the summaries of a gone circulation and of an unknown type are severed, every grocery''s keeps its patron');
SELECT is((SELECT owed FROM cw.sums WHERE xact_id = 101), 5.00, 'binding: ... and Y still owes 5.00');
SELECT is(cw.notices_read(), '1h:5 1l:1 2h:6 2l:2 5h:5 7l:7 50h:6',
          'binding: the notice of a gone circulation and one of unknown kind are deleted, every hold''s is kept');
SELECT is((SELECT settings ->> 'copy_when' FROM pals_privacy.bindings WHERE kind = 'copy' AND relation = 'cw.notices'::regclass),
          'kind = ''loan''', 'the bindings view shows copy_when');

-- 2. staff reads: a copy row follows its source (circulation 1 is hidden from staff), the others
--    read as the table's other bindings say (a balance: staff read it whole)
SELECT is(pg_temp.v('regress_cw_staff', 'SELECT cw.sums_read()'),
          '1c:-/- 1g:9/03-03 2c:2/02-10 3c:3/- 5c:5/01-05 7c:7/01-07 98?:-/- 99c:-/- 101g:4/03-01 102g:2/03-02 nc:6/- ng:6/-',
          'staff: the summary of hidden circulation 1 reads without patron and time; grocery 1, with the same key, whole');
SELECT is(pg_temp.v('regress_cw_staff', 'SELECT cw.notices_read()'), '1h:5 2h:6 2l:2 5h:5 7l:7 50h:6',
          'staff: the notice of hidden circulation 1 is not read, the notice of hold 1 is');
SELECT is(pg_temp.v('regress_cw_staff', $$SELECT string_agg(patron_id::text, ' ' ORDER BY patron_id) FROM cw.sums WHERE xact_id = 1$$),
          '9', 'staff: a WHERE on the key finds grocery 1 and not circulation 1''s patron');
-- staff with write rights turn the hidden copy into a grocery, to read its patron: writes reach
-- only rows the class reads whole
SELECT is(pg_temp.v('regress_cw_staff', $$WITH u AS (UPDATE cw.sums SET xact_type = 'grocery' WHERE xact_id = 1 AND xact_type = 'circulation'
                                                     RETURNING 1) SELECT count(*)::text FROM u$$), '0',
          'staff: an UPDATE of the condition''s column reaches no hidden copy');

-- 3. the backlog (batched severing of copies) severs circulation 1's copies, not grocery 1's
CALL pals_privacy.sever_backlog();
SELECT is((SELECT patron_id FROM cw.circs WHERE id = 1), NULL, 'backlog: circulation 1 is severed');
SELECT is(cw.sums_read(),
          '1c:-/01-10 1g:9/03-03 2c:2/02-10 3c:3/- 5c:5/01-05 7c:7/01-07 98?:-/- 99c:-/- 101g:4/03-01 102g:2/03-02 nc:6/- ng:6/-',
          'backlog: circulation 1''s summary is severed, grocery 1''s (same key) keeps its patron');
SELECT is(cw.notices_read(), '1h:5 2h:6 2l:2 5h:5 7l:7 50h:6',
          'backlog: circulation 1''s notice is deleted, hold 1''s is kept');

-- 4. a return and a delete (the copy triggers, src/copy_sever.c)
SET ROLE regress_cw_ils;
UPDATE cw.circs SET done = '2024-06-01' WHERE id = 3;   -- 3 back: 5 no longer item 11's last borrower
DELETE FROM cw.circs WHERE id = 2;                     -- the ILS ages old history
RESET ROLE;
SELECT is((SELECT patron_id FROM cw.circs WHERE id = 5), NULL, 'return: the former last borrower''s circulation 5 is severed');
SELECT is(cw.sums_read(),
          '1c:-/01-10 1g:9/03-03 2c:-/02-10 3c:3/- 5c:-/01-05 7c:7/01-07 98?:-/- 99c:-/- 101g:4/03-01 102g:2/03-02 nc:6/- ng:6/-',
          'return and delete: the summaries of 5 and 2 are severed, the groceries keep their patrons');
SELECT is(cw.notices_read(), '1h:5 2h:6 5h:5 7l:7 50h:6',
          'return and delete: circulation 2''s notice is deleted, the notices of holds 2 and 5 are kept');

-- 5. sever_copies(): rows the ILS writes later
SET ROLE regress_cw_ils;
INSERT INTO cw.sums (xact_id, xact_type, patron_id, owed) VALUES (103, 'grocery', 3, 2.00), (95, 'circulation', 8, 0);
INSERT INTO cw.notices (target, kind, patron_id) VALUES (60, 'hold', 3), (94, 'loan', 8);
RESET ROLE;
SELECT is(pals_privacy.sever_copies(), 2::bigint, 'sever_copies(): two rows changed');
SELECT is((SELECT string_agg(xact_id || ':' || coalesce(patron_id::text, '-'), ' ' ORDER BY xact_id) FROM cw.sums WHERE xact_id IN (95, 103)),
          '95:- 103:3', 'sever_copies(): the summary of a gone circulation is severed, a new grocery''s is not');
SELECT is((SELECT string_agg(target || kind, ' ' ORDER BY target) FROM cw.notices WHERE target IN (60, 94)),
          '60hold', 'sever_copies(): the notice of a gone circulation is deleted, a new hold''s is not');

-- 6. purge: Y (4) owes 5.00 for a grocery, so is not purged; 6 is purged: the copy naming 6 is
--    severed, the grocery row and the hold notices naming 6 are the ILS's own and left alone
SET pals_privacy.purge_grace = 0;
CALL pals_privacy.purge_expired();
SELECT is((SELECT string_agg(id::text, ' ' ORDER BY id) FROM cw.patrons WHERE id IN (4, 6)), '4',
          'purge: Y, who owes for a grocery, is kept; 6 is purged');
SELECT is((SELECT string_agg(coalesce(xact_type, '?') || ':' || coalesce(patron_id::text, '-'), ' ' ORDER BY xact_type)
             FROM cw.sums WHERE xact_id IS NULL), 'circulation:- grocery:6',
          'purge: 6''s copy is severed, 6''s grocery row is left alone');
SELECT is((SELECT count(*) FROM cw.notices WHERE patron_id = 6 AND kind = 'hold'), 2::bigint,
          'purge: the notices of 6''s holds are left alone');
RESET pals_privacy.purge_grace;

-- 7. bad conditions: refused with current_when's errors
CREATE TABLE cw.sums2 (xact_id int, xact_type text, patron_id bigint);
SELECT is(array_agg(pg_temp.err(format('SELECT pals_privacy.bind_copy(''cw.sums2'', ''cw.circs'', ''xact_id'', ''patron_id'', copy_when => %L)', c))
                    ORDER BY c),
          array_agg(replace(pg_temp.err(format('SELECT pals_privacy.bind_copy(''cw.sums2'', ''cw.circs'', ''xact_id'', ''patron_id'', current_when => %L)', c)),
                            'current_when', 'copy_when') ORDER BY c),
          'copy_when: bad conditions are refused with current_when''s errors')
  FROM unnest(ARRAY['nosuch = 1', 'random() > 0.5', 'xact_type', 'xact_type = ''x''; SELECT 1']) c;
SELECT is(pg_temp.err($$SELECT pals_privacy.bind_copy('cw.sums2', 'cw.circs', 'xact_id', 'patron_id', copy_when => 'nosuch = 1')$$),
          '42703 column "nosuch" does not exist', 'copy_when: an unknown column (42703)');
SELECT is((SELECT count(*) FROM pals_privacy.copy_binding WHERE relation = 'cw.sums2'::regclass), 0::bigint,
          'copy_when: nothing bound after a refused condition');

-- 8. a re-bind: the same copy_when is the same binding, another one a conflict
SELECT is(pg_temp.err($$SELECT pals_privacy.bind_copy('cw.notices', 'cw.circs', 'target', 'patron_id', 'delete', copy_when => 'kind = ''loan''')$$),
          'ok', 're-bind with the same copy_when: bound so already');
SELECT matches(pg_temp.err($$SELECT pals_privacy.bind_copy('cw.notices', 'cw.circs', 'target', 'patron_id', 'delete', copy_when => 'kind <> ''hold''')$$),
               '^42710 ', 're-bind with another copy_when: a conflict (42710)');

-- 9. without copy_when every row is a copy (the behaviour before copy_when): binding severs the
--    summary of every grocery whose key no circulation holds
BEGIN;
SELECT pals_privacy.unbind_copy('cw.sums');
SELECT pals_privacy.bind_copy('cw.sums', 'cw.circs', 'xact_id', 'patron_id', hide_columns => '{last_billed}');
SELECT string_agg(xact_id || ':' || coalesce(patron_id::text, '-'), ' ' ORDER BY xact_id) AS groceries
  FROM cw.sums WHERE xact_type = 'grocery' \gset
ROLLBACK;
SELECT is(:'groceries'::text, '1:- 101:- 102:- 103:-', 'without copy_when: binding severs every grocery''s summary (Y''s 5.00 is no longer Y''s)');

SELECT * FROM finish();
\set ECHO none
\i test/copy/done.sql
