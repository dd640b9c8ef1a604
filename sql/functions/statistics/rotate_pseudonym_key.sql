-- End the current key period now (a key that may have leaked, or a test):
-- its key is destroyed at once; the next record starts a new period.
CREATE OR REPLACE FUNCTION @extschema@.rotate_pseudonym_key() RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM @extschema@._require_admin('rotate_pseudonym_key');
    UPDATE @extschema@.pseudonym_keys k SET period_end = greatest(clock_timestamp(), k.period_start + interval '1 microsecond')
     WHERE k.key IS NOT NULL AND k.period_end > clock_timestamp();
    -- the ended period's key goes now, not at the next use
    UPDATE @extschema@.pseudonym_keys k SET key = NULL, destroyed_at = clock_timestamp()
     WHERE k.key IS NOT NULL;
    PERFORM @extschema@._audit('pseudonym_key.rotate', '{}');
END $$;

REVOKE ALL ON FUNCTION @extschema@.rotate_pseudonym_key() FROM PUBLIC;
