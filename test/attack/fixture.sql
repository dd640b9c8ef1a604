-- test/attack/fixture.sql: the sample consortium for the attack catalogue
-- (test/sql/attack_*.sql), included with \i by each suite, which sets
-- :atk_db first.  Not a suite itself (pg_regress runs test/sql/*.sql only).
--
-- Each suite gets a database of its own (sever_backlog() commits, so a suite
-- cannot run in one transaction that is rolled back): the demo schema, data,
-- roles and bindings exactly as `make demo` loads them (demo/*.sql, scale
-- 0.01), except that loans and holds keep the history of patrons who opted in
-- in place (history_mode => 'in_place'), so that identified history still
-- exists after sever_backlog(), plus a few crafted patrons whose only rows are
-- hidden (the oracles compare them with patrons who have no rows at all):
--
--   9001  "A": 45 closed, settled loans from before binding (hidden from
--         staff; opted in, so they stay identified in place after the
--         sever), 14 closed holds, 30 rows of private reading history; no
--         address, no fines
--   9002  "B": nothing at all (no loan, hold, history, address or fine)
--   9003  "C": private reading history only
--   9011  "P1": PIN 1111, one open loan, one closed loan, one hold, history
--   9012  "P2": PIN 2222, like A plus an open hold
--
-- and demo.ill_requests, interlibrary-loan requests with a nullable patron
-- column (closed requests of 9001 and 9012), which the demo schema lacks;
-- the ILS's own views over the loans (plain, security_barrier, with an
-- INSTEAD OF trigger) and a rule that updates the loans.
--
-- Ground truth: pg_temp.secrets (refreshed by pg_temp.refresh_secrets() as
-- the superuser) holds, per privacy class, the (relation, row id, patron)
-- pairs that class must never see identified.  pg_temp.attempt() runs an
-- attack as the attacker and, for control, as the operational role, both in
-- a subtransaction that is rolled back: it passes when the control's output
-- contains hidden pairs (the attack is real) and the attacker's does not (or
-- the attacker's statement is refused).  pg_temp.indist() runs the same probe
-- for patron A and for patron B (same visible rows, different hidden rows):
-- it passes when the attacker cannot tell them apart and the operational
-- control can.
\set ON_ERROR_STOP 1
\set own_db :atk_db
\i test/own_database.sql
\o /dev/null
\i demo/schema.sql
\set scale 0.01
\i demo/generate.sql
\i demo/roles.sql
\o

-- crafted patrons, items and rows (before binding: none of them is tracked
-- as an item's last borrower)
INSERT INTO demo.patrons (id, library_id, name, card_number, expires_on, keep_history) VALUES
    (9001, 1, 'Alma Attack', '29001000000001', '2030-01-01', true),
    (9002, 1, 'Bert Blank', '29002000000002', '2030-01-01', true),
    (9003, 1, 'Cleo Private', '29003000000003', '2030-01-01', true),
    (9011, 2, 'Pia One', '29011000000011', '2030-01-01', true),
    (9012, 2, 'Paul Two', '29012000000012', '2030-01-01', true);
INSERT INTO demo.addresses (patron_id, email) VALUES (9011, 'pia@example.org'), (9012, 'paul@example.org');
INSERT INTO demo.titles (id, title) VALUES (90001, 'Attack Title One'), (90002, 'Attack Title Two');
INSERT INTO demo.items (id, title_id, library_id, barcode)
SELECT 90000 + g, 90001, 1, 'ATK' || g FROM generate_series(1, 9) g;
-- items 90001-90005: A's and P2's old loans, each followed by a newer return
-- of generated patron 1 (the item's last borrower after the sever)
INSERT INTO demo.loans (id, patron_id, item_id, library_id, checked_out_at, due_at, returned_at, fines_settled_at)
SELECT 100000 + g * 10 + k, CASE k WHEN 1 THEN 9001 WHEN 2 THEN 9012 ELSE 1 END, 90000 + g, 1,
       timestamptz '2025-02-01' + make_interval(days => 30 * k + g),
       timestamptz '2025-02-21' + make_interval(days => 30 * k + g),
       timestamptz '2025-02-10' + make_interval(days => 30 * k + g),
       timestamptz '2025-02-10' + make_interval(days => 30 * k + g)
  FROM generate_series(1, 5) g, generate_series(1, 3) k;
-- and 40 more old loans of A on these items (A is the most common patron of
-- the loans, in statistics that staff must not learn anything from)
INSERT INTO demo.loans (id, patron_id, item_id, library_id, checked_out_at, due_at, returned_at, fines_settled_at)
SELECT 101000 + j, 9001, 90001 + j % 5, 1,
       timestamptz '2025-01-01' + make_interval(hours => 12 * j),
       timestamptz '2025-01-01' + make_interval(hours => 12 * j + 6),
       timestamptz '2025-01-01' + make_interval(hours => 12 * j + 2),
       timestamptz '2025-01-01' + make_interval(hours => 12 * j + 2)
  FROM generate_series(1, 40) j;
-- P1: an open loan of item 90006, a returned one of item 90007 (then returned by 1)
INSERT INTO demo.loans (id, patron_id, item_id, library_id, checked_out_at, due_at, returned_at, fines_settled_at) VALUES
    (100101, 9011, 90006, 2, '2026-10-01', '2026-10-21', NULL, NULL),
    (100102, 9011, 90007, 2, '2025-03-01', '2025-03-21', '2025-03-10', '2025-03-10'),
    (100103, 1, 90007, 2, '2025-04-01', '2025-04-21', '2025-04-10', '2025-04-10');
INSERT INTO demo.holds (id, patron_id, title_id, pickup_library_id, placed_at, fulfilled_at, cancelled_at) VALUES
    (90001, 9001, 90001, 1, '2025-05-01', '2025-05-03', NULL),
    (90002, 9001, 90002, 1, '2025-05-01', NULL, '2025-05-09'),
    (90003, 9012, 90001, 1, '2025-06-01', NULL, '2025-06-09'),
    (90004, 9012, 90002, 1, '2026-10-01', NULL, NULL),
    (90005, 9011, 90002, 2, '2026-10-02', NULL, NULL);
-- and 12 more closed holds of A (A is the most common patron of the holds)
INSERT INTO demo.holds (id, patron_id, title_id, pickup_library_id, placed_at, fulfilled_at, cancelled_at)
SELECT 90010 + j, 9001, 90001 + j % 2, 1, timestamptz '2025-02-01' + make_interval(days => j), NULL,
       timestamptz '2025-02-03' + make_interval(days => j)
  FROM generate_series(1, 12) j;
INSERT INTO demo.reading_history (patron_id, title_id, read_at, rating, note)
SELECT p, 90001 + (g % 2), timestamptz '2025-01-01' + make_interval(days => 20 * g), 1 + g % 5, 'note ' || p || '/' || g
  FROM (VALUES (9001), (9003), (9011), (9012)) v(p), generate_series(1, CASE WHEN p = 9001 THEN 30 ELSE 6 END) g;
ANALYZE demo.patrons, demo.addresses, demo.items, demo.loans, demo.holds, demo.reading_history;

CREATE EXTENSION pals_privacy;
CREATE EXTENSION pgtap;
\o /dev/null
\i demo/bind.sql
\o
SET client_min_messages = warning;
-- the opted-in history stays in place
\o /dev/null
-- (unbind() refuses a source that copies follow: the copies of demo.loans are
-- unbound first and bound again as demo/bind.sql bound them)
CREATE TEMP TABLE fixture_copies AS SELECT * FROM pals_privacy.copy_binding WHERE source = 'demo.loans'::regclass;
SELECT pals_privacy.unbind_copy(relation) FROM fixture_copies;
SELECT pals_privacy.unbind('demo.loans'), pals_privacy.unbind('demo.holds');
SELECT pals_privacy.bind_loans('demo.loans', 'patron_id', 'item_id', ARRAY['returned_at']::name[],
                               settled_column => 'fines_settled_at', sever_with => 'patron:0',
                               keep_last_borrower => true, history_mode => 'in_place', build_tracker => false);
SELECT pals_privacy.bind_copy(relation => c.relation, source => c.source, key_columns => c.key_columns,
                              source_keys => c.source_keys, patron_column => c.patron_column, sever_with => c.sever_with,
                              hide_columns => c.hide_columns, current_when => c.current_when,
                              more_sources => c.more_sources, copy_when => c.copy_when)
  FROM fixture_copies c ORDER BY c.relation::text;
DROP TABLE fixture_copies;
SELECT pals_privacy.bind_loans('demo.holds', 'patron_id', 'title_id', ARRAY['fulfilled_at', 'cancelled_at']::name[],
                               sever_with => 'patron:0', keep_last_borrower => false, history_mode => 'in_place');
SET pals_privacy.pin_iterations = 10000;
SELECT pals_privacy.set_pin('9011', '1111'), pals_privacy.set_pin('9012', '2222');
RESET pals_privacy.pin_iterations;
\o
-- one table the demo does not have: interlibrary-loan requests, whose patron
-- column is nullable (severed to NULL), 9001's and 9012's requests closed
CREATE TABLE demo.ill_requests (id bigint PRIMARY KEY, patron_id bigint REFERENCES demo.patrons (id),
                                title_id bigint NOT NULL, requested_at timestamptz NOT NULL, closed_at timestamptz,
                                note text);
INSERT INTO demo.ill_requests
SELECT g, CASE WHEN g <= 5 THEN 9001 ELSE 9012 END, 90001, timestamptz '2025-01-01' + make_interval(days => g),
       timestamptz '2025-01-05' + make_interval(days => g), NULL
  FROM generate_series(1, 10) g;
\o /dev/null
SELECT pals_privacy.bind_loans('demo.ill_requests', 'patron_id', 'title_id', ARRAY['closed_at']::name[],
                               sever_with => 'null', keep_last_borrower => false);
\o
GRANT SELECT, INSERT, UPDATE ON demo.ill_requests TO branch_staff, ils_app;
-- the ILS's own views over the loans (owned by the table owner): plain,
-- security_barrier, one with an INSTEAD OF trigger; and a rule
CREATE VIEW demo.loan_desk AS SELECT * FROM demo.loans;
CREATE VIEW demo.loan_desk_sb WITH (security_barrier) AS SELECT * FROM demo.loans;
CREATE VIEW demo.loan_desk_trg AS SELECT * FROM demo.loans;
CREATE FUNCTION demo.loan_desk_trg_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE demo.loans SET fines_settled_at = NEW.fines_settled_at, returned_at = NEW.returned_at
     WHERE id = OLD.id AND checked_out_at = OLD.checked_out_at;
    RETURN NEW;
END $$;
CREATE TRIGGER loan_desk_trg_update INSTEAD OF UPDATE ON demo.loan_desk_trg FOR EACH ROW EXECUTE FUNCTION demo.loan_desk_trg_update();
CREATE TABLE demo.loan_reopen (item_id bigint);
INSERT INTO demo.loan_reopen VALUES (0);
CREATE RULE loan_reopen_rule AS ON UPDATE TO demo.loan_reopen
    DO ALSO UPDATE demo.loans SET fines_settled_at = NULL WHERE item_id = NEW.item_id AND returned_at IS NOT NULL;
GRANT SELECT, UPDATE ON demo.loan_desk, demo.loan_desk_sb, demo.loan_desk_trg, demo.loan_reopen TO branch_staff, ils_app;
-- extended and expression statistics a DBA created on the holds, and an
-- expression index on the loans' patron column
CREATE STATISTICS demo.holds_patron_title (mcv, ndistinct, dependencies) ON patron_id, title_id FROM demo.holds;
CREATE STATISTICS demo.holds_patron_expr ON (patron_id * 1) FROM demo.holds;
CREATE INDEX loans_patron_plus_zero ON demo.loans ((patron_id + 0));
ANALYZE demo.holds, demo.loans;
-- ils_app may write everything (the control runs every write as it);
-- branch_staff keeps exactly the grants of demo/roles.sql
GRANT TEMPORARY ON DATABASE :atk_db TO PUBLIC;
-- one extra grant: a DBA who also granted staff a partition
GRANT UPDATE ON demo.loans_2025 TO branch_staff;
\unset ON_ERROR_STOP

------------------------------------------------------------------------------
-- Ground truth
------------------------------------------------------------------------------
CREATE TABLE pg_temp.secrets (cls text, rel text, id bigint, patron bigint);
CREATE TABLE pg_temp.hidden_only (cls text, patron bigint);
CREATE FUNCTION pg_temp.refresh_secrets() RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE n bigint;
BEGIN
    DELETE FROM pg_temp.secrets;
    -- staff: closed, settled loans that are not the item's tracked last borrower
    INSERT INTO pg_temp.secrets
    SELECT 'staff', 'loans', l.id, l.patron_id FROM demo.loans l
     WHERE l.returned_at IS NOT NULL AND l.fines_settled_at IS NOT NULL AND l.patron_id <> 0
       AND NOT EXISTS (SELECT 1 FROM pals_privacy.last_borrower lb
                        WHERE lb.binding = 'demo.loans'::regclass AND lb.row_relid = l.tableoid
                          AND lb.row_tid = l.ctid);
    INSERT INTO pg_temp.secrets
    SELECT 'staff', 'holds', h.id, h.patron_id FROM demo.holds h
     WHERE (h.fulfilled_at IS NOT NULL OR h.cancelled_at IS NOT NULL) AND h.patron_id <> 0;
    -- auditor and collections: every patron of a loan or hold
    INSERT INTO pg_temp.secrets
    SELECT c, 'loans', l.id, l.patron_id FROM demo.loans l, unnest(ARRAY['auditor', 'collections']) c
     WHERE l.patron_id <> 0;
    INSERT INTO pg_temp.secrets
    SELECT c, 'holds', h.id, h.patron_id FROM demo.holds h, unnest(ARRAY['auditor', 'collections']) c
     WHERE h.patron_id <> 0;
    -- the patron class, logged in as 9011: every row of another patron
    INSERT INTO pg_temp.secrets SELECT 'patron', 'loans', id, patron_id FROM demo.loans WHERE patron_id NOT IN (0, 9011);
    INSERT INTO pg_temp.secrets SELECT 'patron', 'holds', id, patron_id FROM demo.holds WHERE patron_id NOT IN (0, 9011);
    INSERT INTO pg_temp.secrets
    SELECT c, 'ill_requests', r.id, r.patron_id FROM demo.ill_requests r,
           unnest(ARRAY['staff', 'auditor', 'collections']) c
     WHERE r.closed_at IS NOT NULL AND r.patron_id IS NOT NULL;
    INSERT INTO pg_temp.secrets SELECT 'patron', 'ill_requests', id, patron_id FROM demo.ill_requests
     WHERE patron_id <> 9011;
    -- private history: nobody but the patron
    INSERT INTO pg_temp.secrets
    SELECT c, 'reading_history', r.id, r.patron_id FROM demo.reading_history r,
           unnest(ARRAY['staff', 'auditor', 'collections']) c;
    INSERT INTO pg_temp.secrets SELECT 'patron', 'reading_history', id, patron_id FROM demo.reading_history
     WHERE patron_id <> 9011;
    -- per class, patrons whose every row of loans, holds and history is hidden
    DELETE FROM pg_temp.hidden_only;
    INSERT INTO pg_temp.hidden_only
    SELECT DISTINCT s.cls, s.patron FROM pg_temp.secrets s
     WHERE NOT EXISTS (SELECT 1 FROM demo.loans l WHERE l.patron_id = s.patron
                          AND NOT EXISTS (SELECT 1 FROM pg_temp.secrets x WHERE x.cls = s.cls AND x.rel = 'loans' AND x.id = l.id))
       AND NOT EXISTS (SELECT 1 FROM demo.holds h WHERE h.patron_id = s.patron
                          AND NOT EXISTS (SELECT 1 FROM pg_temp.secrets x WHERE x.cls = s.cls AND x.rel = 'holds' AND x.id = h.id));
    SELECT count(*) INTO n FROM pg_temp.secrets;
    RETURN n;
END $$;

-- the role of each class, and the patron a patron-class session logs in as
CREATE FUNCTION pg_temp.role_of(cls text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE cls WHEN 'staff' THEN 'branch_staff' WHEN 'auditor' THEN 'consortium_auditor'
                    WHEN 'collections' THEN 'collections_agency' WHEN 'patron' THEN 'opac'
                    WHEN 'operational' THEN 'ils_app' ELSE cls END
$$;

-- Run statements as a role, in a subtransaction that is rolled back; a
-- patron-class role logs in as 9011 first.  Returns the rows every statement
-- returned (as JSON objects) or the error that stopped it.  check_sql, if
-- given, runs as the superuser after the statements, before the rollback,
-- and its first value is returned as "check".
CREATE FUNCTION pg_temp.probe(who text, stmts text[], check_sql text DEFAULT NULL) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    r record;
    s text;
    out jsonb := '[]';
    err text;
    chk text;
BEGIN
    BEGIN
        IF who = 'opac' THEN
            EXECUTE 'SET LOCAL ROLE opac';
            PERFORM pals_privacy.login('29011000000011', '1111');
        ELSIF who <> 'superuser' THEN
            EXECUTE format('SET LOCAL ROLE %I', who);
        END IF;
        FOREACH s IN ARRAY stmts LOOP
            BEGIN
                FOR r IN EXECUTE s LOOP
                    out := out || jsonb_build_array(to_jsonb(r));
                END LOOP;
            EXCEPTION WHEN invalid_cursor_definition THEN
                EXECUTE s;
            END;
        END LOOP;
        IF check_sql IS NOT NULL THEN
            EXECUTE 'RESET ROLE';
            EXECUTE check_sql INTO chk;
        END IF;
        RAISE EXCEPTION 'pals_attack_rollback';
    EXCEPTION WHEN OTHERS THEN
        IF SQLERRM <> 'pals_attack_rollback' THEN
            err := SQLSTATE || ' ' || SQLERRM;
        END IF;
    END;
    IF who = 'opac' THEN
        PERFORM pals_privacy.logout();
    END IF;
    RETURN jsonb_build_object('rows', out, 'err', err, 'check', chk);
END $$;

-- hidden pairs in a probe's output: rows with "id" and "patron_id" keys
-- (loans unless rel says otherwise), and rows with a "seen_patron" key that
-- names a patron all of whose rows are hidden from the class (something saw
-- that they borrowed)
CREATE FUNCTION pg_temp.leaked(cls text, rel text, res jsonb) RETURNS bigint LANGUAGE sql AS $$
    SELECT count(*) FROM jsonb_array_elements(res -> 'rows') e
     WHERE EXISTS (SELECT 1 FROM pg_temp.secrets s
                    WHERE s.cls = leaked.cls AND s.rel = leaked.rel
                      AND s.id::text = e ->> 'id' AND s.patron::text = e ->> 'patron_id')
        OR EXISTS (SELECT 1 FROM pg_temp.hidden_only h
                    WHERE h.cls = leaked.cls AND h.patron::text = e ->> 'seen_patron')
$$;

CREATE FUNCTION pg_temp.summary(res jsonb) RETURNS text LANGUAGE sql AS $$
    SELECT CASE WHEN res ->> 'err' IS NOT NULL THEN 'error ' || (res ->> 'err')
                ELSE jsonb_array_length(res -> 'rows') || ' rows: ' || left((res -> 'rows')::text, 160) END
$$;

-- one attempt: the attacker (a class) runs stmts; no hidden pair may come
-- out.  The operational control runs the same statements and must get
-- hidden pairs out, else the attempt proves nothing.
CREATE FUNCTION pg_temp.attempt(descr text, cls text, stmts text[], rel text DEFAULT 'loans',
                                control text DEFAULT 'ils_app', control_stmts text[] DEFAULT NULL)
RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    c jsonb := pg_temp.probe(control, coalesce(control_stmts, stmts));
    a jsonb := pg_temp.probe(pg_temp.role_of(cls), stmts);
    nc bigint := pg_temp.leaked(cls, rel, c);
    na bigint := pg_temp.leaked(cls, rel, a);
BEGIN
    IF nc > 0 AND na = 0 THEN
        RETURN ok(true, cls || ': ' || descr);
    END IF;
    RETURN ok(false, cls || ': ' || descr) || E'\n' ||
           diag(CASE WHEN nc = 0 THEN '    the control got no hidden pair out: ' || pg_temp.summary(c)
                     ELSE '    LEAK: ' || na || ' hidden pairs: ' || pg_temp.summary(a) END);
END $$;

-- what a probe shows, with timings and the two ids being compared taken out
CREATE FUNCTION pg_temp.observe(who text, stmts text[], a text, b text) RETURNS text LANGUAGE sql AS $$
    SELECT regexp_replace(regexp_replace(regexp_replace(
               coalesce((r ->> 'err'), '') || (r -> 'rows')::text,
               '(actual time|time)=[0-9.]+(\.\.[0-9.]+)?', 'time=T', 'g'),
               '(Planning|Execution) Time: [0-9.]+ ms', '\1 Time: T', 'g'),
               '\m(' || a || '|' || b || ')\M', 'X', 'g')
      FROM pg_temp.probe(who, stmts) r
$$;

-- one oracle: %1$s in the statements is a patron id; the attacker must get
-- the same answer for A (9001, hidden rows) as for B (9002, none); the
-- operational control must not (else the oracle proves nothing).
CREATE FUNCTION pg_temp.indist(descr text, cls text, stmts text[], a text DEFAULT '9001', b text DEFAULT '9002',
                               control text DEFAULT 'ils_app') RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    sa text[]; sb text[];
    ca text; cb text; oa text; ob text;
BEGIN
    SELECT array_agg(format(s, a) ORDER BY n), array_agg(format(s, b) ORDER BY n) INTO sa, sb
      FROM unnest(stmts) WITH ORDINALITY u(s, n);
    ca := pg_temp.observe(control, sa, a, b);
    cb := pg_temp.observe(control, sb, a, b);
    oa := pg_temp.observe(pg_temp.role_of(cls), sa, a, b);
    ob := pg_temp.observe(pg_temp.role_of(cls), sb, a, b);
    IF ca IS DISTINCT FROM cb AND oa IS NOT DISTINCT FROM ob THEN
        RETURN ok(true, cls || ': ' || descr);
    END IF;
    RETURN ok(false, cls || ': ' || descr) || E'\n' ||
           diag(CASE WHEN ca IS NOT DISTINCT FROM cb THEN '    the control cannot tell A from B either: ' || left(ca, 200)
                     ELSE E'    LEAK: A and B differ:\n    A: ' || left(oa, 300) || E'\n    B: ' || left(ob, 300) END);
END $$;

-- whether stored patrons changed (for writes that must not store a mask):
-- the number of loans, holds and history rows whose patron differs from the
-- snapshot taken by pg_temp.snapshot_patrons()
CREATE TABLE pg_temp.patron_snapshot (rel text, id bigint, patron bigint);
CREATE FUNCTION pg_temp.snapshot_patrons() RETURNS void LANGUAGE sql AS $$
    DELETE FROM pg_temp.patron_snapshot;
    INSERT INTO pg_temp.patron_snapshot SELECT 'loans', id, patron_id FROM demo.loans;
    INSERT INTO pg_temp.patron_snapshot SELECT 'holds', id, patron_id FROM demo.holds;
    INSERT INTO pg_temp.patron_snapshot SELECT 'reading_history', id, patron_id FROM demo.reading_history;
$$;
CREATE FUNCTION pg_temp.patrons_changed() RETURNS bigint LANGUAGE sql AS $$
    SELECT count(*) FROM pg_temp.patron_snapshot s
     WHERE s.patron IS DISTINCT FROM CASE s.rel
             WHEN 'loans' THEN (SELECT patron_id FROM demo.loans WHERE id = s.id)
             WHEN 'holds' THEN (SELECT patron_id FROM demo.holds WHERE id = s.id)
             ELSE (SELECT patron_id FROM demo.reading_history WHERE id = s.id) END
$$;
-- a write that must leave something unchanged: the attacker's check value
-- must equal the untouched state; the control's must not (the write is real)
CREATE FUNCTION pg_temp.no_damage(descr text, cls text, stmts text[], check_sql text, control text DEFAULT 'ils_app',
                                  control_stmts text[] DEFAULT NULL)
RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    before text;
    c jsonb; a jsonb;
BEGIN
    EXECUTE check_sql INTO before;
    c := pg_temp.probe(control, coalesce(control_stmts, stmts), check_sql);
    a := pg_temp.probe(pg_temp.role_of(cls), stmts, check_sql);
    IF (c ->> 'check') IS DISTINCT FROM before AND (a ->> 'err' IS NOT NULL OR (a ->> 'check') IS NOT DISTINCT FROM before) THEN
        RETURN ok(true, cls || ': ' || descr);
    END IF;
    RETURN ok(false, cls || ': ' || descr) || E'\n' ||
           diag(CASE WHEN (c ->> 'check') IS NOT DISTINCT FROM before
                     THEN '    the control changed nothing either: ' || pg_temp.summary(c)
                     ELSE '    DAMAGE: before ' || before || ', after ' || coalesce(a ->> 'check', 'NULL') END);
END $$;
-- the change in this transaction's statistics counters of the relations
-- given (and their indexes, and their partitions' ones) while a statement
-- runs (what any role can read with pg_stat_get_xact_*)
CREATE FUNCTION pg_temp.xact_delta(sql text, counter text, rels regclass[] DEFAULT '{demo.loans}')
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE b bigint; a bigint; q text;
BEGIN
    q := format('WITH t AS (SELECT r AS relid FROM unnest($1) r
                            UNION SELECT t.relid FROM unnest($1) r, pg_partition_tree(r) t)
                 SELECT coalesce(sum(pg_stat_get_xact_%s(c.oid)), 0) FROM pg_class c
                  WHERE c.oid IN (SELECT relid FROM t UNION SELECT indexrelid FROM pg_index WHERE indrelid IN (SELECT relid FROM t))',
                counter);
    EXECUTE q INTO b USING rels;
    EXECUTE sql;
    EXECUTE q INTO a USING rels;
    RETURN a - b;
END $$;
-- the counters a statement run as a staff role moved, read by the caller
CREATE FUNCTION pg_temp.xact_delta_as(sql text, counter text, rels regclass[], runner text) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE b bigint; a bigint; q text;
BEGIN
    q := format('WITH t AS (SELECT r AS relid FROM unnest($1) r
                            UNION SELECT t.relid FROM unnest($1) r, pg_partition_tree(r) t)
                 SELECT sum(pg_stat_get_xact_%s(c.oid)) FROM pg_class c
                  WHERE c.oid IN (SELECT relid FROM t UNION SELECT indexrelid FROM pg_index WHERE indrelid IN (SELECT relid FROM t))',
                counter);
    EXECUTE q INTO b USING rels;
    EXECUTE format('SET LOCAL ROLE %I', runner);
    EXECUTE sql;
    EXECUTE 'RESET ROLE';
    EXECUTE q INTO a USING rels;
    RETURN a - b;
END $$;
-- Suites that tell rows kept identified from severed ones (attack_sameread2,
-- attack_writesplit) keep their ground truth in a view pg_temp.kept_truth
-- (rel text, id text, kept boolean): the closed rows a class does not read
-- the patron of, per relation, kept (still naming a patron) or severed.
-- What a door's output singles out: 'all' (every kept and every severed row
-- of rel came out: they read alike), 'none' (neither did), else 'split'
-- with the counts (kept rows treated unlike severed ones: a leak), or the
-- error.  Rows are read by their "id" key.
CREATE FUNCTION pg_temp.split_of(who text, rel text, stmts text[]) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    r jsonb := pg_temp.probe(who, stmts);
    tk int; ts int; nk int; ns int;
BEGIN
    IF r ->> 'err' IS NOT NULL THEN
        RETURN 'error ' || (r ->> 'err');
    END IF;
    SELECT count(*) FILTER (WHERE kept), count(*) FILTER (WHERE NOT kept) INTO tk, ts FROM pg_temp.kept_truth t WHERE t.rel = split_of.rel;
    SELECT count(DISTINCT t.id) FILTER (WHERE t.kept), count(DISTINCT t.id) FILTER (WHERE NOT t.kept) INTO nk, ns
      FROM jsonb_array_elements(r -> 'rows') e JOIN pg_temp.kept_truth t ON t.rel = split_of.rel AND t.id = e ->> 'id';
    RETURN CASE WHEN nk = tk AND ns = ts THEN 'all' WHEN nk = 0 AND ns = 0 THEN 'none'
                ELSE format('split: %s of %s kept, %s of %s severed', nk, tk, ns, ts) END;
END $$;

-- A door asked about one row at a time (%1$s is the row's id, which the
-- answer must not repeat): the answers (rows or error) for the first n kept
-- rows and the first n severed rows (n NULL: all of them).  'alike' when
-- both give the same set of answers, else the two sets (a leak).
CREATE FUNCTION pg_temp.per_row(who text, rel text, stmts text[], n int DEFAULT 3) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    ak text[]; asv text[];
BEGIN
    SELECT array_agg(DISTINCT a) INTO ak FROM (
        SELECT coalesce(r ->> 'err', '') || (r -> 'rows')::text AS a
          FROM (SELECT id FROM pg_temp.kept_truth k WHERE k.rel = per_row.rel AND kept ORDER BY id::int LIMIT n) t,
               pg_temp.probe(who, (SELECT array_agg(format(s, t.id) ORDER BY o) FROM unnest(stmts) WITH ORDINALITY u(s, o))) r) x;
    SELECT array_agg(DISTINCT a) INTO asv FROM (
        SELECT coalesce(r ->> 'err', '') || (r -> 'rows')::text AS a
          FROM (SELECT id FROM pg_temp.kept_truth k WHERE k.rel = per_row.rel AND NOT kept ORDER BY id::int LIMIT n) t,
               pg_temp.probe(who, (SELECT array_agg(format(s, t.id) ORDER BY o) FROM unnest(stmts) WITH ORDINALITY u(s, o))) r) x;
    RETURN CASE WHEN ak IS NOT DISTINCT FROM asv THEN 'alike'
                ELSE 'kept: ' || left(array_to_string(ak, ' | '), 200) || ' / severed: ' || left(array_to_string(asv, ' | '), 200) END;
END $$;

\t on
\a
SELECT pg_temp.refresh_secrets() > 0 AS secrets_found;
SELECT pg_temp.snapshot_patrons();
