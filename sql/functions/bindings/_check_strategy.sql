-- What a bind function does to a row that loses its patron (bind_loans'
-- sever_with, bind_account's purge_with, named by argument): 'null' (the
-- patron column must be nullable; null_hint says what to use instead),
-- 'patron:<id>' (re-pointed to an anonymous placeholder patron, which must
-- exist) or 'delete'; anything else is refused.  What only one caller
-- checks (bind_account: no placeholder for a unique column) is the caller's.
CREATE OR REPLACE FUNCTION @extschema@._check_strategy(fn text, argument text, strategy text, rel regclass, col name,
                                                       null_hint text) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    p record;
    placeholder text;
    found_placeholder boolean;
BEGIN
    IF strategy = 'null' THEN
        IF (SELECT attnotnull FROM pg_attribute WHERE attrelid = rel AND attname = col) THEN
            RAISE EXCEPTION '%: % => ''null'' needs a nullable patron column, and "%"."%" is NOT NULL', fn, argument, rel, col
                USING ERRCODE = 'invalid_parameter_value', HINT = null_hint;
        END IF;
    ELSIF strategy LIKE 'patron:%' THEN
        placeholder := substr(strategy, 8);
        IF placeholder = '' THEN
            RAISE EXCEPTION '%: % => ''patron:<id>'' needs the id of the placeholder patron', fn, argument
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
        SELECT * INTO p FROM @extschema@.patron_binding;
        EXECUTE format('SELECT EXISTS (SELECT 1 FROM %s WHERE %I::text = $1)', p.relation, p.id_column)
            INTO found_placeholder USING placeholder;
        IF NOT found_placeholder THEN
            RAISE EXCEPTION '%: placeholder patron % does not exist in %', fn, quote_literal(placeholder), p.relation
                USING ERRCODE = 'foreign_key_violation',
                      HINT = 'Create an anonymous patron row first and name its id here.';
        END IF;
    ELSIF strategy <> 'delete' THEN
        RAISE EXCEPTION '%: unknown % %', fn, argument, quote_literal(strategy)
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Use ''null'', ''patron:<id>'' or ''delete''.';
    END IF;
END $$;

REVOKE ALL ON FUNCTION @extschema@._check_strategy(text,text,text,regclass,name,text) FROM PUBLIC;
