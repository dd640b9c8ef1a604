-- Every finished maintenance run (counts only), and the head of the chain
-- to the server log, for comparison with a copy kept elsewhere.
CREATE OR REPLACE FUNCTION @extschema@._audit_run() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE head_id bigint;
BEGIN
    head_id := @extschema@._audit('maintenance.' || NEW.kind,
                                  jsonb_build_object('run', NEW.id, 'dry_run', NEW.dry_run,
                                                     'counts', NEW.counts, 'error', NEW.error));
    IF NEW.kind = 'maintenance' THEN
        RAISE LOG 'pals_privacy: audit log head is entry % with hash %', head_id,
            (SELECT encode(hash, 'hex') FROM @extschema@.audit_log WHERE id = head_id);
    END IF;
    RETURN NULL;
END $$;

REVOKE ALL ON FUNCTION @extschema@._audit_run() FROM PUBLIC;
