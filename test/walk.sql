-- test/walk.sql: the whole-schema walk (issue 14), shared by identity_walk, koha_shape and
-- evergreen_shape (\i test/walk.sql, output off).  A role reads every row of every relation,
-- and filters every column for each of Z's needles; then three questions are asked of what it
-- read: does it hold a needle (needle_hits), does a filter match one (filter_hits), does it tie
-- a former borrower to an item (ties).  check_all(phase) asks them for each role.
--
-- The including file creates first, as the superuser:
--   pg_temp.walk_relations (rel regclass)            the relations walked
--   pg_temp.walk_columns (role text, rel regclass, col text)
--                                                    columns holding a patron ('p') or an item ('i')
--   pg_temp.walk_keys (src regclass, src_cols text[], dst regclass, dst_cols text[])
--                                                    keys between relations (rows they join)
--   pg_temp.needles (what text, needle text, whole boolean)
--                                                    Z's needles (whole: the whole value)
--   pg_temp.former (patron text, item text, name text, barcode text)
--                                                    former borrowers, kept current by the file
-- and fills, after this file, the two tables it creates:
--   pg_temp.walk_logins (who, card, pin)             a patron-class role logs in as W for its walk
--   pg_temp.walk_check (roles, reads, matches, ties) the roles check_all walks, in order, and what
--                                                    its checks say (after "<phase>: <role> ")
-- The patron table's own id column is no needle's hit (every patron has an id there).

CREATE TABLE pg_temp.walk_logins (who text PRIMARY KEY, card text, pin text);
CREATE TABLE pg_temp.walk_check (roles text[], reads text, matches text, ties text);

