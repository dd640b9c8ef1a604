-- The placeholder patron of sever_with => 'patron:<id>' is guarded by a trigger on the patron
-- table (src/placeholder_guard.c), so a return re-points rows to it without the foreign key's
-- KEY SHARE lock on that row.  The guarantee the foreign key gave: the row exists, and nobody
-- deletes it or changes its id.  These tests show the guard keeps it, that the lock is really
-- skipped while the guard is in force, and that the foreign-key check comes back whenever the
-- guard is not exactly in force or the placeholder row is missing.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pals_privacy;
BEGIN;
SELECT plan(21);
CREATE SCHEMA pg;
CREATE TABLE pg.patrons (id bigint PRIMARY KEY, expires date NOT NULL DEFAULT 'infinity', name text);
INSERT INTO pg.patrons (id) SELECT g FROM generate_series(0, 9) g;
CREATE TABLE pg.loans (id int PRIMARY KEY, patron_id bigint NOT NULL REFERENCES pg.patrons,
                       item_id int NOT NULL, returned timestamptz);
SELECT pals_privacy.bind_patrons('pg.patrons', 'id', 'expires');
SELECT pals_privacy.bind_loans('pg.loans', 'patron_id', 'item_id', ARRAY['returned'], sever_with => 'patron:0');

SELECT is((SELECT tgenabled FROM pg_trigger WHERE tgrelid = 'pg.patrons'::regclass
                                            AND tgname = 'pals_privacy_placeholder_guard'),
          'A'::"char", 'bind_patrons installs the guard, enabled always');

-- a placeholder row's xmax shows whether a sever took a lock on it: each check uses a placeholder
-- row this transaction has not locked yet (a lock it holds already would not show again)
CREATE FUNCTION pg_temp.xmax_of(patron bigint) RETURNS text LANGUAGE sql AS
    $$SELECT xmax::text FROM pg.patrons WHERE id = patron$$;
CREATE TABLE pg.loans_b (LIKE pg.loans, FOREIGN KEY (patron_id) REFERENCES pg.patrons);
CREATE TABLE pg.loans_c (LIKE pg.loans, FOREIGN KEY (patron_id) REFERENCES pg.patrons);
SELECT pals_privacy.bind_loans('pg.loans_b', 'patron_id', 'item_id', ARRAY['returned'], sever_with => 'patron:5');
SELECT pals_privacy.bind_loans('pg.loans_c', 'patron_id', 'item_id', ARRAY['returned'], sever_with => 'patron:6');

-- 1. with the guard in force, a return severs to the placeholder without locking it
INSERT INTO pg.loans VALUES (1, 1, 10, '2026-01-01'), (2, 2, 10, NULL);
SELECT pg_temp.xmax_of(0) AS before \gset
UPDATE pg.loans SET returned = '2026-02-01' WHERE id = 2;
SELECT is((SELECT patron_id FROM pg.loans WHERE id = 1), 0::bigint, 'a return severs the earlier row to the placeholder');
SELECT is(pg_temp.xmax_of(0), :'before', 'without locking the placeholder row (no foreign-key check)');
SELECT is((SELECT count(*) FROM pals_privacy.sever_pending), 0::bigint, 'nothing left pending');

-- 2. the guard disabled: the foreign-key check (and its lock) is back
ALTER TABLE pg.patrons DISABLE TRIGGER pals_privacy_placeholder_guard;
INSERT INTO pg.loans_b VALUES (3, 1, 11, '2026-01-01'), (4, 3, 11, NULL);
SELECT pg_temp.xmax_of(5) AS before \gset
UPDATE pg.loans_b SET returned = '2026-02-01' WHERE id = 4;
SELECT is((SELECT patron_id FROM pg.loans_b WHERE id = 3), 5::bigint, 'guard disabled: the return still severs');
SELECT isnt(pg_temp.xmax_of(5), :'before', 'through the foreign-key check, which locks the placeholder row');

