-- Key types: integers, text, uuid.
CREATE OR REPLACE FUNCTION @extschema@._require_key(fn text, rel regclass, col name, what text) RETURNS regtype
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE t regtype;
BEGIN
    t := @extschema@._column_type(fn, rel, col, what);
    IF t NOT IN ('smallint', 'integer', 'bigint', 'text', 'character varying', 'character', 'uuid', 'numeric') THEN
        RAISE EXCEPTION '%: column "%" of relation "%" has type %, which cannot be the %', fn, col, rel, t, what
            USING ERRCODE = 'datatype_mismatch',
                  HINT = format('The %s must be an integer, numeric, text or uuid key.', what);
    END IF;
    RETURN t;
END $$;

REVOKE ALL ON FUNCTION @extschema@._require_key(text,regclass,name,text) FROM PUBLIC;
