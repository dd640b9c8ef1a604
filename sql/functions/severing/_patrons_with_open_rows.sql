CREATE OR REPLACE FUNCTION @extschema@._patrons_with_open_rows(ids text[]) RETURNS SETOF text
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE b @extschema@.loan_binding; p record; t text;
BEGIN
    FOR b IN SELECT * FROM @extschema@.loan_binding LOOP
        p := @extschema@._loan_predicates(b, 't');
        t := @extschema@._column_type_name(b.relation, b.patron_column);
        RETURN QUERY EXECUTE format('SELECT DISTINCT t.%1$I::text FROM %2$s t WHERE t.%1$I = ANY ($1::%3$s[]) AND NOT %4$s',
                                    b.patron_column, b.relation, t, p.closed) USING ids;
    END LOOP;
END $$;

REVOKE ALL ON FUNCTION @extschema@._patrons_with_open_rows(text[]) FROM PUBLIC;