-- Every row of every relation, read as a role (logged in first, if walk_logins says so), in a
-- subtransaction rolled back; a relation the role may not read is skipped (it reads nothing
-- there), the text of any other error is read as a row.
CREATE TABLE pg_temp.seen (who text, rel regclass, r jsonb);
CREATE TABLE pg_temp.filtered (who text, rel regclass, col text, what text, n bigint);
CREATE FUNCTION pg_temp.walk(who text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    rels regclass[] := ARRAY(SELECT rel FROM pg_temp.walk_relations ORDER BY rel::text);
    -- the filters, built here (the role reads none of these tables): per
    -- relation, per column and needle
    conds jsonb := (SELECT jsonb_object_agg(rel::text, l) FROM (
                        SELECT r.rel, jsonb_agg(jsonb_build_array(a.attname, nd.what,
                                   format(CASE WHEN nd.whole THEN 'x.%1$I::text = %2$L' ELSE 'strpos(x.%1$I::text, %2$L) > 0' END,
                                          a.attname, nd.needle))) AS l
                          FROM pg_temp.walk_relations r JOIN pg_attribute a ON a.attrelid = r.rel AND a.attnum > 0 AND NOT a.attisdropped
                          CROSS JOIN pg_temp.needles nd
                         WHERE NOT (nd.whole AND (r.rel, a.attname) IN (SELECT relation, id_column FROM pals_privacy.patron_binding))
                         GROUP BY r.rel) x);
    logs_in pg_temp.walk_logins := (SELECT l FROM pg_temp.walk_logins l WHERE l.who = walk.who);
    rel regclass;
    cond jsonb;
    rows jsonb := '{}';
    counts jsonb := '[]';
    got jsonb;
    n bigint;
BEGIN
    DELETE FROM pg_temp.seen s WHERE s.who = walk.who;
    DELETE FROM pg_temp.filtered f WHERE f.who = walk.who;
    BEGIN
        EXECUTE format('SET LOCAL ROLE %I', who);
        IF logs_in.who IS NOT NULL THEN
            PERFORM pals_privacy.login(logs_in.card, logs_in.pin);
        END IF;
        FOREACH rel IN ARRAY rels LOOP
            BEGIN
                EXECUTE format('SELECT coalesce(jsonb_agg(to_jsonb(x)), ''[]'') FROM %s x', rel) INTO got;
                rows := rows || jsonb_build_object(rel::text, got);
                -- one filter over every column and needle; drilled into only when it matches
                EXECUTE format('SELECT count(*) FROM %s x WHERE %s', rel,
                               (SELECT string_agg(e ->> 2, ' OR ') FROM jsonb_array_elements(conds -> rel::text) e))
                    INTO n;
                IF n > 0 THEN
                    FOR cond IN SELECT e FROM jsonb_array_elements(conds -> rel::text) e LOOP
                        EXECUTE format($f$SELECT count(*) FROM %s x WHERE %s$f$, rel, cond ->> 2) INTO n;
                        IF n > 0 THEN
                            counts := counts || jsonb_build_array(jsonb_build_array(rel::text, cond ->> 0, cond ->> 1, n));
                        END IF;
                    END LOOP;
                END IF;
            EXCEPTION WHEN insufficient_privilege THEN
                NULL;
            WHEN OTHERS THEN
                -- refused: what the error says is read too
                rows := rows || jsonb_build_object(rel::text, coalesce(rows -> rel::text, '[]')
                                || jsonb_build_array(jsonb_build_object('error', SQLERRM)));
            END;
        END LOOP;
        RAISE EXCEPTION 'pals_walk_rollback';
    EXCEPTION WHEN OTHERS THEN
        IF SQLERRM <> 'pals_walk_rollback' THEN
            RAISE;
        END IF;
    END;
    IF logs_in.who IS NOT NULL THEN
        PERFORM pals_privacy.logout();
    END IF;
    INSERT INTO pg_temp.seen SELECT who, k::regclass, e FROM jsonb_each(rows) j(k, v), jsonb_array_elements(j.v) e;
    INSERT INTO pg_temp.filtered SELECT who, (c ->> 0)::regclass, c ->> 1, c ->> 2, (c ->> 3)::bigint FROM jsonb_array_elements(counts) c;
END $$;

-- 1. the needles in what a role read
CREATE FUNCTION pg_temp.needle_hits(who text) RETURNS text LANGUAGE sql AS $$
    SELECT coalesce(string_agg(DISTINCT format('%s.%s (%s)', s.rel, e.key, nd.what), ', '), '')
      FROM pg_temp.seen s, jsonb_each_text(s.r) e, pg_temp.needles nd
     WHERE s.who = needle_hits.who
       AND CASE WHEN nd.whole THEN e.value = nd.needle ELSE strpos(e.value, nd.needle) > 0 END
       AND NOT (nd.what = 'id' AND (s.rel, e.key) IN (SELECT relation, id_column::text FROM pals_privacy.patron_binding))
$$;
-- 2. the needles through a filter
CREATE FUNCTION pg_temp.filter_hits(who text) RETURNS text LANGUAGE sql AS $$
    SELECT coalesce(string_agg(DISTINCT format('%s.%s (%s)', f.rel, f.col, f.what), ', '), '')
      FROM pg_temp.filtered f
     WHERE f.who = filter_hits.who
       AND NOT (f.what = 'id' AND (f.rel, f.col) IN (SELECT relation, id_column::text FROM pals_privacy.patron_binding))
$$;
-- 3. a former borrower tied to an item: in one row, in two rows joined by a key, or in one
-- text that names both
CREATE FUNCTION pg_temp.ties(who text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE found text;
BEGIN
    CREATE TEMP TABLE v ON COMMIT DROP AS
    SELECT row_number() OVER () AS rid, s.rel, s.r FROM pg_temp.seen s WHERE s.who = ties.who;
    -- the rows on each side of each key, with the key as one text
    CREATE TEMP TABLE key_rows ON COMMIT DROP AS
    SELECT k.k, 's'::text AS side, v.rid, (SELECT string_agg(v.r ->> c, '|' ORDER BY o) FROM unnest(k.src_cols) WITH ORDINALITY u(c, o)) AS key
      FROM (SELECT row_number() OVER () AS k, * FROM pg_temp.walk_keys) k JOIN v ON v.rel = k.src
    UNION ALL
    SELECT k.k, 'd', v.rid, (SELECT string_agg(v.r ->> c, '|' ORDER BY o) FROM unnest(k.dst_cols) WITH ORDINALITY u(c, o))
      FROM (SELECT row_number() OVER () AS k, * FROM pg_temp.walk_keys) k JOIN v ON v.rel = k.dst;
    DELETE FROM key_rows WHERE key IS NULL;
    -- the patrons and items each visible row names
    CREATE TEMP TABLE named ON COMMIT DROP AS
    SELECT v.rid, c.role, v.r ->> c.col AS val
      FROM v JOIN pg_temp.walk_columns c ON c.rel = v.rel WHERE v.r ->> c.col IS NOT NULL;
    ANALYZE v, key_rows, named;
    WITH one AS (
        SELECT format('%s row', v.rel) AS how
          FROM named p JOIN named i ON i.rid = p.rid AND i.role = 'i'
          JOIN pg_temp.former f ON f.patron = p.val AND f.item = i.val
          JOIN v ON v.rid = p.rid
         WHERE p.role = 'p'
    ), joined AS (
        SELECT a.rid AS arid, b.rid AS brid
          FROM key_rows a JOIN key_rows b ON b.k = a.k AND b.side = 'd' AND b.key = a.key
         WHERE a.side = 's'
    ), two AS (
        SELECT format('%s JOIN %s', va.rel, vb.rel) AS how
          FROM joined j
          JOIN named p ON p.rid IN (j.arid, j.brid) AND p.role = 'p'
          JOIN named i ON i.rid IN (j.arid, j.brid) AND i.role = 'i'
          JOIN pg_temp.former f ON f.patron = p.val AND f.item = i.val
          JOIN v va ON va.rid = j.arid JOIN v vb ON vb.rid = j.brid
    ), said AS (
        SELECT format('%s text', v.rel) AS how
          FROM v, jsonb_each_text(v.r) e, pg_temp.former f
         WHERE length(e.value) > 20 AND strpos(e.value, f.barcode) > 0 AND strpos(e.value, f.name) > 0
    )
    SELECT coalesce(string_agg(DISTINCT how, ', '), '') INTO found
      FROM (SELECT how FROM one UNION SELECT how FROM two UNION SELECT how FROM said) x;
    DROP TABLE v, key_rows, named;
    RETURN found;
END $$;

-- Each role of walk_check walked and checked: after the sever the ties (the former borrower is
-- still a cardholder, whom staff read by name), after the purge everything.
CREATE FUNCTION pg_temp.check_all(phase text) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE who text; says pg_temp.walk_check := (SELECT c FROM pg_temp.walk_check c);
BEGIN
    FOREACH who IN ARRAY says.roles LOOP
        PERFORM pg_temp.walk(who);
        IF phase = 'after purge' THEN
            RETURN NEXT is(pg_temp.needle_hits(who), '', phase || ': ' || who || ' ' || says.reads);
            RETURN NEXT is(pg_temp.filter_hits(who), '', phase || ': ' || who || ' ' || says.matches);
        END IF;
        RETURN NEXT is(pg_temp.ties(who), '', phase || ': ' || who || ' ' || says.ties);
    END LOOP;
END $$;
