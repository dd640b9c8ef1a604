CREATE OR REPLACE FUNCTION @extschema@.bind_guardians(relation regclass, minor_column name, guardian_column name)
RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE fn constant text := 'bind_guardians'; binding jsonb;
BEGIN
    PERFORM @extschema@._bind_check(fn, relation, '{r,p}',
        ARRAY['relation', 'minor_column', 'guardian_column'],
        ARRAY[relation::text, minor_column::text, guardian_column::text]);
    PERFORM @extschema@._require_patron_column(fn, relation, minor_column);
    PERFORM @extschema@._require_patron_column(fn, relation, guardian_column);
    IF minor_column = guardian_column THEN
        RAISE EXCEPTION '%: the minor and the guardian column are both "%"', fn, minor_column
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    binding := jsonb_build_object('relation', relation, 'minor_column', minor_column, 'guardian_column', guardian_column);
    IF @extschema@._bind_existing(fn, 'guardians', relation, binding) THEN
        RETURN;
    END IF;
    IF (SELECT birth_date_column FROM @extschema@.patron_binding) IS NULL THEN
        RAISE WARNING '%: the patron table binding has no birth_date_column', fn
            USING DETAIL = 'Without birth dates no patron counts as a minor: guardians see nothing of anyone''s account.',
                  HINT = 'Bind the patron table again with birth_date_column.';
    END IF;
    PERFORM @extschema@._bind_insert('guardians', binding);
    PERFORM @extschema@._sync_row_security();
END $$;

REVOKE ALL ON FUNCTION @extschema@.bind_guardians(regclass,name,name) FROM PUBLIC;
