-- The closing statistics refresh of purge_expired(): ANALYZE what
-- _statistics_check() found exposed over the run's batches (acc: a
-- relation's oid -> {"w": true}, in full, or {"c": [columns]}, those
-- columns only), and nothing else: every other statistic of the bound
-- relations holds no value of a purged row (docs/maintenance.md,
-- "Statistics").  A partition whose partitioned root is analyzed goes with
-- it (ANALYZE of a partitioned table samples every partition).  Columns
-- only: with every column of the relation's extended statistics, so that
-- those are computed again from the same sample (or in full, if one of
-- them has expressions).  acc.all (or NULL): _refresh_statistics() of the
-- given relations, every one in full, as before.  A relation left with no
-- row keeps its old statistics through ANALYZE: they are deleted, as
-- _refresh_statistics() does.  Returns the number analyzed.
CREATE OR REPLACE FUNCTION @extschema@._refresh_exposed_statistics(acc jsonb, relations oid[]) RETURNS integer
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE r record; t oid; n integer := 0; empty boolean; cols text[]; exprs boolean;
BEGIN
    IF acc IS NULL OR acc ? 'all' THEN
        RETURN @extschema@._refresh_statistics(relations);
    END IF;
    FOR r IN WITH e AS (SELECT k::oid AS rel, v FROM jsonb_each(acc) x(k, v)),
                  m AS (SELECT coalesce((SELECT e2.rel FROM e e2 WHERE e2.rel = pg_partition_root(e.rel)), e.rel) AS rel, e.v FROM e)
             SELECT m.rel, bool_or(m.v ? 'w') AS whole,
                    ARRAY(SELECT DISTINCT c FROM m m2, jsonb_array_elements_text(coalesce(m2.v -> 'c', '[]')) c WHERE m2.rel = m.rel) AS cols
               FROM m JOIN pg_class c ON c.oid = m.rel AND c.relkind IN ('r', 'p', 'm')
              GROUP BY m.rel ORDER BY m.rel LOOP
        IF r.whole THEN
            EXECUTE format('ANALYZE %s', r.rel::regclass);
        ELSE
            SELECT coalesce(bool_or(x.stxexprs IS NOT NULL), false),
                   ARRAY(SELECT DISTINCT a.attname::text FROM pg_statistic_ext x2 CROSS JOIN LATERAL unnest(x2.stxkeys::int2[]) k(n)
                           JOIN pg_attribute a ON a.attrelid = x2.stxrelid AND a.attnum = k.n
                          WHERE x2.stxrelid IN (SELECT r.rel UNION SELECT p.relid FROM pg_partition_tree(r.rel) p))
              INTO exprs, cols
              FROM pg_statistic_ext x
             WHERE x.stxrelid IN (SELECT r.rel UNION SELECT p.relid FROM pg_partition_tree(r.rel) p);
            IF exprs THEN
                EXECUTE format('ANALYZE %s', r.rel::regclass);
            ELSE
                EXECUTE format('ANALYZE %s (%s)', r.rel::regclass,
                               (SELECT string_agg(format('%I', c), ', ') FROM (SELECT DISTINCT c FROM unnest(r.cols || cols) c) u));
            END IF;
        END IF;
        -- the relation, and each partition of it, that has no row left
        FOR t IN SELECT c.oid FROM pg_class c
                  WHERE c.oid IN (SELECT r.rel UNION SELECT x.relid FROM pg_partition_tree(r.rel) x)
                    AND c.relkind IN ('r', 'p', 'm') LOOP
            EXECUTE format('SELECT NOT EXISTS (SELECT FROM %s)', t::regclass) INTO empty;
            IF empty AND (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
                DELETE FROM pg_statistic s WHERE s.starelid = t;
                DELETE FROM pg_statistic_ext_data d
                 WHERE d.stxoid IN (SELECT x.oid FROM pg_statistic_ext x WHERE x.stxrelid = t);
            END IF;
        END LOOP;
        n := n + 1;
    END LOOP;
    RETURN n;
END $$;

REVOKE ALL ON FUNCTION @extschema@._refresh_exposed_statistics(jsonb,oid[]) FROM PUBLIC;
