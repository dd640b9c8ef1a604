-- At the end of a purge batch, in its transaction: which statistics of the
-- bound relations must be sampled again, from what _statistics_lookup()
-- found before the batch.  Merged into acc, which maps a relation's oid to
-- {"w": true} (every statistic of it: ANALYZE without a column list) or
-- {"c": [columns]}; acc.all = true: every bound relation in full.
--  * Every relation involved is locked SHARE UPDATE EXCLUSIVE (as ANALYZE
--    locks it) until the batch commits: an ANALYZE running in another
--    session (autovacuum) is waited for, and none starts before the commit
--    (after it, the purged rows are dead and ANALYZE samples no dead row).
--    If a lock cannot be taken: acc.all.
--  * A relation whose statistics were sampled again since the lookup (its
--    _statistics_fingerprint changed: an ANALYZE in between, also one run by
--    a trigger in this transaction): in full, that sample was not looked up.
--  * A bound relation in which this transaction updated or deleted more
--    rows than stopped naming the patrons (or any row, if one of its
--    bindings has no patron column): something else changed rows the lookup
--    did not compare (a trigger of the ILS, a purge function, a foreign key
--    action, an attempt rolled back): it and the relations above and below
--    it in full.
--  * A relation the lookup did not compare ('big': the patrons' rows a
--    hundredth of it or more): a loan relation only updated (below) in its
--    patron columns, any other in full.
--  * A column value found in the statistics counts only if no row of that
--    relation holds it any more, looked up by an index on the column (a
--    severed loan keeps its id; a library code many patrons share stays); in
--    a column without one, among about 2,000 rows in random blocks
--    (TABLESAMPLE SYSTEM: a common value is there; a rare one not found
--    counts as gone: a scan of the whole table cost more than the ANALYZE
--    it saves).  In a loan relation the purge only updates (see
--    _statistics_lookup: no binding of it deletes, no trigger but ours, no
--    rule) and in which no row was deleted during the batch, only the
--    patron columns changed: values of its other columns all stay.  An
--    expression index's value the same way, by that index (but in full:
--    only ANALYZE without a column list computes index statistics);
--    extended statistics and columns the lookup cannot compare: in full or
--    the column, whenever a row named a patron.
CREATE OR REPLACE FUNCTION @extschema@._statistics_check(lookup jsonb, patrons text[], acc jsonb) RETURNS jsonb
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    r jsonb; s jsonb; h oid; c1 bigint; d1 bigint; kept jsonb := '[]'; idx boolean; nafter bigint; att text; gone boolean;
    whole oid[] := '{}'; now_fp jsonb;
