CREATE OR REPLACE FUNCTION @extschema@.bind_private_history(relation regclass, patron_column name)
RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE fn constant text := 'bind_private_history'; existing jsonb;
BEGIN
    PERFORM @extschema@._require_admin(fn);
    PERFORM @extschema@._require_args(fn, ARRAY['relation', 'patron_column'],
                                      ARRAY[relation::text, patron_column::text]);
    PERFORM @extschema@._require_relkind(fn, relation, '{r,p}');
    PERFORM @extschema@._require_patron_column(fn, relation, patron_column);
    PERFORM @extschema@._require_unbound(fn, relation, 'private_history');
    SELECT to_jsonb(b) INTO existing FROM @extschema@.private_history_binding b
     WHERE b.relation = bind_private_history.relation;
    IF @extschema@._same_or_conflict(fn, relation, existing, jsonb_build_object(
            'relation', relation, 'patron_column', patron_column)) THEN
        RETURN;
    END IF;
    INSERT INTO @extschema@.private_history_binding (relation, patron_column) VALUES (relation, patron_column);
    PERFORM @extschema@._sync_row_security();
END $$;

REVOKE ALL ON FUNCTION @extschema@.bind_private_history(regclass,name) FROM PUBLIC;
