-- Walks the chain; returns the id of the first entry whose link or hash does
-- not match, NULL when it verifies.  Each entry is hashed in the format it
-- records (_audit_content()); entries of 0.1.0 are in format 1, later ones
-- in format 2, and since appenders only ever write the current format, an
-- entry in format 1 after one in format 2 (or in a format that does not
-- exist) is reported too.
CREATE OR REPLACE FUNCTION @extschema@.verify_audit() RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE e @extschema@.audit_log; prev bytea; expected bigint; newest_format smallint := 1;
BEGIN
    PERFORM @extschema@._require_auditor('verify_audit');
    FOR e IN SELECT * FROM @extschema@.audit_log ORDER BY id LOOP
        IF e.content_format NOT IN (1, 2) OR e.content_format < newest_format THEN
            RETURN e.id;
        END IF;
        newest_format := e.content_format;
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
