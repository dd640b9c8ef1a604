-- Severing does not swallow a cancel (issue 13, item 14): an error of the
-- row (a constraint, an ILS trigger that refuses) leaves the row pending and
-- the return goes through, but statement_timeout or a query cancel that
-- arrives while a row is being severed cancels the statement, as it would
-- without pals_privacy, and leaves nothing pending.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pals_privacy;

BEGIN;
SELECT plan(7);

CREATE SCHEMA sc;
CREATE TABLE sc.patrons (id bigint PRIMARY KEY, expires date NOT NULL DEFAULT 'infinity');
INSERT INTO sc.patrons (id) SELECT generate_series(1, 4);
SELECT pals_privacy.bind_patrons('sc.patrons', 'id', 'expires');
CREATE TABLE sc.loans (id int PRIMARY KEY, patron_id bigint, item_id int NOT NULL, returned timestamptz);
-- an ILS trigger that is slow, or refuses, when a loan's patron changes
-- (the severing update), as the session asks it to
CREATE FUNCTION sc.ils_trigger() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.patron_id IS DISTINCT FROM NEW.patron_id THEN
        IF current_setting('sc.mode', true) = 'slow' THEN
            PERFORM pg_sleep(30);
        ELSIF current_setting('sc.mode', true) = 'refuse' THEN
            RAISE EXCEPTION 'ILS: the patron of a loan cannot change';
        END IF;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER ils BEFORE UPDATE ON sc.loans FOR EACH ROW EXECUTE FUNCTION sc.ils_trigger();
SELECT pals_privacy.bind_loans('sc.loans', 'patron_id', 'item_id', '{returned}');
INSERT INTO sc.loans VALUES (1, 1, 100, NULL), (2, 2, 100, NULL), (3, 3, 200, NULL), (4, 4, 200, NULL);
UPDATE sc.loans SET returned = now() WHERE id IN (1, 3);    -- 1 and 3 are each item's last borrower

-- the statement's result, or its SQLSTATE (query_canceled included, which
-- WHEN OTHERS does not catch)
CREATE FUNCTION pg_temp.try(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE q;
    RETURN 'ok';
EXCEPTION
    WHEN query_canceled THEN RETURN 'ERROR ' || SQLSTATE;
    WHEN OTHERS THEN RETURN 'ERROR ' || SQLSTATE;
END $$;

-- statement_timeout while severing row 1: the return of row 2 is cancelled
SET LOCAL sc.mode = 'slow';
SET LOCAL statement_timeout = '300ms';
SELECT is(pg_temp.try($$UPDATE sc.loans SET returned = now() WHERE id = 2$$), 'ERROR 57014',
    'statement_timeout during severing cancels the return');
RESET statement_timeout;
SELECT is((SELECT count(*) FROM pals_privacy.sever_pending WHERE binding = 'sc.loans'::regclass), 0::bigint,
    'the cancelled sever is not recorded as pending');
SELECT is((SELECT string_agg(id || ':' || coalesce(patron_id::text, '-') || ':' || (returned IS NOT NULL), ' ' ORDER BY id)
             FROM sc.loans), '1:1:true 2:2:false 3:3:true 4:4:false',
    'nothing of the cancelled return remains');

-- a cancel from another session (pg_cancel_backend) is the same error: sent
-- to ourselves from within the trigger, it arrives while severing row 3
CREATE OR REPLACE FUNCTION sc.ils_trigger() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.patron_id IS DISTINCT FROM NEW.patron_id AND current_setting('sc.mode', true) = 'cancel' THEN
        PERFORM pg_cancel_backend(pg_backend_pid());
        PERFORM pg_sleep(30);
    END IF;
    RETURN NEW;
END $$;
SET LOCAL sc.mode = 'cancel';
SELECT is(pg_temp.try($$UPDATE sc.loans SET returned = now() WHERE id = 4$$), 'ERROR 57014',
    'a query cancel during severing cancels the return');
SELECT is((SELECT count(*) FROM pals_privacy.sever_pending WHERE binding = 'sc.loans'::regclass), 0::bigint,
    'the cancelled sever is not recorded as pending');

-- an error of the row still leaves it pending, and the return goes through
CREATE OR REPLACE FUNCTION sc.ils_trigger() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.patron_id IS DISTINCT FROM NEW.patron_id AND current_setting('sc.mode', true) = 'refuse' THEN
        RAISE EXCEPTION 'ILS: the patron of a loan cannot change';
    END IF;
    RETURN NEW;
END $$;
SET LOCAL sc.mode = 'refuse';
SELECT is(pg_temp.try($$UPDATE sc.loans SET returned = now() WHERE id = 2$$), 'ok',
    'an ILS trigger that refuses: the return still succeeds');
SELECT is((SELECT reason FROM pals_privacy.sever_pending WHERE binding = 'sc.loans'::regclass),
    'ILS: the patron of a loan cannot change', 'and the row is pending with the ILS error');

SELECT * FROM finish();
ROLLBACK;
