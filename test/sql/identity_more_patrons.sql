-- A loan binding's further patron columns (more_patron_columns): a hold's
-- requestor (Evergreen's action.hold_request.requestor), a loan's proxy.
-- Each is cut wherever the patron column is: severed with the row (a return,
-- the backlog), masked for staff where the patron column is, and purged.
-- A cut fires the ILS's triggers UPDATE OF the column (one that keeps a
-- derived copy of it sees the change), leaves the foreign-key check of a
-- guarded placeholder out, as for the patron column; a patron named only
-- there on an open row is not purged; my_data() lists such rows.
-- Every check has an operational control (a row that must keep its
-- requestor, a column that must still read). sever_backlog() and
-- purge_expired() are procedures, so this file runs outside a transaction
-- block and cleans up after itself.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pals_privacy;
SET datestyle = ISO;
SET timezone = UTC;
\set VERBOSITY terse

SELECT plan(46);
CREATE TEMP TABLE mp_mark AS SELECT coalesce(max(id), 0) AS run FROM pals_privacy.maintenance_runs;

CREATE SCHEMA mp;
CREATE TABLE mp.patrons (id int PRIMARY KEY, expires date NOT NULL DEFAULT 'infinity');
INSERT INTO mp.patrons (id) SELECT generate_series(0, 9);
-- holds severed to NULL; holds severed to a placeholder, whose requestor is NOT NULL (as Evergreen's)
CREATE TABLE mp.holds (id int PRIMARY KEY, usr int REFERENCES mp.patrons, requestor int REFERENCES mp.patrons,
                       proxy int, copy int NOT NULL, request_time timestamptz NOT NULL,
                       fulfillment_time timestamptz, cancel_time timestamptz, note text);
CREATE TABLE mp.pholds (id int PRIMARY KEY, usr int NOT NULL REFERENCES mp.patrons, requestor int NOT NULL REFERENCES mp.patrons,
                        copy int NOT NULL, request_time timestamptz NOT NULL, fulfillment_time timestamptz);
CREATE INDEX ON mp.holds (usr);
CREATE INDEX ON mp.holds (copy);
CREATE INDEX ON mp.pholds (usr);
CREATE INDEX ON mp.pholds (copy);
-- history from before binding (the backlog's)
INSERT INTO mp.holds VALUES
    (1, 1, 1, NULL, 100, '2024-01-01', '2024-01-05', NULL, 'backlog: severed'),
    (2, 2, 5, NULL, 100, '2024-02-01', '2024-02-05', NULL, 'backlog: placed by 5 for 2, severed'),
    (3, NULL, 6, NULL, 100, '2024-02-10', '2024-02-12', NULL, 'backlog: patron cut by an older system, requestor left'),
    (4, 3, 3, NULL, 100, '2024-03-01', '2024-03-05', NULL, 'backlog: last borrower of 100'),
    (5, 4, 7, NULL, 101, '2024-03-01', NULL, NULL, 'open: placed by 7 for 4');

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
CREATE FUNCTION pg_temp.state(rel regclass) RETURNS text LANGUAGE plpgsql AS $$
DECLARE s text;
BEGIN
    EXECUTE format('SELECT string_agg(id || '':'' || coalesce(usr::text, ''-'') || ''/'' || coalesce(requestor::text, ''-''), '' '' ORDER BY id) FROM %s', rel)
        INTO s;
    RETURN s;
END $$;

SELECT lives_ok($$SELECT pals_privacy.bind_patrons('mp.patrons', 'id', 'expires')$$, 'patrons bound');

-- the ILS keeps a derived copy of each hold's requestor by a trigger UPDATE OF
-- requestor (and counts the firings of one UPDATE OF note: a control, the
-- sever does not set that column)
CREATE TABLE mp.hold_requestors (hold int PRIMARY KEY, requestor int);
CREATE TABLE mp.fired (rel text, trig text, n int NOT NULL DEFAULT 0, PRIMARY KEY (rel, trig));
INSERT INTO mp.fired VALUES ('holds', 'requestor'), ('holds', 'note'), ('pholds', 'requestor');
INSERT INTO mp.hold_requestors SELECT id, requestor FROM mp.holds;
CREATE FUNCTION mp.keep_requestor() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'holds' THEN
        INSERT INTO mp.hold_requestors VALUES (NEW.id, NEW.requestor)
            ON CONFLICT (hold) DO UPDATE SET requestor = EXCLUDED.requestor;
    END IF;
    UPDATE mp.fired SET n = n + 1 WHERE rel = TG_TABLE_NAME AND trig = TG_ARGV[0];
    RETURN NULL;
END $$;
CREATE TRIGGER keep_requestor AFTER INSERT OR UPDATE OF requestor ON mp.holds
    FOR EACH ROW EXECUTE FUNCTION mp.keep_requestor('requestor');
CREATE TRIGGER note_changed AFTER UPDATE OF note ON mp.holds
    FOR EACH ROW EXECUTE FUNCTION mp.keep_requestor('note');
CREATE TRIGGER keep_requestor AFTER UPDATE OF requestor ON mp.pholds
    FOR EACH ROW EXECUTE FUNCTION mp.keep_requestor('requestor');
CREATE FUNCTION pg_temp.copy_differs() RETURNS bigint LANGUAGE sql AS $$
    SELECT count(*) FROM mp.holds h FULL JOIN mp.hold_requestors r ON r.hold = h.id
     WHERE r.requestor IS DISTINCT FROM h.requestor
$$;
CREATE FUNCTION pg_temp.fired(r text, t text) RETURNS int LANGUAGE sql AS $$
    SELECT n FROM mp.fired WHERE rel = r AND trig = t
$$;
-- a placeholder row's xmax shows whether a statement took a lock on it (a
-- foreign-key check's KEY SHARE): each statement here is a transaction of its own
CREATE FUNCTION pg_temp.xmax_of(patron int) RETURNS text LANGUAGE sql AS
    $$SELECT xmax::text FROM mp.patrons WHERE id = patron$$;

-- 1. validated at bind time
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_loans('mp.holds', 'usr', 'copy', '{fulfillment_time,cancel_time}',
        more_patron_columns => '{requester}')$$,
    '42703', 'bind_loans: column "requester" of relation "mp.holds" does not exist', 'a column the table does not have');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_loans('mp.holds', 'usr', 'copy', '{fulfillment_time,cancel_time}',
        more_patron_columns => '{note}')$$,
    '42804', 'bind_loans: column "note" of more_patron_columns has type text, but the patron column "usr" is integer',
    'a column of another type than the patron column');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_loans('mp.holds', 'usr', 'copy', '{fulfillment_time,cancel_time}',
        more_patron_columns => '{requestor,usr}')$$,
    '22023', 'bind_loans: column "usr" of more_patron_columns is already the patron, item, closed or settled column',
    'the patron column itself');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_loans('mp.holds', 'usr', 'copy', '{fulfillment_time,cancel_time}',
        more_patron_columns => '{copy}')$$,
    '22023', 'bind_loans: column "copy" of more_patron_columns is already the patron, item, closed or settled column',
    'the item column');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_loans('mp.holds', 'usr', 'copy', '{fulfillment_time,cancel_time}',
        more_patron_columns => '{requestor,requestor}')$$,
    '22023', 'bind_loans: more_patron_columns lists a column twice', 'a column listed twice');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_loans('mp.pholds', 'usr', 'copy', '{fulfillment_time}',
        sever_with => 'null', more_patron_columns => '{requestor}')$$,
    '22023', 'bind_loans: sever_with => ''null'' needs a nullable patron column, and "mp.pholds"."usr" is NOT NULL',
    'control: a NOT NULL patron column is refused with sever_with null as before');
