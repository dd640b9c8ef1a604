-- Every finished maintenance run (counts only).  The head of the chain goes
-- to the server log, for comparison with a copy kept elsewhere, when the
-- run's transaction commits (src/audit.c, chain_at_commit(): an entry's id
-- and hash are settled then).
CREATE OR REPLACE FUNCTION @extschema@._audit_run() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM @extschema@._audit('maintenance.' || NEW.kind,
                               jsonb_build_object('run', NEW.id, 'dry_run', NEW.dry_run,
                                                  'counts', NEW.counts, 'error', NEW.error));
    RETURN NULL;
END $$;

REVOKE ALL ON FUNCTION @extschema@._audit_run() FROM PUBLIC;
