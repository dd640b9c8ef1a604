-- Unbind a copy (every source, the triggers, its pending rows), or remove
-- one source from it (source => ...): the copy keeps following the others.
CREATE OR REPLACE FUNCTION @extschema@.unbind_copy(relation regclass, source regclass DEFAULT NULL) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE c @extschema@.copy_binding;
BEGIN
    PERFORM @extschema@._require_admin('unbind_copy');
    SELECT * INTO c FROM @extschema@.copy_binding x WHERE x.relation = unbind_copy.relation;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unbind_copy: "%" is not bound with bind_copy', relation USING ERRCODE = 'undefined_object';
    END IF;
    -- copies of this copy (bind_copy with it as source) follow its rows: as
    -- for unbind() of a loan binding, they go first, knowingly
    IF source IS NULL AND EXISTS (SELECT 1 FROM @extschema@.copy_binding x, @extschema@._copy_sources(x) s
                                   WHERE s.source = unbind_copy.relation) THEN
        RAISE EXCEPTION 'unbind_copy: derived copies follow "%"', relation
            USING ERRCODE = 'dependent_objects_still_exist',
                  DETAIL = (SELECT format('Bound as copies of it (bind_copy): %s.', string_agg(x.relation::text, ', ' ORDER BY x.relation::text))
                              FROM @extschema@.copy_binding x
                             WHERE EXISTS (SELECT FROM @extschema@._copy_sources(x) s WHERE s.source = unbind_copy.relation)),
                  HINT = (SELECT format('Unbind the copies first: %s.',
                                        string_agg(format('SELECT pals_privacy.unbind_copy(%L)', x.relation::text), '; ' ORDER BY x.relation::text))
                            FROM @extschema@.copy_binding x
                           WHERE EXISTS (SELECT FROM @extschema@._copy_sources(x) s WHERE s.source = unbind_copy.relation));
    END IF;
    IF source IS NOT NULL THEN
        IF NOT EXISTS (SELECT FROM @extschema@._copy_sources(c) s WHERE s.source = unbind_copy.source) THEN
            RAISE EXCEPTION 'unbind_copy: "%" is not a source of "%"', source, relation
                USING ERRCODE = 'undefined_object',
                      DETAIL = format('Its sources: %s.', (SELECT string_agg(s.source::text, ', ' ORDER BY s.n) FROM @extschema@._copy_sources(c) s));
        END IF;
        IF c.more_sources IS NULL THEN
            RAISE EXCEPTION 'unbind_copy: "%" is the only source of "%"', source, relation
                USING ERRCODE = 'object_not_in_prerequisite_state',
                      HINT = format('A copy follows at least one source: call pals_privacy.unbind_copy(%L) to unbind the copy.', relation::text);
        END IF;
        PERFORM @extschema@._copy_remove_sources(relation, ARRAY[source::oid]);
        RETURN;
    END IF;
    PERFORM @extschema@._drop_copy_triggers(c);
    DELETE FROM @extschema@.sever_pending p WHERE p.binding = unbind_copy.relation::oid;
    DELETE FROM @extschema@.copy_tomb x WHERE x.relation = unbind_copy.relation;
    DELETE FROM @extschema@.copy_binding x WHERE x.relation = unbind_copy.relation;
    PERFORM @extschema@._sync_row_security();
END $$;

REVOKE ALL ON FUNCTION @extschema@.unbind_copy(regclass,regclass) FROM PUBLIC;