ALTER TABLE mp.pholds ALTER usr DROP NOT NULL;
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_loans('mp.pholds', 'usr', 'copy', '{fulfillment_time}',
        sever_with => 'null', more_patron_columns => '{requestor}')$$,
    '22023', 'bind_loans: sever_with => ''null'' needs nullable more_patron_columns, and "mp.pholds"."requestor" is NOT NULL',
    'a NOT NULL requestor with sever_with null');
ALTER TABLE mp.pholds ALTER usr SET NOT NULL;
SELECT is((SELECT count(*) FROM pals_privacy.loan_binding), 0::bigint, 'none of these bound anything');

SELECT lives_ok($$SELECT pals_privacy.bind_loans('mp.holds', 'usr', 'copy', '{fulfillment_time,cancel_time}',
        more_patron_columns => '{requestor}', build_tracker => false)$$, 'holds bound with the requestor as a further patron column');
SELECT lives_ok($$SELECT pals_privacy.bind_loans('mp.pholds', 'usr', 'copy', '{fulfillment_time}', sever_with => 'patron:0',
        more_patron_columns => '{requestor}')$$, 'a NOT NULL requestor is bound with a placeholder');
SELECT is((SELECT settings -> 'more_patron_columns' FROM pals_privacy.bindings WHERE relation = 'mp.holds'::regclass),
          '["requestor"]'::jsonb, 'the bindings view shows it');

