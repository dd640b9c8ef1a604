CREATE OR REPLACE FUNCTION @extschema@._on_sql_drop() RETURNS event_trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE c record; rels oid[]; names text[];
BEGIN
    -- a bound column dropped from a relation that stays: refused
    FOR c IN SELECT d.objid, d.address_names, d.object_identity FROM pg_event_trigger_dropped_objects() d
              WHERE d.object_type = 'table column'
                AND NOT EXISTS (SELECT FROM pg_event_trigger_dropped_objects() x
                                 WHERE x.classid = 'pg_class'::regclass AND x.objid = d.objid AND x.objsubid = 0)
    LOOP
        IF c.address_names[3] IN (SELECT @extschema@._bound_columns(c.objid)) THEN
            RAISE EXCEPTION 'cannot drop column %: pals_privacy has it bound', c.object_identity
                USING ERRCODE = 'dependent_objects_still_exist',
                      DETAIL = format('Bindings of %s: %s.', c.objid::regclass,
                                      (SELECT string_agg(DISTINCT b.kind, ', ') FROM @extschema@.bindings b WHERE b.relation::oid = c.objid)),
                      HINT = 'Unbind the relation with pals_privacy.unbind() first, and bind it again without the column.';
        END IF;
    END LOOP;
    SELECT array_agg(d.objid), array_agg(d.object_identity) INTO rels, names
      FROM pg_event_trigger_dropped_objects() d
     WHERE d.classid = 'pg_class'::regclass AND d.objsubid = 0
       AND d.object_type IN ('table', 'view', 'materialized view', 'foreign table');
    IF rels IS NOT NULL THEN
        -- a dropped source of a copy that stays leaves it (refused for its only source)
        PERFORM @extschema@._forget_copy_sources(rels, names, true);
        PERFORM @extschema@._forget_relations(rels, names, 'dropped');
    END IF;
END $$;

REVOKE ALL ON FUNCTION @extschema@._on_sql_drop() FROM PUBLIC;
