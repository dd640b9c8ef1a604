CREATE OR REPLACE FUNCTION @extschema@.retain(relation regclass, timestamp_column name, keep interval, action text DEFAULT 'delete')
RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE fn constant text := 'retain'; existing jsonb;
BEGIN
    PERFORM @extschema@._require_admin(fn);
    PERFORM @extschema@._require_args(fn, ARRAY['relation', 'timestamp_column', 'keep', 'action'],
                                      ARRAY[relation::text, timestamp_column::text, keep::text, action]);
    PERFORM @extschema@._require_relkind(fn, relation, '{r,p}');
    PERFORM @extschema@._column_type(fn, relation, timestamp_column, 'timestamp column', '{D}', 'a date or timestamp');
    IF keep <= interval '0' THEN
        RAISE EXCEPTION '%: keep must be a positive interval, not %', fn, keep
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF action NOT IN ('delete', 'sever') THEN
        RAISE EXCEPTION '%: unknown action %', fn, quote_literal(action)
            USING ERRCODE = 'invalid_parameter_value', HINT = 'Use ''delete'' or ''sever''.';
    END IF;
    IF action = 'sever' AND NOT EXISTS (SELECT 1 FROM @extschema@._binding_kinds(relation)
                                         WHERE kind IN ('loans', 'private_history', 'outbox', 'cards')) THEN
        RAISE EXCEPTION '%: action ''sever'' needs to know the patron column of "%"', fn, relation
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'Bind the relation (for example with bind_loans) first, or use action => ''delete''.';
    END IF;
    SELECT to_jsonb(b) INTO existing FROM @extschema@.retention_rule b WHERE b.relation = retain.relation;
    IF @extschema@._same_or_conflict(fn, relation, existing, jsonb_build_object(
            'relation', relation, 'timestamp_column', timestamp_column, 'keep', keep, 'action', action)) THEN
        RETURN;
    END IF;
    INSERT INTO @extschema@.retention_rule (relation, timestamp_column, keep, action)
    VALUES (relation, timestamp_column, keep, action);
END $$;

REVOKE ALL ON FUNCTION @extschema@.retain(regclass,name,interval,text) FROM PUBLIC;