-- 2. staff, before the backlog: the requestor of a closed row that is not its
--    item's last borrower is masked where the patron is
CREATE ROLE regress_mp_staff;
CREATE ROLE regress_mp_aud;
SELECT pals_privacy.classify_role('regress_mp_staff', 'staff');
SELECT pals_privacy.classify_role('regress_mp_aud', 'auditor');
GRANT USAGE ON SCHEMA mp TO regress_mp_staff, regress_mp_aud;
GRANT SELECT ON ALL TABLES IN SCHEMA mp TO regress_mp_staff, regress_mp_aud;
SET ROLE regress_mp_staff;
SELECT is((SELECT string_agg(id || ':' || coalesce(usr::text, '-') || '/' || coalesce(requestor::text, '-'), ' ' ORDER BY id) FROM mp.holds),
          '1:-/- 2:-/- 3:-/- 4:-/- 5:4/7',
          'staff: the requestor of closed rows masked with the patron (the untracked last borrower too); the open hold''s reads (control)');
SELECT is((SELECT array_agg(id ORDER BY id) FROM mp.holds WHERE requestor IN (1, 5, 6)), NULL::int[],
          'staff: a WHERE on the requestor finds no hidden row');
SELECT is((SELECT array_agg(id ORDER BY id) FROM mp.holds WHERE requestor IN (3, 7)), '{5}'::int[],
          'staff: a WHERE on the requestor finds the rows it may read (control)');
RESET ROLE;
SET ROLE regress_mp_aud;
SELECT is((SELECT count(requestor) + count(usr) FROM mp.holds), 0::bigint, 'auditor: no requestor reads, like the patron');
RESET ROLE;

-- 3. the backlog severs the requestor with the row, and a row whose only patron is its requestor
-- (placeholder holds: history written while the severing trigger was off, for the backlog)
ALTER TABLE mp.pholds DISABLE TRIGGER pals_privacy_sever;
INSERT INTO mp.pholds VALUES (11, 1, 5, 201, '2023-01-01', '2023-01-05'), (12, 6, 6, 201, '2023-02-01', '2023-02-05');
ALTER TABLE mp.pholds ENABLE TRIGGER pals_privacy_sever;
SELECT pg_temp.xmax_of(0) AS before \gset
CALL pals_privacy.sever_backlog();
SELECT is(pg_temp.state('mp.holds'), '1:-/- 2:-/- 3:-/- 4:3/3 5:4/7',
          'backlog: requestors cut with the patron; the last borrower and the open hold keep theirs (control)');
SELECT is(pg_temp.copy_differs(), 0::bigint, 'backlog: the ILS''s trigger UPDATE OF requestor kept its copy of the requestor');
SELECT is(pg_temp.fired('holds', 'note'), 0, '... and one UPDATE OF note did not fire (control: only the columns cut are set)');
SELECT is(pg_temp.state('mp.pholds'), '11:0/0 12:6/6', 'backlog, placeholder: patron and requestor re-pointed; the last borrower keeps both (control)');
SELECT is(pg_temp.xmax_of(0), :'before', 'backlog: without locking the placeholder row (neither foreign-key check ran)');
SELECT is(pg_temp.fired('pholds', 'requestor'), 1, 'backlog, placeholder: the trigger UPDATE OF requestor fired for the row');
SET ROLE regress_mp_staff;
SELECT is((SELECT string_agg(id || ':' || coalesce(usr::text, '-') || '/' || coalesce(requestor::text, '-'), ' ' ORDER BY id) FROM mp.holds),
          '1:-/- 2:-/- 3:-/- 4:3/3 5:4/7', 'staff, after the backlog: the last borrower''s requestor reads (control)');
