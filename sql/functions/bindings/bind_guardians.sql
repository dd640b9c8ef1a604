CREATE OR REPLACE FUNCTION @extschema@.bind_guardians(relation regclass, minor_column name, guardian_column name)
RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE fn constant text := 'bind_guardians'; existing jsonb;
BEGIN
    PERFORM @extschema@._require_admin(fn);
    PERFORM @extschema@._require_args(fn, ARRAY['relation', 'minor_column', 'guardian_column'],
                                      ARRAY[relation::text, minor_column::text, guardian_column::text]);
    PERFORM @extschema@._require_relkind(fn, relation, '{r,p}');
    PERFORM @extschema@._require_patron_column(fn, relation, minor_column);
    PERFORM @extschema@._require_patron_column(fn, relation, guardian_column);
    IF minor_column = guardian_column THEN
        RAISE EXCEPTION '%: the minor and the guardian column are both "%"', fn, minor_column
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    PERFORM @extschema@._require_unbound(fn, relation, 'guardians');
    SELECT to_jsonb(b) INTO existing FROM @extschema@.guardian_binding b WHERE b.relation = bind_guardians.relation;
    IF @extschema@._same_or_conflict(fn, relation, existing, jsonb_build_object(
            'relation', relation, 'minor_column', minor_column, 'guardian_column', guardian_column)) THEN
        RETURN;
    END IF;
    IF (SELECT birth_date_column FROM @extschema@.patron_binding) IS NULL THEN
        RAISE WARNING '%: the patron table binding has no birth_date_column', fn
            USING DETAIL = 'Without birth dates no patron counts as a minor: guardians see nothing of anyone''s account.',
                  HINT = 'Bind the patron table again with birth_date_column.';
    END IF;
    INSERT INTO @extschema@.guardian_binding (relation, minor_column, guardian_column)
    VALUES (relation, minor_column, guardian_column);
    PERFORM @extschema@._sync_row_security();
END $$;

REVOKE ALL ON FUNCTION @extschema@.bind_guardians(regclass,name,name) FROM PUBLIC;
