CREATE OR REPLACE FUNCTION @extschema@._require_unbound(fn text, rel regclass, wanted_kind text) RETURNS boolean
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE other text; rr record;
BEGIN
    SELECT b.kind INTO other FROM @extschema@._binding_kinds(rel) b WHERE b.kind <> wanted_kind;
    IF other IS NOT NULL THEN
        RAISE EXCEPTION '%: "%" is already bound as %', fn, rel, other
            USING ERRCODE = 'duplicate_object',
                  HINT = 'A relation plays one role; call pals_privacy.unbind() first to change it.';
    END IF;
    FOR rr IN SELECT r.relation, r.relationship FROM @extschema@._related_relations(rel) r LOOP
        SELECT b.kind INTO other FROM @extschema@._binding_kinds(rr.relation) b;
        IF other IS NOT NULL THEN
            RAISE EXCEPTION '%: "%" is a % of "%", which is already bound as %', fn, rel,
                    CASE rr.relationship WHEN 'parent' THEN 'partition or child' ELSE 'parent' END,
                    rr.relation, other
                USING ERRCODE = 'duplicate_object',
                      HINT = 'Bind the topmost parent only: its binding covers every partition and child.';
        END IF;
    END LOOP;
    RETURN true;
END $$;

REVOKE ALL ON FUNCTION @extschema@._require_unbound(text,regclass,text) FROM PUBLIC;
