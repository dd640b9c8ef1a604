------------------------------------------------------------------------------
-- The API in the caller's habits (issue 15, docs/troubleshooting.md).
-- Patron ids in their natural type: bigint overloads (integer and smallint
-- arguments reach them by implicit cast) of the functions that take a
-- patron id as text; the text versions stay the reference and do the
-- checks.  A quoted id ('4711') still goes to the text version.
------------------------------------------------------------------------------

CREATE FUNCTION @extschema@.set_pin(patron bigint, pin text) RETURNS void
LANGUAGE sql SET search_path = pg_catalog, pg_temp AS $$
    SELECT @extschema@.set_pin(patron::text, pin)
$$;
CREATE FUNCTION @extschema@.grant_consent(patron bigint, purpose text, channel text, evidence text DEFAULT NULL)
RETURNS void LANGUAGE sql SET search_path = pg_catalog, pg_temp AS $$
    SELECT @extschema@.grant_consent(patron::text, purpose, channel, evidence)
$$;
CREATE FUNCTION @extschema@.withdraw_consent(patron bigint, purpose text, channel text)
RETURNS void LANGUAGE sql SET search_path = pg_catalog, pg_temp AS $$
    SELECT @extschema@.withdraw_consent(patron::text, purpose, channel)
$$;
CREATE FUNCTION @extschema@.has_consent(patron bigint, purpose text, channel text)
RETURNS boolean LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT @extschema@.has_consent(patron::text, purpose, channel)
$$;
CREATE FUNCTION @extschema@.open_legal_order(reference text, issued_by text, patron bigint,
                                             expires timestamptz, note text DEFAULT NULL)
RETURNS bigint LANGUAGE sql SET search_path = pg_catalog, pg_temp AS $$
    SELECT @extschema@.open_legal_order(reference, issued_by, patron::text, expires, note)
$$;
GRANT EXECUTE ON FUNCTION @extschema@.set_pin(bigint, text),
    @extschema@.grant_consent(bigint, text, text, text), @extschema@.withdraw_consent(bigint, text, text),
    @extschema@.has_consent(bigint, text, text),
    @extschema@.open_legal_order(text, text, bigint, timestamptz, text) TO PUBLIC;

-- Procedures commit after every batch: called in a transaction block they
-- are refused up front, with a message that says to call them on their own
-- (src/operations.c refuses such a CALL of any procedure of the extension
-- in a session that has loaded the library; procedures call this first).
CREATE FUNCTION @extschema@._require_top_level(procedure_name text) RETURNS void
    LANGUAGE c STRICT AS 'MODULE_PATHNAME', 'pals_privacy_require_top_level';

-- A purge function named without its argument types ('ils.purge_borrower'):
-- the one function of that name taking one argument, or an error that says
-- how to name it.  For bind_patrons(purge_function => ...) given as text.
CREATE FUNCTION @extschema@._resolve_purge_function(fn text, purge_function text) RETURNS regprocedure
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
