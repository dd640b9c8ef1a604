-- A list of column names given to a bind function (closed_columns,
-- more_patron_columns, hide_columns): no NULL, no column twice.  Whether
-- each column exists, and its type, is the caller's check.
CREATE OR REPLACE FUNCTION @extschema@._check_column_list(fn text, what text, cols name[]) RETURNS void
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF array_position(cols, NULL) IS NOT NULL THEN
        RAISE EXCEPTION '%: % lists a NULL', fn, what USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF (SELECT count(DISTINCT x) FROM unnest(cols) x) <> cardinality(cols) THEN
        RAISE EXCEPTION '%: % lists a column twice', fn, what USING ERRCODE = 'invalid_parameter_value';
    END IF;
END $$;

REVOKE ALL ON FUNCTION @extschema@._check_column_list(text,text,name[]) FROM PUBLIC;
