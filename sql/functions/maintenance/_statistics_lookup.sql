-- Before a purge batch: which planner statistics of the bound relations hold
-- a value of a row about to be purged.  For each bound relation (all its
-- bindings but retention rules), its rows naming one of the given patrons
-- (in any of the bindings' patron columns: the patron table's id column, a
-- loan's patron and more_patron_columns, a copy's, a guardian's two) are
-- compared, column by column, with the statistics that sample them: the
-- most common values and histogram bounds (pg_statistic) of the relation,
-- of each partition or inheritance child (its own rows) and of each
-- inheritance parent above it (inherited statistics); the statistics of
-- expression indexes (the expression computed over those rows); and the MCV
-- lists of extended statistics (pg_statistic_ext_data), item by item.
-- Statistics it cannot compare (array, composite or range columns, most
-- common elements, range histograms, extended statistics on expressions)
-- count as holding the value whenever a row names a patron.
-- Returns what _statistics_check() needs at the end of the batch: for each
-- bound relation the rows naming the patrons and the rows this transaction
-- has updated or deleted so far (pg_stat_xact_all_tables), the statistics'
-- row versions of every relation involved (_statistics_fingerprint), and
-- the statistics found holding such a value ('sus': a column's values count
-- only if no row holds them after the purge).  A relation in which the
-- patrons' rows are a hundredth or more ('big') is not compared: its
-- histograms hold one of their values in every column of distinct values,
-- about, and _statistics_check() counts it found as a whole.  NULL when the caller may not
-- read pg_statistic (not a superuser): the caller then analyzes everything.
CREATE OR REPLACE FUNCTION @extschema@._statistics_lookup(patrons text[]) RETURNS jsonb
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    b record; h record; st record; e record;
    rels jsonb := '[]'; sus jsonb := '[]'; every oid[] := '{}';
    pred text; nref bigint; c0 bigint; d0 bigint; upd_only boolean; big boolean; src text; got jsonb; any_row boolean;
    tree oid[]; holders oid[];
BEGIN
    IF NOT has_table_privilege('pg_catalog.pg_statistic', 'SELECT') THEN
        RETURN NULL;
    END IF;
    FOR b IN WITH x AS (
                 SELECT x.relation::oid AS rel,
                        ARRAY(SELECT DISTINCT c FROM (
                                  SELECT x.settings ->> k FROM unnest(ARRAY['patron_column', 'id_column', 'minor_column', 'guardian_column']) k
                                  UNION ALL SELECT jsonb_array_elements_text(coalesce(x.settings -> 'more_patron_columns', '[]'))) t(c)
                               WHERE c IS NOT NULL) AS pc,
                        x.kind = 'loans' AND x.settings ->> 'sever_with' <> 'delete' AS upd
                   FROM @extschema@.bindings x WHERE x.kind <> 'retain')
             SELECT x.rel, bool_and(cardinality(x.pc) > 0) AS ok, bool_and(x.upd) AS loans_only,
                    ARRAY(SELECT DISTINCT c FROM x x2, unnest(x2.pc) c WHERE x2.rel = x.rel) AS pcols
               FROM x JOIN pg_class c ON c.oid = x.rel AND c.relkind IN ('r', 'p', 'm')
              GROUP BY x.rel ORDER BY x.rel LOOP
        -- the relation with its partitions or inheritance children, and the parents above it
        tree := ARRAY(WITH RECURSIVE d(r) AS (SELECT b.rel UNION SELECT i.inhrelid FROM pg_inherits i JOIN d ON i.inhparent = d.r)
                      SELECT d.r FROM d JOIN pg_class c ON c.oid = d.r WHERE c.relkind IN ('r', 'p', 'm'));
        holders := tree || ARRAY(WITH RECURSIVE u(r) AS (SELECT i.inhparent FROM pg_inherits i WHERE i.inhrelid = b.rel
                                                          UNION SELECT i.inhparent FROM pg_inherits i JOIN u ON i.inhrelid = u.r)
                                 SELECT u.r FROM u JOIN pg_class c ON c.oid = u.r WHERE c.relkind IN ('r', 'p', 'm'));
        SELECT coalesce(sum(pg_stat_get_xact_tuples_updated(t) + pg_stat_get_xact_tuples_deleted(t)), 0),
               coalesce(sum(pg_stat_get_xact_tuples_deleted(t)), 0)
          INTO c0, d0 FROM unnest(tree) t;
        pred := NULL;
        nref := 0;
        IF cardinality(b.pcols) > 0 THEN
            SELECT string_agg(format('%I = ANY ($1::%s[])', c, @extschema@._column_type_name(b.rel, c)), ' OR ') INTO pred
              FROM unnest(b.pcols) c;
            EXECUTE format('SELECT count(*) FROM %s WHERE %s', b.rel::regclass, pred) INTO nref USING patrons;
        END IF;
        -- a loan relation that the purge only updates (no binding of it deletes rows), with no
        -- trigger but the extension's and no rule: if no row of it is deleted during the batch
        -- either (_statistics_check), its rows change in the patron columns only
        upd_only := b.loans_only AND NOT EXISTS (
            SELECT FROM pg_trigger g WHERE g.tgrelid = ANY (tree) AND NOT g.tgisinternal
               AND NOT EXISTS (SELECT FROM pg_proc f WHERE f.oid = g.tgfoid AND f.pronamespace = '@extschema@'::regnamespace))
            AND NOT EXISTS (SELECT FROM pg_rewrite w WHERE w.ev_class = ANY (tree) AND w.rulename <> '_RETURN');
        -- as many rows naming the patrons as a hundredth of the relation: a histogram of 100
        -- buckets holds one of their values in each column of distinct values, about; the
        -- comparison would find what it costs more than to analyze (_statistics_check)
        big := nref > 0 AND nref * 100 >= (SELECT coalesce(sum(greatest(c.reltuples, 0)), 0) FROM pg_class c
                                            WHERE c.oid = ANY (tree) AND c.relkind IN ('r', 'm'));
        rels := rels || jsonb_build_object('r', b.rel, 'ok', b.ok, 'pred', pred, 'nref', nref, 'c0', c0, 'd0', d0,
                                           'upd_only', upd_only, 'pcols', to_jsonb(b.pcols), 'big', big,
                                           'tree', to_jsonb(tree), 'holders', to_jsonb(holders));
        -- (a relation not compared is analyzed whatever an ANALYZE in between sampled: no
        -- lock, no fingerprint)
        IF NOT big THEN
            every := every || holders;
        END IF;
        FOR h IN SELECT x AS oid, x = ANY (tree) AS in_tree FROM unnest(holders) x LOOP
            CONTINUE WHEN nref = 0 OR big;
            -- each set of statistics of the holder: its own rows (inh false) and with its children (true)
            FOR st IN
                WITH col AS (
                    SELECT s.stainherit AS inh, 'a:' || a.attname AS k, format('%I', a.attname) AS expr,
                           (t.typcategory = 'A' OR t.typtype NOT IN ('b', 'd', 'e')
                            OR EXISTS (SELECT FROM (VALUES (s.stakind1, s.stavalues1 IS NOT NULL), (s.stakind2, s.stavalues2 IS NOT NULL),
                                                           (s.stakind3, s.stavalues3 IS NOT NULL), (s.stakind4, s.stavalues4 IS NOT NULL),
                                                           (s.stakind5, s.stavalues5 IS NOT NULL)) sl(kind, has)
                                        WHERE sl.has AND sl.kind NOT IN (1, 2))) AS odd,
                           s.stakind1, s.stakind2, s.stakind3, s.stakind4, s.stakind5,
                           s.stavalues1::text AS v1, s.stavalues2::text AS v2, s.stavalues3::text AS v3,
                           s.stavalues4::text AS v4, s.stavalues5::text AS v5
                      FROM pg_statistic s
                      JOIN pg_attribute a ON a.attrelid = s.starelid AND a.attnum = s.staattnum AND NOT a.attisdropped
                      JOIN pg_type t ON t.oid = a.atttypid
                     WHERE s.starelid = h.oid
                    UNION ALL
                    -- expression indexes of the holder: their statistics sample its own rows
                    SELECT false, format('i:%s.%s', s.starelid, s.staattnum), format('(%s)', pg_get_indexdef(s.starelid, s.staattnum, true)),
                           (t.typcategory = 'A' OR t.typtype NOT IN ('b', 'd', 'e')
                            OR EXISTS (SELECT FROM (VALUES (s.stakind1, s.stavalues1 IS NOT NULL), (s.stakind2, s.stavalues2 IS NOT NULL),
                                                           (s.stakind3, s.stavalues3 IS NOT NULL), (s.stakind4, s.stavalues4 IS NOT NULL),
                                                           (s.stakind5, s.stavalues5 IS NOT NULL)) sl(kind, has)
                                        WHERE sl.has AND sl.kind NOT IN (1, 2))),
                           s.stakind1, s.stakind2, s.stakind3, s.stakind4, s.stakind5,
                           s.stavalues1::text, s.stavalues2::text, s.stavalues3::text, s.stavalues4::text, s.stavalues5::text
                      FROM pg_index i
                      JOIN pg_statistic s ON s.starelid = i.indexrelid
                      JOIN pg_attribute a ON a.attrelid = s.starelid AND a.attnum = s.staattnum
                      JOIN pg_type t ON t.oid = a.atttypid
                     WHERE i.indrelid = h.oid AND h.in_tree),
                vals AS (
                    SELECT c.inh, c.k, c.expr, c.odd,
                           CASE WHEN NOT c.odd THEN ARRAY(
                               SELECT v FROM (VALUES (c.stakind1, c.v1), (c.stakind2, c.v2), (c.stakind3, c.v3),
                                                     (c.stakind4, c.v4), (c.stakind5, c.v5)) sl(kind, a),
                                             unnest(sl.a::text[]) v
                                WHERE sl.kind IN (1, 2) AND sl.a IS NOT NULL) END AS v
                      FROM col c),
                -- the values as one jsonb object with a key per (statistic, value):
                -- each row's value is found by a binary search, whatever the plan
                pa AS (
                    SELECT v.inh, jsonb_object_agg(v.k || chr(1) || x, true) AS map
                      FROM vals v, unnest(v.v) x WHERE NOT v.odd GROUP BY v.inh)
                SELECT v.inh, pa.map,
                       string_agg(format('(%L, (%s)::text)', v.k, v.expr), ', ') FILTER (WHERE NOT v.odd AND cardinality(v.v) > 0) AS vlist,
                       coalesce(jsonb_agg(v.k) FILTER (WHERE v.odd), '[]') AS odd
                  FROM vals v LEFT JOIN pa ON pa.inh = v.inh
                 -- an inheritance parent above the relation: only its statistics with children
                 WHERE h.in_tree OR v.inh
                 GROUP BY v.inh, pa.map
            LOOP
                -- the rows naming the patrons that these statistics sample
                src := CASE WHEN NOT h.in_tree THEN format('%s', b.rel::regclass)
                            WHEN st.inh THEN format('%s', h.oid::regclass)
                            ELSE format('ONLY %s', h.oid::regclass) END;
                IF jsonb_array_length(st.odd) > 0 THEN
                    EXECUTE format('SELECT EXISTS (SELECT FROM %s WHERE %s)', src, pred) INTO any_row USING patrons;
                    IF any_row THEN
                        sus := sus || (SELECT coalesce(jsonb_agg(jsonb_build_object('h', h.oid, 'inh', st.inh, 'k', o, 'odd', true)), '[]')
                                         FROM jsonb_array_elements_text(st.odd) o);
                    END IF;
                END IF;
                IF st.vlist IS NOT NULL THEN
                    EXECUTE format('SELECT coalesce(jsonb_agg(jsonb_build_object(''h'', $3, ''inh'', $4, ''k'', m.k, ''v'', m.v)), ''[]'')
                                      FROM (SELECT c.k, array_agg(DISTINCT c.v) AS v
                                              FROM (SELECT * FROM %s WHERE %s) r
                                              CROSS JOIN LATERAL (VALUES %s) c(k, v)
                                             WHERE $2 ? (c.k || chr(1) || c.v)
                                             GROUP BY c.k) m', src, pred, st.vlist)
                        INTO got USING patrons, st.map, h.oid, st.inh;
                    sus := sus || got;
                END IF;
            END LOOP;
            -- extended statistics of the holder: each MCV item against the rows, position by position
            FOR e IN SELECT x.oid, d.stxdinherit AS inh, x.stxexprs IS NOT NULL AS exprs, d.stxdmcv IS NOT NULL AS mcv,
                            ARRAY(SELECT a.attname FROM unnest(x.stxkeys::int2[]) WITH ORDINALITY k(n, o)
                                    JOIN pg_attribute a ON a.attrelid = x.stxrelid AND a.attnum = k.n ORDER BY k.o) AS cols,
                            EXISTS (SELECT FROM unnest(x.stxkeys::int2[]) k(n) JOIN pg_attribute a ON a.attrelid = x.stxrelid AND a.attnum = k.n
                                      JOIN pg_type t ON t.oid = a.atttypid WHERE t.typcategory = 'A' OR t.typtype NOT IN ('b', 'd', 'e')) AS odd
                       FROM pg_statistic_ext x JOIN pg_statistic_ext_data d ON d.stxoid = x.oid
                      WHERE x.stxrelid = h.oid AND (h.in_tree OR d.stxdinherit)
                        AND (d.stxdmcv IS NOT NULL OR d.stxdexpr IS NOT NULL) LOOP
                src := CASE WHEN NOT h.in_tree THEN format('%s', b.rel::regclass)
                            WHEN e.inh THEN format('%s', h.oid::regclass)
                            ELSE format('ONLY %s', h.oid::regclass) END;
                IF e.exprs OR e.odd THEN
                    EXECUTE format('SELECT EXISTS (SELECT FROM %s WHERE %s)', src, pred) INTO any_row USING patrons;
                    IF any_row THEN
                        sus := sus || jsonb_build_object('h', h.oid, 'inh', e.inh, 'k', format('x:%s', e.oid), 'odd', true);
                    END IF;
                ELSIF e.mcv THEN
                    EXECUTE format('SELECT coalesce(jsonb_agg(DISTINCT jsonb_build_object(''h'', $3, ''inh'', $4, ''k'', ''x:'' || $5, ''odd'', true)), ''[]'')
                                      FROM (SELECT * FROM %s WHERE %s) r,
                                           pg_catalog.pg_mcv_list_items((SELECT d.stxdmcv FROM pg_catalog.pg_statistic_ext_data d
                                                                          WHERE d.stxoid = $5 AND d.stxdinherit = $4)) m
                                     WHERE %s', src, pred,
                                   (SELECT string_agg(format('m.values[%s] = r.%I::text', o, c), ' OR ')
                                      FROM unnest(e.cols) WITH ORDINALITY u(c, o)))
                        INTO got USING patrons, NULL::jsonb, h.oid, e.inh, e.oid;
                    sus := sus || got;
                END IF;
            END LOOP;
        END LOOP;
    END LOOP;
    RETURN jsonb_build_object('rels', rels, 'fp', @extschema@._statistics_fingerprint(every), 'sus', sus);
END $$;

REVOKE ALL ON FUNCTION @extschema@._statistics_lookup(text[]) FROM PUBLIC;