RESET ROLE;

-- 4. a return severs the requestor: the previous last borrower loses both
UPDATE mp.holds SET fulfillment_time = '2024-04-05' WHERE id = 5;
INSERT INTO mp.holds VALUES (6, 5, 8, NULL, 101, '2024-04-10', '2024-04-12', NULL, 'the next fill of 101');
SELECT is(pg_temp.state('mp.holds'), '1:-/- 2:-/- 3:-/- 4:3/3 5:-/- 6:5/8',
          'return: the earlier hold of 101 loses patron and requestor; the new last borrower keeps both (control)');
SELECT is(pg_temp.copy_differs(), 0::bigint, 'return: the ILS''s trigger UPDATE OF requestor saw the sever (its copy of hold 5''s requestor is cut)');
SELECT is(pg_temp.fired('holds', 'note'), 0, '... and one UPDATE OF note did not fire (control)');
INSERT INTO mp.pholds VALUES (1, 2, 2, 200, '2024-01-01', '2024-01-05');
SELECT pg_temp.xmax_of(0) AS before \gset
INSERT INTO mp.pholds VALUES (2, 3, 9, 200, '2024-02-01', '2024-02-05');
SELECT is(pg_temp.state('mp.pholds'), '1:0/0 2:3/9 11:0/0 12:6/6', 'placeholder: the requestor is re-pointed to the placeholder too');
SELECT is(pg_temp.xmax_of(0), :'before', 'placeholder: the return did not lock the placeholder row (the requestor''s foreign-key check left out with the patron''s)');
SELECT is(pg_temp.fired('pholds', 'requestor'), 2, '... and the trigger UPDATE OF requestor fired');
-- control: with the guard off, the checks (and their lock) are back
ALTER TABLE mp.patrons DISABLE TRIGGER pals_privacy_placeholder_guard;
INSERT INTO mp.pholds VALUES (3, 4, 4, 202, '2024-01-01', '2024-01-05');
SELECT pg_temp.xmax_of(0) AS before \gset
INSERT INTO mp.pholds VALUES (4, 5, 5, 202, '2024-02-01', '2024-02-05');
ALTER TABLE mp.patrons ENABLE ALWAYS TRIGGER pals_privacy_placeholder_guard;
SELECT isnt(pg_temp.xmax_of(0), :'before', 'control: the guard disabled, the same return locks the placeholder row');
SELECT is(pg_temp.state('mp.pholds'), '1:0/0 2:3/9 3:0/0 4:5/5 11:0/0 12:6/6', '... and severs as before');

-- 5. purge: a patron named as the requestor of an open hold (placed for
-- someone else) has an open hold, and is kept; once it is closed, a patron
-- named only as a requestor loses it; the patron's own rows lose every patron column
INSERT INTO mp.holds VALUES (7, 2, 9, NULL, 102, '2024-05-01', NULL, NULL, 'open: placed by 9 for 2'),
                            (8, 9, 9, NULL, 103, '2024-05-01', '2024-05-03', NULL, 'last borrower of 103: 9'),
                            (9, 3, 4, NULL, 104, '2024-05-01', NULL, NULL, 'open: placed by 4 for 3');
UPDATE mp.patrons SET expires = current_date - 1000 WHERE id IN (8, 9);
CALL pals_privacy.purge_expired() \gset
SELECT is((:'result'::jsonb -> 'skipped' ->> 'open_loan')::int, 1, 'purge: the requestor of an open hold is kept, counted with open loans and holds');
SELECT is(:'result'::jsonb ->> 'purged', '1', '... the other expired patron is purged (control)');
SELECT is((SELECT array_agg(id ORDER BY id) FROM mp.patrons WHERE id IN (8, 9)), '{9}'::int[], '... patron 9 is still there');
SELECT is(pg_temp.state('mp.holds'), '1:-/- 2:-/- 3:-/- 4:3/3 5:-/- 6:5/- 7:2/9 8:9/9 9:3/4',
          '... and so is every row naming them; patron 8, named only as the requestor of a closed hold, loses it there');
