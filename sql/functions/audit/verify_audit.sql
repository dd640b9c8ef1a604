CREATE OR REPLACE FUNCTION @extschema@.verify_audit() RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE e @extschema@.audit_log; prev bytea; expected bigint;
BEGIN
    PERFORM @extschema@._require_auditor('verify_audit');
    FOR e IN SELECT * FROM @extschema@.audit_log ORDER BY id LOOP
        IF expected IS NULL AND e.event = 'audit.checkpoint' THEN
            -- retention removed what came before: the chain goes on from the
            -- hash this checkpoint carries (that of the last removed entry)
            prev := e.hash;
            expected := e.id + 1;
            CONTINUE;
        ELSIF expected IS NULL THEN
            IF e.id <> 1 THEN
                RETURN e.id;
            END IF;
            prev := e.prev_hash;
        ELSIF e.id <> expected OR e.prev_hash IS DISTINCT FROM prev THEN
            RETURN e.id;
        END IF;
        IF @extschema@._audit_hash(prev, @extschema@._audit_content(e)) <> e.hash THEN
            RETURN e.id;
        END IF;
        prev := e.hash;
        expected := e.id + 1;
    END LOOP;
    RETURN NULL;
END $$;

REVOKE ALL ON FUNCTION @extschema@.verify_audit() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.verify_audit() TO PUBLIC;
