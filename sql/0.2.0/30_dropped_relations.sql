------------------------------------------------------------------------------
-- Dropped relations (issue 15): no binding ever names a dead OID.
-- An sql_drop event trigger removes, with an audit entry, the bindings of a
-- relation that is dropped (a bound table or view, and with them the
-- tracker, pending severs and backlog progress of its rows, also those that
-- lived in a dropped partition or inheritance child); dropping a bound column
-- is refused.  Relations that go away without a DROP statement (a temporary
-- table at the end of its session) are swept by maintenance and by
-- binding_problems().
------------------------------------------------------------------------------

-- The extension's binding tables: members named *_binding (and
-- retention_rule) with a regclass column "relation".
CREATE FUNCTION @extschema@._binding_tables() RETURNS SETOF regclass
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT c.oid::regclass
      FROM pg_class c
      JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e'
      JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'pals_privacy'
     WHERE c.relkind = 'r' AND (c.relname LIKE '%\_binding' OR c.relname = 'retention_rule')
       AND EXISTS (SELECT FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'relation'
                                                AND a.atttypid = 'regclass'::regtype AND NOT a.attisdropped)
     ORDER BY c.relname
$$;

-- The columns a relation's bindings name (every "*_column" setting, every
-- element of a "*_columns" setting, a contact binding's column).
CREATE FUNCTION @extschema@._bound_columns(rel oid) RETURNS SETOF text
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT DISTINCT v FROM (
        SELECT b.column_name::text AS v FROM @extschema@.bindings b
         WHERE b.relation::oid = rel AND b.kind = 'contact'
        UNION ALL
        SELECT s.value #>> '{}' FROM @extschema@.bindings b, jsonb_each(b.settings) s
         WHERE b.relation::oid = rel AND s.key LIKE '%\_column' AND jsonb_typeof(s.value) = 'string'
        UNION ALL
        SELECT e FROM @extschema@.bindings b, jsonb_each(b.settings) s, jsonb_array_elements_text(s.value) e
         WHERE b.relation::oid = rel AND s.key LIKE '%\_columns' AND jsonb_typeof(s.value) = 'array'
    ) x WHERE v IS NOT NULL
$$;

-- Remove every binding of the given relations (and the severing state of
-- their rows), one audit entry per relation.  Returns how many relations
-- had bindings.
CREATE FUNCTION @extschema@._forget_relations(rels oid[], names text[], why text) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    t regclass;
    n bigint;
    kinds text[];
    forgotten integer := 0;
    patrons_gone boolean := false;
BEGIN
    FOR i IN 1 .. coalesce(cardinality(rels), 0) LOOP
        kinds := '{}';
        FOR t IN SELECT @extschema@._binding_tables() LOOP
            EXECUTE format('DELETE FROM %s WHERE relation::oid = $1', t) USING rels[i];
            GET DIAGNOSTICS n = ROW_COUNT;
            IF n > 0 THEN
                kinds := kinds || (SELECT relname::text FROM pg_class WHERE oid = t);
                patrons_gone := patrons_gone OR t = '@extschema@.patron_binding'::regclass;
            END IF;
        END LOOP;
        -- severing state of rows of the relation (also a partition or child
        -- of a bound one): their TIDs mean nothing any more
        DELETE FROM @extschema@.last_borrower WHERE binding = rels[i] OR row_relid = rels[i];
        DELETE FROM @extschema@.sever_pending WHERE binding = rels[i] OR row_relid = rels[i];
        DELETE FROM @extschema@.backlog_progress WHERE binding = rels[i];
        DELETE FROM @extschema@.outbox_dropped WHERE relation::oid = rels[i];
        IF cardinality(kinds) > 0 THEN
            forgotten := forgotten + 1;
            PERFORM @extschema@._audit('binding.relation_dropped',
                jsonb_build_object('relation', names[i], 'oid', rels[i]::bigint, 'bindings', to_jsonb(kinds), 'why', why));
            RAISE WARNING 'pals_privacy: relation % is gone (%): its bindings (%) were removed', names[i], why,
                array_to_string(kinds, ', ');
        END IF;
    END LOOP;
    IF patrons_gone AND EXISTS (SELECT FROM @extschema@.bindings b WHERE b.kind <> 'retain') THEN
        RAISE WARNING 'pals_privacy: the patron table binding was removed, and other bindings remain'
            USING DETAIL = 'Without a patron table nothing is purged, and consent and PINs cannot be checked against patrons.',
                  HINT = 'Bind the new patron table with pals_privacy.bind_patrons(), or unbind the other relations.';
    END IF;
    RETURN forgotten;
