-- A tracker entry chosen against the dates (pinned: the desk re-opened the
-- last borrower's loan and closed it again back-dated, behind a hidden row
-- of a patron who keeps their history in place; identity_tracker) survives
-- what gives its row a new TID or file: VACUUM FULL, CLUSTER, a rewriting
-- ALTER TABLE, a partition replaced by a copy of its rows.  The pin records
-- the row's primary key (tracker_pin), by which the rebuilds
-- (rebuild_tracker, sever_backlog(restart => true)) find the row again.  A
-- relation without a primary key or replica identity index keeps the file
-- node alone: a rewrite loses its pin (documented, docs/severing.md).  The
-- dump and restore are test/t/084_pin_restore.pl.  It commits (VACUUM FULL
-- runs outside a transaction block) and drops what it made.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pals_privacy;
SELECT plan(17);

CREATE SCHEMA tp;
CREATE TABLE tp.patrons (id bigint PRIMARY KEY, expires date NOT NULL DEFAULT 'infinity', keep boolean NOT NULL DEFAULT false);
INSERT INTO tp.patrons (id, keep) SELECT i, i = 20 FROM generate_series(0, 20) i;
-- item 30: patron 20 (opted in, history kept in place) returned it on
-- 2024-02-01, patron 1 on 2024-03-01; some open loans before them, which go,
-- so that a rewrite moves the rows
CREATE TABLE tp.desk (id int PRIMARY KEY, patron_id bigint, item_id int, returned date, paid date);
INSERT INTO tp.desk SELECT i, i, 100 + i, NULL, NULL FROM generate_series(101, 110) i;
INSERT INTO tp.desk VALUES (1, 20, 30, '2024-02-01', '2024-02-01'), (2, 1, 30, '2024-03-01', '2024-03-01');
-- the same in a table keyed by a replica identity index (no primary key),
-- and in one with neither
CREATE TABLE tp.desk_ri (id int NOT NULL, patron_id bigint, item_id int, returned date, paid date);
CREATE UNIQUE INDEX desk_ri_id ON tp.desk_ri (id);
ALTER TABLE tp.desk_ri REPLICA IDENTITY USING INDEX desk_ri_id;
INSERT INTO tp.desk_ri SELECT * FROM tp.desk;
CREATE TABLE tp.desk_nokey (id int, patron_id bigint, item_id int, returned date, paid date);
INSERT INTO tp.desk_nokey SELECT * FROM tp.desk;
-- and in a partitioned table (a partition is replaced by a copy of its rows)
CREATE TABLE tp.parts (id int, patron_id bigint, item_id int, returned date, paid date, PRIMARY KEY (id, item_id))
    PARTITION BY RANGE (item_id);
CREATE TABLE tp.parts_a PARTITION OF tp.parts FOR VALUES FROM (0) TO (100);
CREATE TABLE tp.parts_b PARTITION OF tp.parts FOR VALUES FROM (100) TO (1000);
INSERT INTO tp.parts SELECT * FROM tp.desk;
DO $$ BEGIN
    PERFORM pals_privacy.bind_patrons('tp.patrons', 'id', 'expires', keep_history_column => 'keep');
    PERFORM pals_privacy.bind_loans('tp.desk', 'patron_id', 'item_id', '{returned}', 'paid', history_mode => 'in_place');
    PERFORM pals_privacy.bind_loans('tp.desk_ri', 'patron_id', 'item_id', '{returned}', 'paid', history_mode => 'in_place');
    PERFORM pals_privacy.bind_loans('tp.desk_nokey', 'patron_id', 'item_id', '{returned}', 'paid', history_mode => 'in_place');
    PERFORM pals_privacy.bind_loans('tp.parts', 'patron_id', 'item_id', '{returned}', 'paid', history_mode => 'in_place');
END $$;
DROP ROLE IF EXISTS regress_tp_desk;
CREATE ROLE regress_tp_desk;
SELECT pals_privacy.classify_role('regress_tp_desk', 'staff');
GRANT USAGE ON SCHEMA tp TO regress_tp_desk;
GRANT SELECT, INSERT, UPDATE ON ALL TABLES IN SCHEMA tp TO regress_tp_desk;
-- what the desk reads of item 30, and what the tracker names
CREATE FUNCTION tp.reads(rel regclass) RETURNS text LANGUAGE plpgsql AS $$
DECLARE s text;
BEGIN
    SET LOCAL ROLE regress_tp_desk;
    EXECUTE format('SELECT string_agg(id || '':'' || coalesce(patron_id::text, ''-''), '' '' ORDER BY id) FROM %s WHERE item_id = 30', rel) INTO s;
    RETURN s;
