-- "This row (alias a) of rel, a source of a copy, belongs to one of the
-- patrons $1 (text[])": a loan binding's row names one in its patron column;
-- a copy's row (a copy of a copy) names one in its own patron column, or a
-- row of one of its sources that holds its key belongs to one, recursively.
-- purge_expired() takes the keys of a purged patron's rows in the sources of
-- a copy without a patron column this way, before it severs them.  'false'
-- for a relation bound as neither.
CREATE OR REPLACE FUNCTION @extschema@._copy_source_of_patrons(rel regclass, a text) RETURNS text
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE b @extschema@.loan_binding; c @extschema@.copy_binding; s record; ors text[] := '{}'; inner_a text := a || '_';
BEGIN
    SELECT * INTO b FROM @extschema@.loan_binding l WHERE l.relation = rel;
    IF FOUND THEN
        RETURN format('%s.%I = ANY ($1::%s[])', a, b.patron_column, @extschema@._column_type_name(rel, b.patron_column));
    END IF;
    SELECT * INTO c FROM @extschema@.copy_binding x WHERE x.relation = rel;
    IF NOT FOUND OR length(a) > 64 THEN
        RETURN 'false';
    END IF;
    IF c.patron_column IS NOT NULL THEN
        ors := ors || format('%s.%I = ANY ($1::%s[])', a, c.patron_column, @extschema@._column_type_name(rel, c.patron_column));
    END IF;
    FOR s IN SELECT * FROM @extschema@._copy_sources(c) LOOP
        ors := ors || format('EXISTS (SELECT FROM %s %s WHERE %s AND %s)', s.source, inner_a,
                             (SELECT string_agg(format('%s.%I = %s.%I', inner_a, s.source_keys[k.n], a, k.key), ' AND ' ORDER BY k.n)
                                FROM unnest(c.key_columns) WITH ORDINALITY k(key, n)),
                             @extschema@._copy_source_of_patrons(s.source, inner_a));
    END LOOP;
    RETURN '(' || array_to_string(ors, ' OR ') || ')';
END $$;

REVOKE ALL ON FUNCTION @extschema@._copy_source_of_patrons(regclass,text) FROM PUBLIC;
