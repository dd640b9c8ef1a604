-- A loan binding's further patron columns (more_patron_columns): a hold's
-- requestor (Evergreen's action.hold_request.requestor), a loan's proxy.
-- Each is cut wherever the patron column is: severed with the row (a return,
-- the backlog), masked for staff where the patron column is, and purged.
-- Every check has an operational control (a row that must keep its
-- requestor, a column that must still read). sever_backlog() and
-- purge_expired() are procedures, so this file runs outside a transaction
-- block and cleans up after itself.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pals_privacy;
SET datestyle = ISO;
SET timezone = UTC;
\set VERBOSITY terse

SELECT plan(26);
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
CALL pals_privacy.sever_backlog();
SELECT is(pg_temp.state('mp.holds'), '1:-/- 2:-/- 3:-/- 4:3/3 5:4/7',
          'backlog: requestors cut with the patron; the last borrower and the open hold keep theirs (control)');
SET ROLE regress_mp_staff;
SELECT is((SELECT string_agg(id || ':' || coalesce(usr::text, '-') || '/' || coalesce(requestor::text, '-'), ' ' ORDER BY id) FROM mp.holds),
          '1:-/- 2:-/- 3:-/- 4:3/3 5:4/7', 'staff, after the backlog: the last borrower''s requestor reads (control)');
RESET ROLE;

-- 4. a return severs the requestor: the previous last borrower loses both
UPDATE mp.holds SET fulfillment_time = '2024-04-05' WHERE id = 5;
INSERT INTO mp.holds VALUES (6, 5, 8, NULL, 101, '2024-04-10', '2024-04-12', NULL, 'the next fill of 101');
SELECT is(pg_temp.state('mp.holds'), '1:-/- 2:-/- 3:-/- 4:3/3 5:-/- 6:5/8',
          'return: the earlier hold of 101 loses patron and requestor; the new last borrower keeps both (control)');
INSERT INTO mp.pholds VALUES (1, 2, 2, 200, '2024-01-01', '2024-01-05'), (2, 3, 9, 200, '2024-02-01', '2024-02-05');
SELECT is(pg_temp.state('mp.pholds'), '1:0/0 2:3/9', 'placeholder: the requestor is re-pointed to the placeholder too');

-- 5. purge: a patron named only as a requestor loses it; the patron's own rows lose every patron column
INSERT INTO mp.holds VALUES (7, 2, 9, NULL, 102, '2024-05-01', NULL, NULL, 'open: placed by 9 for 2'),
                            (8, 9, 9, NULL, 103, '2024-05-01', '2024-05-03', NULL, 'last borrower of 103: 9'),
                            (9, 3, 4, NULL, 104, '2024-05-01', NULL, NULL, 'open: placed by 4 for 3');
UPDATE mp.patrons SET expires = current_date - 1000 WHERE id = 9;
CALL pals_privacy.purge_expired();
SELECT is((SELECT count(*) FROM mp.holds WHERE 9 IN (usr, requestor)) + (SELECT count(*) FROM mp.pholds WHERE 9 IN (usr, requestor)),
          0::bigint, 'purge: no row names the purged patron in any patron column');
SELECT is(pg_temp.state('mp.holds'), '1:-/- 2:-/- 3:-/- 4:3/3 5:-/- 6:5/8 7:2/- 8:-/- 9:3/4',
          'purge: the other patron''s hold keeps its patron; the purged patron''s own row is cut whole; others untouched (control)');
SELECT is(pg_temp.state('mp.pholds'), '1:0/0 2:3/0', 'purge with a placeholder: the requestor is re-pointed');

-- 6. a second binding as before, without the column (control: the row keeps its requestor)
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
