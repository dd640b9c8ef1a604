CREATE OR REPLACE FUNCTION @extschema@.add_purpose(name text, description text, requires_evidence boolean DEFAULT false)
RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM @extschema@._require_admin('add_purpose');
    PERFORM @extschema@._require_args('add_purpose', ARRAY['name', 'description', 'requires_evidence'],
                                      ARRAY[name, description, requires_evidence::text]);
    IF name !~ '^[a-z][a-z0-9_]*$' THEN
        RAISE EXCEPTION 'add_purpose: % is not a valid purpose name', quote_literal(name)
            USING ERRCODE = 'invalid_parameter_value', HINT = 'Use lower-case letters, digits and underscores.';
    END IF;
    IF EXISTS (SELECT FROM @extschema@.purposes p WHERE p.name = add_purpose.name) THEN
        RAISE EXCEPTION 'add_purpose: purpose % already exists', quote_literal(name) USING ERRCODE = 'duplicate_object';
    END IF;
    INSERT INTO @extschema@.purposes (name, description, requires_evidence) VALUES (name, description, requires_evidence);
END $$;

REVOKE ALL ON FUNCTION @extschema@.add_purpose(text,text,boolean) FROM PUBLIC;