BEGIN
    acc := coalesce(acc, '{}');
    IF lookup IS NULL OR acc ? 'all' THEN
        RETURN acc || '{"all": true}';
    END IF;
    BEGIN
        FOR h IN SELECT DISTINCT x::oid FROM jsonb_object_keys(lookup -> 'fp') x ORDER BY 1 LOOP
            EXECUTE format('LOCK TABLE ONLY %s IN SHARE UPDATE EXCLUSIVE MODE', h::regclass);
        END LOOP;
    EXCEPTION WHEN OTHERS THEN
        RETURN acc || '{"all": true}';
    END;
    now_fp := @extschema@._statistics_fingerprint(ARRAY(SELECT jsonb_object_keys(lookup -> 'fp')::oid));
    FOR h IN SELECT x::oid FROM jsonb_each_text(lookup -> 'fp') f(x, v) WHERE v IS DISTINCT FROM now_fp ->> x LOOP
        whole := whole || h;
    END LOOP;
    FOR r IN SELECT * FROM jsonb_array_elements(lookup -> 'rels') LOOP
        SELECT coalesce(sum(pg_stat_get_xact_tuples_updated(t::oid) + pg_stat_get_xact_tuples_deleted(t::oid)), 0),
               coalesce(sum(pg_stat_get_xact_tuples_deleted(t::oid)), 0)
          INTO c1, d1 FROM jsonb_array_elements_text(r -> 'tree') t;
        nafter := 0;
        IF r ->> 'pred' IS NOT NULL AND NOT (coalesce((r ->> 'big')::boolean, false) AND NOT (r ->> 'upd_only')::boolean) THEN
            EXECUTE format('SELECT count(*) FROM %s WHERE %s', (r ->> 'r')::oid::regclass, r ->> 'pred') INTO nafter USING patrons;
        END IF;
        IF c1 - (r ->> 'c0')::bigint > (r ->> 'nref')::bigint - nafter
           OR (NOT (r ->> 'ok')::boolean AND c1 > (r ->> 'c0')::bigint) THEN
            whole := whole || ARRAY(SELECT t::oid FROM jsonb_array_elements_text(r -> 'holders') t);
        ELSIF coalesce((r ->> 'big')::boolean, false) THEN
            -- not compared (_statistics_lookup): the patron columns of a loan relation only
            -- updated, every statistic of any other
            IF (r ->> 'upd_only')::boolean AND d1 = (r ->> 'd0')::bigint THEN
                FOR h IN SELECT t::oid FROM jsonb_array_elements_text(r -> 'holders') t LOOP
                    acc := jsonb_set(acc, ARRAY[h::text],
                                     CASE WHEN coalesce((acc -> h::text) ? 'w', false) THEN acc -> h::text
                                          ELSE jsonb_build_object('c', coalesce(acc -> h::text -> 'c', '[]') || (r -> 'pcols')) END);
                END LOOP;
            ELSE
                whole := whole || ARRAY(SELECT t::oid FROM jsonb_array_elements_text(r -> 'holders') t);
            END IF;
        ELSIF (r ->> 'upd_only')::boolean AND d1 = (r ->> 'd0')::bigint THEN
            -- only its patron columns changed: every other value of its rows is still there
            FOR s IN SELECT t.x FROM jsonb_array_elements(lookup -> 'sus') t(x) LOOP
                IF s ->> 'k' LIKE 'a:%' AND s ->> 'h' IN (SELECT jsonb_array_elements_text(r -> 'holders'))
                   AND NOT substr(s ->> 'k', 3) IN (SELECT jsonb_array_elements_text(r -> 'pcols')) THEN
                    kept := kept || s;
                END IF;
            END LOOP;
        END IF;
    END LOOP;
    FOR s IN SELECT * FROM jsonb_array_elements(lookup -> 'sus') LOOP
        h := (s ->> 'h')::oid;
        CONTINUE WHEN h = ANY (whole) OR coalesce((acc -> h::text) ? 'w', false) OR kept @> jsonb_build_array(s);
        IF s ->> 'k' LIKE 'a:%' THEN
            att := substr(s ->> 'k', 3);
            -- an index to look the values up by (else: counted without looking)
            SELECT EXISTS (SELECT FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_am am ON am.oid = ic.relam
                            WHERE i.indrelid = h AND i.indexprs IS NULL AND i.indpred IS NULL AND am.amname IN ('btree', 'hash')
                              AND i.indkey[0] = (SELECT a.attnum FROM pg_attribute a WHERE a.attrelid = h AND a.attname = att))
              INTO idx;
            IF coalesce((s ->> 'odd')::boolean, false) THEN
                gone := true;
            ELSIF NOT idx THEN
                -- no index: about 2,000 rows of the relation in random blocks (a common value
                -- is there; a rare one not found counts as gone, without a scan of the table)
                EXECUTE format('SELECT EXISTS (SELECT FROM unnest($1::text[]) v
                                                WHERE NOT v::%3$s IN (SELECT x.%2$I FROM %1$s %4$s x TABLESAMPLE SYSTEM (%5$s)
                                                                       WHERE x.%2$I IS NOT NULL))',
                               CASE WHEN (s ->> 'inh')::boolean THEN '' ELSE 'ONLY' END, att,
                               @extschema@._column_type_name(h, att), h::regclass,
                               (SELECT least(100, greatest(0.01, round((100 * 2000 / greatest(sum(c.reltuples), 1))::numeric, 2)))
                                  FROM pg_partition_tree(h) p JOIN pg_class c ON c.oid = p.relid WHERE c.reltuples > 0))
                    INTO gone USING ARRAY(SELECT jsonb_array_elements_text(s -> 'v'));
            ELSE
                -- a value found counts if no row of the relation (with its children, for
                -- inherited statistics) holds it now
                EXECUTE format('SELECT EXISTS (SELECT FROM unnest($1::text[]) v
                                                WHERE NOT EXISTS (SELECT FROM %s %s x WHERE x.%I = v::%s))',
                               CASE WHEN (s ->> 'inh')::boolean THEN '' ELSE 'ONLY' END, h::regclass, att,
                               @extschema@._column_type_name(h, att))
                    INTO gone USING ARRAY(SELECT jsonb_array_elements_text(s -> 'v'));
            END IF;
            IF gone THEN
                acc := jsonb_set(acc, ARRAY[h::text],
                                 jsonb_build_object('c', coalesce(acc -> h::text -> 'c', '[]') || to_jsonb(att)));
            END IF;
        ELSIF s ->> 'k' LIKE 'i:%' AND NOT coalesce((s ->> 'odd')::boolean, false) THEN
            -- an expression index: its statistics are computed by ANALYZE in full only
            SELECT format('(%s) = v::%s', pg_get_indexdef(a.attrelid, a.attnum, true), format_type(a.atttypid, NULL))
              INTO att FROM pg_attribute a
             WHERE a.attrelid = split_part(substr(s ->> 'k', 3), '.', 1)::oid
               AND a.attnum = split_part(substr(s ->> 'k', 3), '.', 2)::int2;
            EXECUTE format('SELECT EXISTS (SELECT FROM unnest($1::text[]) v WHERE NOT EXISTS (SELECT FROM ONLY %s x WHERE %s))',
                           h::regclass, att)
                INTO gone USING ARRAY(SELECT jsonb_array_elements_text(s -> 'v'));
            IF gone OR att IS NULL THEN
                whole := whole || h;
            END IF;
        ELSE
            whole := whole || h;     -- extended statistics, an index column it cannot compare
        END IF;
    END LOOP;
    FOREACH h IN ARRAY whole LOOP
        acc := jsonb_set(acc, ARRAY[h::text], '{"w": true}');
    END LOOP;
    RETURN acc;
END $$;

REVOKE ALL ON FUNCTION @extschema@._statistics_check(jsonb,text[],jsonb) FROM PUBLIC;
