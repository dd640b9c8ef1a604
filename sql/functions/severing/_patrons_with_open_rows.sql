-- Of the given patrons, those named in a row of a bound loan relation that is
-- not closed: an open loan or hold, which keeps them from the purge.  Named
-- in any of the row's patron columns: the patron column, or one of
-- more_patron_columns (the requestor of an open hold placed for someone
-- else, a loan's proxy): an open transaction the patron takes part in, whose
-- row would otherwise lose them while the library still acts on it.
CREATE OR REPLACE FUNCTION @extschema@._patrons_with_open_rows(ids text[]) RETURNS SETOF text
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE b @extschema@.loan_binding; p record; t text; c name;
BEGIN
    FOR b IN SELECT * FROM @extschema@.loan_binding LOOP
        p := @extschema@._loan_predicates(b, 't');
        t := @extschema@._column_type_name(b.relation, b.patron_column);
        FOREACH c IN ARRAY b.patron_column || coalesce(b.more_patron_columns, '{}') LOOP
            RETURN QUERY EXECUTE format('SELECT DISTINCT t.%1$I::text FROM %2$s t WHERE t.%1$I = ANY ($1::%3$s[]) AND NOT %4$s',
                                        c, b.relation, t, p.closed) USING ids;
        END LOOP;
    END LOOP;
END $$;

REVOKE ALL ON FUNCTION @extschema@._patrons_with_open_rows(text[]) FROM PUBLIC;
