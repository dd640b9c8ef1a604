CREATE OR REPLACE FUNCTION @extschema@.unclassify_role(role regrole)
RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM @extschema@._require_admin('unclassify_role');
    PERFORM @extschema@._require_args('unclassify_role', ARRAY['role'], ARRAY[role::text]);
    DELETE FROM @extschema@.role_class r WHERE r.role = unclassify_role.role;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unclassify_role: role % is not classified', role USING ERRCODE = 'undefined_object';
    END IF;
END $$;

REVOKE ALL ON FUNCTION @extschema@.unclassify_role(regrole) FROM PUBLIC;
