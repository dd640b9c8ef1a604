-- purge_function: 'schema.fn(type)' or, when the name is unique, 'schema.fn'.
-- No SET search_path: the name is resolved as the caller wrote it.
CREATE OR REPLACE FUNCTION @extschema@._purge_function(fn text, purge_function text) RETURNS regprocedure
LANGUAGE plpgsql STABLE AS $$
DECLARE f regprocedure; n bigint;
BEGIN
    IF purge_function IS NULL THEN
        RETURN NULL;
    END IF;
    IF pg_catalog.strpos(purge_function, '(') > 0 THEN
        f := pg_catalog.to_regprocedure(purge_function);
    ELSE
        -- NULL when there is none, and when there are several
        f := pg_catalog.to_regproc(purge_function)::pg_catalog.oid::pg_catalog.regprocedure;
    END IF;
    IF f IS NULL THEN
        SELECT pg_catalog.count(*) INTO n FROM pg_catalog.pg_proc p
         WHERE p.proname = pg_catalog.split_part(pg_catalog.split_part(purge_function, '(', 1), '.', -1);
        RAISE EXCEPTION '%: purge function % %', fn, purge_function,
                CASE WHEN n > 1 AND pg_catalog.strpos(purge_function, '(') = 0 THEN 'is ambiguous'
                     ELSE 'does not exist' END
            USING ERRCODE = 'undefined_function',
                  HINT = 'Name it with its schema and argument type, for example ''ils.purge_patron(bigint)''.';
    END IF;
    RETURN f;
END $$;

REVOKE ALL ON FUNCTION @extschema@._purge_function(text,text) FROM PUBLIC;
