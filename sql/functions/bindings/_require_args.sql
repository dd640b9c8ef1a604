CREATE OR REPLACE FUNCTION @extschema@._require_args(fn text, names text[], vals anyarray) RETURNS void
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    FOR i IN 1 .. cardinality(names) LOOP
        IF vals[i] IS NULL THEN
            RAISE EXCEPTION '%: argument "%" must not be NULL', fn, names[i]
                USING ERRCODE = 'null_value_not_allowed';
        END IF;
    END LOOP;
END $$;

REVOKE ALL ON FUNCTION @extschema@._require_args(text,text[],anyarray) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@._require_args(text,text[],anyarray) TO PUBLIC;
