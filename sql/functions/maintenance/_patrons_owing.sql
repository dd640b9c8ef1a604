-- Of the given patrons, those who owe something in any bound balance
-- relation, and those with an open row in any bound loan relation.
CREATE OR REPLACE FUNCTION @extschema@._patrons_owing(ids text[]) RETURNS SETOF text
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE b @extschema@.balance_binding; t text;
BEGIN
    FOR b IN SELECT * FROM @extschema@.balance_binding LOOP
        -- a view of the ILS's is not read as the owner in a session with temporary objects
        PERFORM @extschema@._owner_code_guard(b.relation, format('reading the balance relation %s', b.relation));
        t := @extschema@._column_type_name(b.relation, b.patron_column);
        -- a view is read as its owner (src/view_owner.c)
        RETURN QUERY SELECT jsonb_array_elements_text(@extschema@._read_as_owner(b.relation, format(
            'SELECT coalesce(jsonb_agg(p), ''[]'') FROM (SELECT x.%1$I::text AS p FROM %2$s x'
            ' WHERE x.%1$I = ANY ($1::%3$s[]) GROUP BY 1 HAVING sum(x.%4$I) > 0) s',
            b.patron_column, b.relation, t, b.amount_column), ids));
    END LOOP;
END $$;

REVOKE ALL ON FUNCTION @extschema@._patrons_owing(text[]) FROM PUBLIC;