END $$;
CREATE FUNCTION tp.tracked(rel regclass) RETURNS text LANGUAGE plpgsql AS $$
DECLARE s text;
BEGIN
    EXECUTE format('SELECT string_agg(lb.item || ''>'' || l.id, '' '' ORDER BY lb.item) FROM pals_privacy.last_borrower lb
                     JOIN %s l ON l.tableoid = lb.row_relid AND l.ctid = lb.row_tid AND l.item_id::text = lb.item
                    WHERE lb.binding = $1 AND lb.item = ''30''', rel) INTO s USING rel::oid;
    RETURN s;
END $$;

-- the desk re-opens patron 1's loan and closes it back-dated before patron 20's return
SET ROLE regress_tp_desk;
UPDATE tp.desk SET returned = NULL WHERE id = 2;
UPDATE tp.desk SET returned = '2024-01-15' WHERE id = 2;
UPDATE tp.desk_ri SET returned = NULL WHERE id = 2;
UPDATE tp.desk_ri SET returned = '2024-01-15' WHERE id = 2;
UPDATE tp.desk_nokey SET returned = NULL WHERE id = 2;
UPDATE tp.desk_nokey SET returned = '2024-01-15' WHERE id = 2;
UPDATE tp.parts SET returned = NULL WHERE id = 2;
UPDATE tp.parts SET returned = '2024-01-15' WHERE id = 2;
RESET ROLE;
SELECT is(tp.reads('tp.desk') || ' ' || tp.reads('tp.desk_ri') || ' ' || tp.reads('tp.desk_nokey') || ' ' || tp.reads('tp.parts')
          || ' ' || (SELECT string_agg(DISTINCT to_char(returned, 'YYYY-MM-DD'), ',') FROM (SELECT returned FROM tp.desk WHERE id = 2 UNION ALL SELECT returned FROM tp.desk_ri WHERE id = 2
                     UNION ALL SELECT returned FROM tp.desk_nokey WHERE id = 2 UNION ALL SELECT returned FROM tp.parts WHERE id = 2) r),
          '1:- 2:1 1:- 2:1 1:- 2:1 1:- 2:1 2024-01-15', 'the back-dated close keeps the row the desk closed, patron 20''s row hidden (each table)');
SELECT is((SELECT string_agg(k.relation::text || ' ' || k.item || ' ' || k.key::text, ', ' ORDER BY k.relation::text)
             FROM pals_privacy.tracker_pin k JOIN pg_class c ON c.oid = k.relation WHERE c.relnamespace = 'tp'::regnamespace),
          'tp.desk 30 {"id": 2}, tp.desk_ri 30 {"id": 2}, tp.parts 30 {"id": 2, "item_id": 30}',
          'the pins record their row''s key: primary key, replica identity index (none for a table with neither)');

-- the open loans go; VACUUM FULL moves every row to a new file
DELETE FROM tp.desk WHERE returned IS NULL;
DELETE FROM tp.desk_ri WHERE returned IS NULL;
DELETE FROM tp.desk_nokey WHERE returned IS NULL;
VACUUM FULL tp.desk;
VACUUM FULL tp.desk_ri;
VACUUM FULL tp.desk_nokey;
SELECT pals_privacy.rebuild_tracker('tp.desk') + pals_privacy.rebuild_tracker('tp.desk_ri') + pals_privacy.rebuild_tracker('tp.desk_nokey') AS rebuilt \gset
SELECT is(tp.tracked('tp.desk'), '30>2', 'VACUUM FULL, then rebuild_tracker(): the entry names the row the desk closed, at its new TID');
SELECT is(tp.reads('tp.desk'), '1:- 2:1', '... and the desk still does not read patron 20''s row');
SELECT is(tp.reads('tp.desk_ri'), '1:- 2:1', 'the same for a table keyed by its replica identity index');
SELECT is(tp.reads('tp.desk_nokey'), '1:20 2:-',
          'a table with no key: the pin is lost with the file, the rebuild goes by the dates (documented)');

-- CLUSTER (reverses the order), then rebuild_tracker()
CLUSTER tp.desk USING desk_pkey;
INSERT INTO tp.desk VALUES (0, 3, 999, '2024-01-01', '2024-01-01');  -- a row before them
CLUSTER tp.desk USING desk_pkey;
SELECT pals_privacy.rebuild_tracker('tp.desk') AS rebuilt \gset
SELECT is(tp.tracked('tp.desk') || ' ' || tp.reads('tp.desk'), '30>2 1:- 2:1', 'CLUSTER, then rebuild_tracker(): kept');

-- a rewriting ALTER TABLE, then the backlog restarted
ALTER TABLE tp.desk ADD COLUMN note text DEFAULT random()::text;  -- a volatile default rewrites the table
CALL pals_privacy.sever_backlog(restart => true);
SELECT is(tp.tracked('tp.desk') || ' ' || tp.reads('tp.desk'), '30>2 1:- 2:1', 'ALTER TABLE rewrite, then sever_backlog(restart => true): kept');

-- the partition holding the rows is replaced by a copy of them
ALTER TABLE tp.parts DETACH PARTITION tp.parts_a;
CREATE TABLE tp.parts_a2 (LIKE tp.parts_a INCLUDING ALL);
INSERT INTO tp.parts_a2 SELECT * FROM tp.parts_a;
DROP TABLE tp.parts_a;
ALTER TABLE tp.parts ATTACH PARTITION tp.parts_a2 FOR VALUES FROM (0) TO (100);
SELECT pals_privacy.rebuild_tracker('tp.parts') AS rebuilt \gset
SELECT is(tp.tracked('tp.parts') || ' ' || tp.reads('tp.parts'), '30>2 1:- 2:1',
          'a partition replaced by a copy of its rows, then rebuild_tracker(): kept, in the new partition');

-- the pin still carries to a later return (dated before patron 20's) after the rewrites
SET ROLE regress_tp_desk;
INSERT INTO tp.desk VALUES (3, 5, 30, '2024-01-20', '2024-01-20');
RESET ROLE;
SELECT is((SELECT k.key::text FROM pals_privacy.tracker_pin k WHERE k.binding = 'tp.desk'::regclass), '{"id": 3}',
          'a later return takes the pin: its key is recorded');
VACUUM FULL tp.desk;
SELECT pals_privacy.rebuild_tracker('tp.desk') AS rebuilt \gset
SELECT is(tp.reads('tp.desk'), '1:- 2:- 3:5', 'VACUUM FULL and a rebuild: the later return is kept, patron 20''s row stays hidden');

-- a pinned row re-opened: a tombstone (identity_tracker_tombstone: only a
-- close makes a last borrower), which the rebuild keeps, and the key is forgotten
UPDATE tp.desk SET returned = NULL WHERE id = 3;
VACUUM FULL tp.desk;
SELECT pals_privacy.rebuild_tracker('tp.desk') AS rebuilt \gset
SELECT is(tp.tracked('tp.desk'), NULL, 'a pinned row open again: the item has no last borrower (not rebuilt by the dates: patron 20''s row stays hidden)');
SELECT is((SELECT count(*) FROM pals_privacy.tracker_pin k WHERE k.binding = 'tp.desk'::regclass), 0::bigint,
          '... and its key is forgotten');

-- a key that finds a row of another item, or a severed row, is not taken
UPDATE tp.desk_ri SET paid = paid WHERE id = 1;   -- (written again: not a new close)
UPDATE pals_privacy.tracker_pin SET key = '{"id": 0}' WHERE binding = 'tp.desk_ri'::regclass;
INSERT INTO tp.desk_ri VALUES (0, 4, 31, '2024-01-01', '2024-01-01');
VACUUM FULL tp.desk_ri;
SELECT pals_privacy.rebuild_tracker('tp.desk_ri') AS rebuilt \gset
SELECT is(tp.tracked('tp.desk_ri'), '30>1', 'a key naming a row of another item is not taken: rebuilt by the dates');
SELECT is((SELECT count(*) FROM pals_privacy.tracker_pin k WHERE k.binding = 'tp.desk_ri'::regclass), 0::bigint,
          '... and the key is forgotten');

-- unbinding forgets the keys
SELECT pals_privacy.unbind('tp.parts') AS unbound \gset
SELECT is((SELECT count(*) FROM pals_privacy.tracker_pin k WHERE k.binding = 'tp.parts'::regclass), 0::bigint,
          'unbind forgets the keys of its pins');
SELECT is((SELECT count(*) FROM pg_extension e, unnest(e.extconfig) c
            WHERE e.extname = 'pals_privacy' AND c = 'pals_privacy.tracker_pin'::regclass), 1::bigint,
          'the keys are dumped (an extension configuration table; the restore: TAP 084_pin_restore)');

\set unbind_schema tp
\i test/unbind_schema.sql
DROP ROLE regress_tp_desk;
\set ECHO all
SELECT * FROM finish();
