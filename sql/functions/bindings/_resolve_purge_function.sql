-- A purge function named without its argument types ('ils.purge_borrower'):
-- the one function of that name taking one argument, or an error that says
-- how to name it.  For bind_patrons(purge_function => ...) given as text.
CREATE OR REPLACE FUNCTION @extschema@._resolve_purge_function(fn text, purge_function text) RETURNS regprocedure
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    parts text[];
    found regprocedure[];
BEGIN
    IF purge_function IS NULL THEN
        RETURN NULL;
    END IF;
    IF position('(' IN purge_function) > 0 THEN
        RETURN purge_function::regprocedure;
    END IF;
    BEGIN
        parts := parse_ident(purge_function);
    EXCEPTION WHEN OTHERS THEN
        RAISE EXCEPTION '%: % is not a function name', fn, quote_literal(purge_function)
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Name the function with its argument type, for example ''ils.purge_borrower(bigint)''.';
    END;
    SELECT array_agg(p.oid::regprocedure ORDER BY p.oid) INTO found
      FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
     WHERE p.proname = parts[cardinality(parts)] AND p.pronargs = 1 AND p.prokind = 'f'
       AND CASE WHEN cardinality(parts) = 2 THEN n.nspname = parts[1]
                ELSE n.oid = ANY (current_schemas(true)::regnamespace[]) END;
    IF found IS NULL THEN
        RAISE EXCEPTION '%: there is no function % of one argument', fn, purge_function
            USING ERRCODE = 'undefined_function',
                  HINT = 'Name the function with its schema and argument type, for example ''ils.purge_borrower(bigint)''.';
    ELSIF cardinality(found) > 1 THEN
        RAISE EXCEPTION '%: purge function % is ambiguous', fn, purge_function
            USING ERRCODE = 'ambiguous_function',
                  DETAIL = format('Candidates: %s.', array_to_string(found::text[], ', ')),
                  HINT = 'Name it with its argument type, as listed.';
    END IF;
    RETURN found[1];
END $$;

REVOKE ALL ON FUNCTION @extschema@._resolve_purge_function(text,text) FROM PUBLIC;