-- enabled, but not ALWAYS (a session_replication_role = replica session would not fire it)
ALTER TABLE pg.patrons ENABLE TRIGGER pals_privacy_placeholder_guard;
INSERT INTO pg.loans_c VALUES (5, 1, 12, '2026-01-01'), (6, 3, 12, NULL);
SELECT pg_temp.xmax_of(6) AS before \gset
UPDATE pg.loans_c SET returned = '2026-02-01' WHERE id = 6;
SELECT isnt(pg_temp.xmax_of(6), :'before', 'guard enabled for origin sessions only: the foreign-key check runs');
ALTER TABLE pg.patrons ENABLE ALWAYS TRIGGER pals_privacy_placeholder_guard;
SELECT pals_privacy.unbind('pg.loans_b');
SELECT pals_privacy.unbind('pg.loans_c');

-- 3. the guard refuses what the foreign-key lock kept out
SELECT throws_ok($$DELETE FROM pg.patrons WHERE id = 0$$, '23001',
                 'patron 0 is the placeholder that severed rows of "loans" point to',
                 'deleting the placeholder is refused');
SELECT throws_ok($$UPDATE pg.patrons SET id = 100 WHERE id = 0$$, '23001', NULL,
                 'changing its id is refused');
SELECT throws_ok($$UPDATE pg.patrons SET id = id + 100 WHERE id IN (0, 1)$$, '23001', NULL,
                 'also as one row of many');
SELECT lives_ok($$UPDATE pg.patrons SET name = 'ANONYMOUS', id = 0 WHERE id = 0$$,
                'its other columns may change (the id set to itself)');
SET LOCAL session_replication_role = replica;
SELECT throws_ok($$DELETE FROM pg.patrons WHERE id = 0$$, '23001', NULL,
                 'refused in a session_replication_role = replica session too');
RESET session_replication_role;
SELECT lives_ok($$DELETE FROM pg.patrons WHERE id = 9$$, 'other patrons are deleted as before');
SELECT lives_ok($$UPDATE pg.patrons SET id = 108 WHERE id = 8$$, 'and change ids as before');

-- 4. a placeholder that is gone (deleted while the guard was off): the check runs and fails, the
--    row stays identified and pending, and never points to a patron that does not exist
CREATE TABLE pg.loans2 (id int PRIMARY KEY, patron_id bigint NOT NULL REFERENCES pg.patrons,
                        item_id int NOT NULL, returned timestamptz);
SELECT pals_privacy.bind_loans('pg.loans2', 'patron_id', 'item_id', ARRAY['returned'], sever_with => 'patron:7');
ALTER TABLE pg.patrons DISABLE TRIGGER pals_privacy_placeholder_guard;
DELETE FROM pg.patrons WHERE id = 7;
ALTER TABLE pg.patrons ENABLE ALWAYS TRIGGER pals_privacy_placeholder_guard;
INSERT INTO pg.loans2 VALUES (1, 1, 10, '2026-01-01'), (2, 2, 10, NULL);
SELECT lives_ok($$UPDATE pg.loans2 SET returned = '2026-02-01' WHERE id = 2$$, 'the return itself goes through');
SELECT is((SELECT patron_id FROM pg.loans2 WHERE id = 1), 1::bigint, 'the earlier row keeps its patron');
SELECT is((SELECT count(*) FROM pals_privacy.sever_pending WHERE binding = 'pg.loans2'::regclass), 1::bigint,
          'and is left pending');
SELECT is((SELECT count(*) FROM pg.loans2 l WHERE NOT EXISTS (SELECT FROM pg.patrons p WHERE p.id = l.patron_id)),
          0::bigint, 'no row points to a missing patron');

-- 5. a placeholder no binding uses any more is an ordinary patron
SELECT pals_privacy.unbind('pg.loans2');
INSERT INTO pg.patrons (id) VALUES (7);
SELECT lives_ok($$DELETE FROM pg.patrons WHERE id = 7$$, 'after unbind, the old placeholder may be deleted');

-- 6. unbinding the patron table takes the guard away
SELECT pals_privacy.unbind('pg.loans');
SELECT pals_privacy.unbind('pg.patrons');
SELECT is((SELECT count(*) FROM pg_trigger WHERE tgrelid = 'pg.patrons'::regclass
                                           AND tgname = 'pals_privacy_placeholder_guard'),
          0::bigint, 'unbind of the patron table drops the guard');
SELECT lives_ok($$UPDATE pg.patrons SET name = 'x' WHERE id = 0$$, 'and its rows are plain rows again');

SELECT * FROM finish();
ROLLBACK;