END $$;

-- Bindings whose relation no longer exists (a temporary table whose session
-- ended drops without a DROP statement, so without the event trigger).
CREATE FUNCTION @extschema@._forget_dead_bindings() RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE rels oid[]; n integer;
BEGIN
    SELECT array_agg(DISTINCT b.relation::oid) INTO rels FROM @extschema@.bindings b
     WHERE NOT EXISTS (SELECT FROM pg_class c WHERE c.oid = b.relation::oid);
    n := @extschema@._forget_relations(rels, (SELECT array_agg(x::text) FROM unnest(rels) x), 'no longer exists');
    DELETE FROM @extschema@.last_borrower l WHERE NOT EXISTS (SELECT FROM pg_class c WHERE c.oid = l.row_relid);
    DELETE FROM @extschema@.sever_pending p WHERE NOT EXISTS (SELECT FROM pg_class c WHERE c.oid = p.row_relid);
    RETURN n;
END $$;

CREATE FUNCTION @extschema@._on_sql_drop() RETURNS event_trigger
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
        PERFORM @extschema@._forget_relations(rels, names, 'dropped');
    END IF;
END $$;
CREATE EVENT TRIGGER pals_privacy_dropped_relations ON sql_drop
    EXECUTE FUNCTION @extschema@._on_sql_drop();

-- What is wrong with the bindings now: a relation that no longer exists, a
-- bound column that no longer exists, a purge function that is gone.
-- Maintenance skips (and reports) what these name; the health check lists them.
CREATE FUNCTION @extschema@.binding_problems()
RETURNS TABLE (kind text, relation regclass, problem text)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE b record; col text;
BEGIN
    FOR b IN SELECT x.kind, x.relation::oid AS rel, x.settings FROM @extschema@.bindings x ORDER BY 1, 2 LOOP
        IF NOT EXISTS (SELECT FROM pg_class c WHERE c.oid = b.rel) THEN
            kind := b.kind; relation := b.rel;
            problem := format('relation with OID %s no longer exists', b.rel);
            RETURN NEXT;
            CONTINUE;
        END IF;
        FOR col IN SELECT @extschema@._bound_columns(b.rel) LOOP
            IF NOT EXISTS (SELECT FROM pg_attribute a WHERE a.attrelid = b.rel AND a.attname = col
                                                       AND a.attnum > 0 AND NOT a.attisdropped) THEN
                kind := b.kind; relation := b.rel;
                problem := format('column "%s" no longer exists', col);
                RETURN NEXT;
            END IF;
        END LOOP;
        IF b.kind = 'patrons' AND b.settings ? 'purge_function'
           AND to_regprocedure(b.settings ->> 'purge_function') IS NULL THEN
            kind := b.kind; relation := b.rel;
            problem := format('purge function %s no longer exists', b.settings ->> 'purge_function');
            RETURN NEXT;
        END IF;
    END LOOP;
END $$;
REVOKE ALL ON FUNCTION @extschema@._binding_tables(), @extschema@._bound_columns(oid),
    @extschema@._forget_relations(oid[], text[], text), @extschema@._forget_dead_bindings(),
    @extschema@.binding_problems() FROM PUBLIC;
