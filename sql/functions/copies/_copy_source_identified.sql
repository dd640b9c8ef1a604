-- "This row (alias a) of rel, a source of a copy, is identified": the SQL
-- predicate over a row of any relation a copy may follow.  A loan binding:
-- a patron column names a patron (_loan_predicates).  A copy binding (a copy
-- of a copy, bind_copy with a copy as source): the row is no copy at all
-- (copy_when false: the ILS's own row; for 'delete', a row whose whole key
-- is NULL), or it still carries what its
-- sever_with would take ('null', 'patron:<id>': its patron; 'unlink': its
-- link; 'delete', 'keep': the row itself) AND a row of one of its own
-- sources that holds its key is identified, recursively: a copy of a copy
-- of a severed loan is severed whatever the middle copy still holds (an ILS
-- trigger that kept it).  'false' for a relation bound as neither.  The
-- aliases of the nested sources are a_, a__ ... (bind_copy refuses a cycle;
-- a chain deeper than 16 is refused here).
CREATE OR REPLACE FUNCTION @extschema@._copy_source_identified(rel regclass, a text) RETURNS text
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE b @extschema@.loan_binding; c @extschema@.copy_binding; s record; held text[] := '{}'; state text;
        inner_a text := a || '_';
BEGIN
    SELECT * INTO b FROM @extschema@.loan_binding l WHERE l.relation = rel;
    IF FOUND THEN
        RETURN (@extschema@._loan_predicates(b, a)).identified;
    END IF;
    SELECT * INTO c FROM @extschema@.copy_binding x WHERE x.relation = rel;
    IF NOT FOUND THEN
        RETURN 'false';
    END IF;
    IF length(inner_a) > length(a) + 16 OR length(a) > 64 THEN
        RAISE EXCEPTION 'the copies that "%" follows form a cycle or a chain deeper than 16', rel
            USING ERRCODE = 'invalid_recursion',
                  HINT = 'Unbind the copies of the cycle (pals_privacy.unbind_copy) and bind them again: bind_copy refuses a cycle.';
    END IF;
    state := CASE WHEN c.sever_with IN ('delete', 'keep') THEN 'true'
                  WHEN c.sever_with = 'unlink' THEN (SELECT string_agg(format('%s.%I IS NOT NULL', a, k), ' AND ') FROM unnest(c.key_columns) k)
                  WHEN c.sever_with = 'null' THEN format('%s.%I IS NOT NULL', a, c.patron_column)
                  ELSE format('(%1$s.%2$I IS NOT NULL AND %1$s.%2$I::text <> %3$L)', a, c.patron_column, substr(c.sever_with, 8)) END;
    FOR s IN SELECT * FROM @extschema@._copy_sources(c) LOOP
        held := held || format('EXISTS (SELECT FROM %s %s WHERE %s AND %s)', s.source, inner_a,
                               (SELECT string_agg(format('%s.%I = %s.%I', inner_a, s.source_keys[k.n], a, k.key), ' AND ' ORDER BY k.n)
                                  FROM unnest(c.key_columns) WITH ORDINALITY k(key, n)),
                               @extschema@._copy_source_identified(s.source, inner_a));
    END LOOP;
    -- no copy: copy_when false, or ('delete') a row whose whole key is NULL,
    -- which redaction reads as the ILS's own row too
    RETURN format('(%s OR %s OR (%s AND (%s)))',
                  CASE WHEN c.copy_when IS NULL THEN 'false'
                       ELSE format('(%s) IS FALSE', @extschema@._condition_sql(c.relation, c.copy_when, a, 'copy_when')) END,
                  CASE WHEN c.sever_with = 'delete'
                       THEN '(' || (SELECT string_agg(format('%s.%I IS NULL', a, k), ' AND ') FROM unnest(c.key_columns) k) || ')'
                       ELSE 'false' END,
                  state, array_to_string(held, ' OR '));
END $$;

REVOKE ALL ON FUNCTION @extschema@._copy_source_identified(regclass,text) FROM PUBLIC;
