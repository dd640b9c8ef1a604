-- test/shape_readers.sql: how the ILS-shape suites (koha_shape, evergreen_shape, shelf_shape) read
-- and write as a role, shared (\i test/shape_readers.sql, as the superuser, output off).  Every
-- call runs in a subtransaction that is rolled back, so nothing a role does stays.
--
-- The including file fills, after this file:
--   pg_temp.reader_logins (who, card, pin)   a patron-class role logs in with this card and PIN
--                                           before it reads (and out after)

CREATE TABLE pg_temp.reader_logins (who text PRIMARY KEY, card text, pin text);

-- q(role, query): what a role reads, as jsonb rows; an error is returned as
-- {"error": "SQLSTATE message"}
CREATE FUNCTION pg_temp.q(who text, query text) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE r jsonb; l record;
BEGIN
    -- (read before SET ROLE: the role may not read this session's tables)
    SELECT * INTO l FROM pg_temp.reader_logins WHERE reader_logins.who = q.who;
    BEGIN
        EXECUTE format('SET LOCAL ROLE %I', who);
        IF l.who IS NOT NULL THEN
            PERFORM pals_privacy.login(l.card, l.pin);
        END IF;
        EXECUTE format('SELECT coalesce(jsonb_agg(to_jsonb(x)), ''[]'') FROM (%s) x', query) INTO r;
        RAISE EXCEPTION 'reader_rollback';
    EXCEPTION WHEN OTHERS THEN
        IF SQLERRM <> 'reader_rollback' THEN
            r := jsonb_build_object('error', SQLSTATE || ' ' || SQLERRM);
        END IF;
    END;
    IF l.who IS NOT NULL THEN
        PERFORM pals_privacy.logout();
    END IF;
    RETURN r;
END $$;

-- v(role, query): the one value a one-column, one-row query reads, as text
CREATE FUNCTION pg_temp.v(who text, query text) RETURNS text LANGUAGE sql AS $$
    SELECT CASE WHEN j ? 'error' THEN j ->> 'error' ELSE (SELECT value FROM jsonb_each_text(j -> 0) LIMIT 1) END
      FROM pg_temp.q(who, query) j
$$;

-- x(role, statement): run a statement as a role: what it returns (RETURNING rows, as jsonb), or
-- the number of rows it changed, or the error with its DETAIL
CREATE FUNCTION pg_temp.x(who text, stmt text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE r text; n bigint; d text; j jsonb;
BEGIN
    BEGIN
        EXECUTE format('SET LOCAL ROLE %I', who);
        IF stmt ~* 'returning' THEN
            EXECUTE format('WITH w AS (%s) SELECT coalesce(jsonb_agg(to_jsonb(w)), ''[]'') FROM w', stmt) INTO j;
            r := j::text;
        ELSE
            EXECUTE stmt;
            GET DIAGNOSTICS n = ROW_COUNT;
            r := n::text;
        END IF;
        RAISE EXCEPTION 'reader_rollback';
    EXCEPTION WHEN OTHERS THEN
        IF SQLERRM <> 'reader_rollback' THEN
            GET STACKED DIAGNOSTICS d = PG_EXCEPTION_DETAIL;
            r := SQLSTATE || ' ' || SQLERRM || coalesce(' DETAIL: ' || nullif(d, ''), '');
        END IF;
    END;
    RETURN r;
END $$;

-- w(writer, statement, reader, query): in one transaction, a statement as one role (NULL: the
-- superuser), then what another reads, as jsonb rows (or the error)
CREATE FUNCTION pg_temp.w(writer text, stmt text, reader text, query text) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE r jsonb;
BEGIN
    BEGIN
        IF writer IS NOT NULL THEN
            EXECUTE format('SET LOCAL ROLE %I', writer);
        END IF;
        EXECUTE stmt;
        EXECUTE format('SET LOCAL ROLE %I', reader);
        EXECUTE format('SELECT coalesce(jsonb_agg(to_jsonb(x)), ''[]'') FROM (%s) x', query) INTO r;
        RAISE EXCEPTION 'reader_rollback';
    EXCEPTION WHEN OTHERS THEN
        IF SQLERRM <> 'reader_rollback' THEN
            r := jsonb_build_object('error', SQLSTATE || ' ' || SQLERRM);
        END IF;
    END;
    RETURN r;
END $$;

-- estimate(role, query): the planner's row estimate of a query, as a role
CREATE FUNCTION pg_temp.estimate(who text, query text) RETURNS numeric LANGUAGE plpgsql AS $$
DECLARE j json;
BEGIN
    BEGIN
        EXECUTE format('SET LOCAL ROLE %I', who);
        EXECUTE 'EXPLAIN (FORMAT JSON) ' || query INTO j;
        RAISE EXCEPTION 'reader_rollback';
    EXCEPTION WHEN OTHERS THEN
        IF SQLERRM <> 'reader_rollback' THEN
            RAISE;
        END IF;
    END;
    RETURN (j -> 0 -> 'Plan' ->> 'Plan Rows')::numeric;
END $$;

-- tied(role, query): how many (patron, item) pairs a role's query (its first two columns) returns
-- that tie a former borrower to an item (pg_temp.former, which the including file creates and
-- keeps current); -1 for an error
SET check_function_bodies = off;
CREATE FUNCTION pg_temp.tied(who text, query text) RETURNS bigint LANGUAGE sql AS $$
    SELECT CASE WHEN r ? 'error' THEN -1 ELSE
           (SELECT count(*) FROM jsonb_array_elements(r) e JOIN pg_temp.former f ON f.patron = e ->> 'patron' AND f.item = e ->> 'item') END
      FROM pg_temp.q(who, format('SELECT DISTINCT x.p::text AS patron, x.i::text AS item FROM (%s) x(p, i)', query)) r
$$;
RESET check_function_bodies;
