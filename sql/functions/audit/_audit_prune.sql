-- Retention takes the chain lock the appenders take.
CREATE OR REPLACE FUNCTION @extschema@._audit_prune() RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE keep interval; last_removed bigint; head bigint; n bigint;
BEGIN
    PERFORM @extschema@.current_class();   -- loads the library, which defines the setting
    keep := make_interval(mins => (SELECT setting::integer FROM pg_settings WHERE name = 'pals_privacy.audit_retention'));
    IF keep IS NULL OR keep = interval '0' THEN
        RETURN 0;
    END IF;
    SELECT max(id) INTO head FROM @extschema@.audit_log;
    SELECT max(id) INTO last_removed FROM @extschema@.audit_log WHERE at < now() - keep AND id < head;
    IF last_removed IS NULL THEN
        RETURN 0;
    END IF;
    PERFORM @extschema@._audit_lock();
    DELETE FROM @extschema@.audit_log WHERE id < last_removed;
    GET DIAGNOSTICS n = ROW_COUNT;
    UPDATE @extschema@.audit_log
       SET event = 'audit.checkpoint', prev_hash = NULL,
           details = jsonb_build_object('removed_through', last_removed, 'removed', n + 1,
                                        'older_than', now() - keep)
     WHERE id = last_removed AND event <> 'audit.checkpoint';
    RETURN n;
END $$;

REVOKE ALL ON FUNCTION @extschema@._audit_prune() FROM PUBLIC;
