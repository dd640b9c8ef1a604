-- Type of a column, or an error if it does not exist; the error says when
-- the name was given with double quotes or in another case.
CREATE OR REPLACE FUNCTION @extschema@._column_type(fn text, rel regclass, col name, what text,
                                                    allowed "char"[] DEFAULT NULL, allowed_desc text DEFAULT NULL)
RETURNS regtype
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE t regtype; cat "char"; near name;
BEGIN
    SELECT a.atttypid::regtype, ty.typcategory INTO t, cat
      FROM pg_attribute a JOIN pg_type ty ON ty.oid = a.atttypid
     WHERE a.attrelid = rel AND a.attname = col AND a.attnum > 0 AND NOT a.attisdropped;
    IF t IS NULL THEN
        SELECT a.attname INTO near FROM pg_attribute a
         WHERE a.attrelid = rel AND a.attnum > 0 AND NOT a.attisdropped
           AND lower(a.attname) = lower(btrim(col, '"'))
         ORDER BY a.attname = btrim(col, '"') DESC LIMIT 1;
        RAISE EXCEPTION '%: column "%" of relation "%" does not exist', fn, col, rel
            USING ERRCODE = 'undefined_column',
                  DETAIL = format('It was given as the %s.', what),
                  HINT = CASE
                      WHEN near IS NOT NULL AND col LIKE '"%"' THEN
                          format('Give column names as they are, without double quotes: %L.', near)
                      WHEN near IS NOT NULL THEN
                          format('Column names are matched exactly, case included: the column is %L.', near)
                      ELSE format('The columns of "%s" are: %s.', rel,
                                  (SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum)
                                     FROM pg_attribute WHERE attrelid = rel AND attnum > 0 AND NOT attisdropped))
                  END;
    END IF;
    IF allowed IS NOT NULL AND (NOT cat = ANY (allowed)
                                OR (cat = 'D' AND t NOT IN ('date', 'timestamp without time zone', 'timestamp with time zone'))) THEN
        RAISE EXCEPTION '%: column "%" of relation "%" has type %, which cannot be the %', fn, col, rel, t, what
            USING ERRCODE = 'datatype_mismatch',
                  HINT = format('The %s must be %s.', what, allowed_desc);
    END IF;
    RETURN t;
END $$;

REVOKE ALL ON FUNCTION @extschema@._column_type(text,regclass,name,text,"char"[],text) FROM PUBLIC;
