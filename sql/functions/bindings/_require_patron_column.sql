-- A patron column must be able to hold the patron table's id.
CREATE OR REPLACE FUNCTION @extschema@._require_patron_column(fn text, rel regclass, col name) RETURNS regtype
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE t regtype; pt regtype; p record;
BEGIN
    SELECT * INTO p FROM @extschema@.patron_binding;
    IF NOT FOUND THEN
        RAISE EXCEPTION '%: the patron table is not bound yet', fn
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'Call pals_privacy.bind_patrons() first.';
    END IF;
    t := @extschema@._require_key(fn, rel, col, 'patron column');
    pt := @extschema@._column_type(fn, p.relation, p.id_column, 'patron id column');
    IF t <> pt AND NOT (t IN ('smallint', 'integer', 'bigint', 'numeric') AND pt IN ('smallint', 'integer', 'bigint', 'numeric'))
               AND NOT (t IN ('text', 'character varying', 'character') AND pt IN ('text', 'character varying', 'character')) THEN
        RAISE EXCEPTION '%: column "%" of relation "%" has type %, but patron ids (%.%) are %', fn, col, rel, t, p.relation, p.id_column, pt
            USING ERRCODE = 'datatype_mismatch';
    END IF;
    RETURN t;
END $$;

REVOKE ALL ON FUNCTION @extschema@._require_patron_column(text,regclass,name) FROM PUBLIC;