SELECT is((SELECT value FROM pals_privacy.compliance_report() WHERE section = 'expired_patrons' AND measure = 'kept_open_loan_or_hold'), 1::numeric,
          'the compliance report counts them the same way');
UPDATE mp.holds SET fulfillment_time = '2024-05-04' WHERE id = 7;
CALL pals_privacy.purge_expired() \gset
SELECT is(:'result'::jsonb ->> 'purged', '1', 'purge, once the hold is closed: the requestor is purged');
SELECT is((SELECT count(*) FROM mp.holds WHERE 9 IN (usr, requestor)) + (SELECT count(*) FROM mp.pholds WHERE 9 IN (usr, requestor)),
          0::bigint, 'purge: no row names the purged patron in any patron column');
SELECT is(pg_temp.state('mp.holds'), '1:-/- 2:-/- 3:-/- 4:3/3 5:-/- 6:5/- 7:2/- 8:-/- 9:3/4',
          'purge: the other patron''s hold keeps its patron; the purged patron''s own row is cut whole; others untouched (control)');
SELECT is(pg_temp.copy_differs(), 0::bigint, 'purge: the ILS''s trigger UPDATE OF requestor kept its copy');
SELECT is(pg_temp.state('mp.pholds'), '1:0/0 2:3/0 3:0/0 4:5/5 11:0/0 12:6/6', 'purge with a placeholder: the requestor is re-pointed');

-- 6. my_data(): a patron named only as the requestor of a row gets it, under
-- that column, without the other patron's id; a row naming them in both
-- columns is listed once, under the patron column
CREATE FUNCTION pg_temp.my_rows(patron text, rel text) RETURNS text LANGUAGE sql AS $$
    SELECT string_agg(format('%s:%s', r ->> 'patron_column',
                             (SELECT string_agg(format('%s(%s/%s)', x ->> 'id', coalesce(x ->> 'usr', 'hidden'),
                                                       coalesce(x ->> 'requestor', 'hidden')), ',' ORDER BY (x ->> 'id')::int)
                                FROM jsonb_array_elements(r -> 'rows') x)), ' ' ORDER BY r ->> 'patron_column')
      FROM jsonb_array_elements(pals_privacy._my_data_of(patron) -> 'relations') r
     WHERE r ->> 'relation' = rel
$$;
SELECT is(pg_temp.my_rows('4', 'mp.holds'), 'requestor:9(hidden/4) usr:',
          'my_data: the hold patron 4 placed for 3, under requestor, without 3''s id');
SELECT is(pg_temp.my_rows('3', 'mp.holds'), 'requestor: usr:4(3/3),9(3/4)',
          'my_data: the holds of patron 3 under usr, hold 4 (placed by 3 for 3) not again under requestor (control)');


-- 7. a second binding as before, without the column (control: the row keeps its requestor)
CREATE TABLE mp.plain (LIKE mp.holds INCLUDING ALL);
SELECT lives_ok($$SELECT pals_privacy.bind_loans('mp.plain', 'usr', 'copy', '{fulfillment_time,cancel_time}')$$,
                'a binding without more_patron_columns');
INSERT INTO mp.plain VALUES (1, 1, 2, NULL, 300, '2024-01-01', '2024-01-05', NULL, NULL),
                            (2, 3, 3, NULL, 300, '2024-02-01', '2024-02-05', NULL, NULL);
SELECT is(pg_temp.state('mp.plain'), '1:-/2 2:3/3', 'without more_patron_columns only the patron column is severed');

-- clean up: nothing stays bound
DO $$ BEGIN
    PERFORM pals_privacy.unbind(t::regclass) FROM unnest(ARRAY['mp.holds', 'mp.pholds', 'mp.plain', 'mp.patrons']) t;
END $$;
DELETE FROM pals_privacy.maintenance_runs WHERE id > (SELECT run FROM mp_mark);
SELECT is((SELECT count(*) FROM pals_privacy.bindings), 0::bigint, 'nothing is bound any more');
SELECT * FROM finish();
DROP SCHEMA mp CASCADE;
DROP ROLE regress_mp_staff, regress_mp_aud;
