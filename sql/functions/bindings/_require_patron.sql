-- The patron (by id, as text) must exist in the bound patron table.
CREATE OR REPLACE FUNCTION @extschema@._require_patron(fn text, patron text) RETURNS void
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE pb @extschema@.patron_binding; found_patron boolean;
BEGIN
    SELECT * INTO pb FROM @extschema@.patron_binding;
    IF NOT FOUND THEN
        RAISE EXCEPTION '%: the patron table is not bound', fn USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    EXECUTE format('SELECT EXISTS (SELECT 1 FROM %s WHERE %I::text = $1)', pb.relation, pb.id_column)
        INTO found_patron USING patron;
    IF NOT found_patron THEN
        RAISE EXCEPTION '%: patron % does not exist', fn, quote_literal(patron) USING ERRCODE = 'foreign_key_violation';
    END IF;
END $$;

REVOKE ALL ON FUNCTION @extschema@._require_patron(text,text) FROM PUBLIC;
