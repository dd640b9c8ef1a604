CREATE OR REPLACE FUNCTION @extschema@.unbind_copy(relation regclass) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE c @extschema@.copy_binding;
BEGIN
    PERFORM @extschema@._require_admin('unbind_copy');
    SELECT * INTO c FROM @extschema@.copy_binding x WHERE x.relation = unbind_copy.relation;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unbind_copy: "%" is not bound with bind_copy', relation USING ERRCODE = 'undefined_object';
    END IF;
    PERFORM @extschema@._drop_copy_triggers(c);
    DELETE FROM @extschema@.sever_pending p WHERE p.binding = unbind_copy.relation::oid;
    DELETE FROM @extschema@.copy_tomb x WHERE x.relation = unbind_copy.relation;
    DELETE FROM @extschema@.copy_binding x WHERE x.relation = unbind_copy.relation;
    PERFORM @extschema@._sync_row_security();
END $$;

REVOKE ALL ON FUNCTION @extschema@.unbind_copy(regclass) FROM PUBLIC;
