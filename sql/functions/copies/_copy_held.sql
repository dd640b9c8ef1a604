-- "EXISTS (an identified row of source 2 with the copy row t's key) OR ...":
-- whether a source of the copy other than "other_than" (NULL: every source)
-- holds an identified row with the key of the copy row t; 'false' if none.
-- A copy with several sources (bind_copy called once per source, a loan that
-- moves from issues to old_issues) is severed by one source only when no
-- other holds its row identified, and then only a row written in the same
-- transaction (other_than given: the row moved there, Koha's return inserting
-- into old_issues before deleting from issues): a row of another source
-- written before is no continuation of the severed one (a decoy a writer
-- inserted with its key), and must not keep its copies identified.  With
-- other_than NULL (the sweeps), any identified row: the copy's source is
-- alive.  A source that is itself a copy (a copy of a copy) holds the row
-- identified where the row and its own sources do (_copy_source_identified).
CREATE OR REPLACE FUNCTION @extschema@._copy_held(c @extschema@.copy_binding, other_than regclass) RETURNS text
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE s record; held text[] := '{}';
BEGIN
    FOR s IN SELECT * FROM @extschema@._copy_sources(c) x WHERE x.source IS DISTINCT FROM other_than LOOP
        -- a source no longer bound holds nothing
        CONTINUE WHEN NOT EXISTS (SELECT FROM @extschema@.loan_binding l WHERE l.relation = s.source)
                  AND NOT EXISTS (SELECT FROM @extschema@.copy_binding x WHERE x.relation = s.source);
        held := held || format('EXISTS (SELECT FROM %s s WHERE %s AND %s%s)', s.source,
                               (SELECT string_agg(format('s.%I = t.%I', s.source_keys[k.n], k.key), ' AND ' ORDER BY k.n)
                                  FROM unnest(c.key_columns) WITH ORDINALITY k(key, n)),
                               @extschema@._copy_source_identified(s.source, 's'),
                               CASE WHEN other_than IS NOT NULL THEN ' AND @extschema@._written_here(s.xmin)' ELSE '' END);
    END LOOP;
    RETURN coalesce(nullif(array_to_string(held, ' OR '), ''), 'false');
END $$;

REVOKE ALL ON FUNCTION @extschema@._copy_held(@extschema@.copy_binding,regclass) FROM PUBLIC;
