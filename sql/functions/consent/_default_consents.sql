-- A new patron starts with the consents of consent_defaults for their library.
CREATE OR REPLACE FUNCTION @extschema@._default_consents() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE pb @extschema@.patron_binding; id text; lib text; d record; n bigint;
BEGIN
    SELECT * INTO pb FROM @extschema@.patron_binding;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    id := to_jsonb(NEW) ->> pb.id_column;
    lib := CASE WHEN pb.library_column IS NOT NULL THEN to_jsonb(NEW) ->> pb.library_column END;
    FOR d IN SELECT DISTINCT purpose, channel FROM @extschema@.consent_defaults c
              WHERE c.library IS NULL OR c.library = lib LOOP
        INSERT INTO @extschema@.consents (patron, purpose, channel, granted, evidence, recorded_by)
        VALUES (id, d.purpose, d.channel, true, 'registration', session_user)
        ON CONFLICT DO NOTHING;
        GET DIAGNOSTICS n = ROW_COUNT;
        CONTINUE WHEN n = 0;    -- a consent on record already: history stays true to it
        INSERT INTO @extschema@.consent_history (patron, purpose, channel, action, evidence, recorded_by)
        VALUES (id, d.purpose, d.channel, 'grant', 'registration', session_user);
        PERFORM @extschema@._audit('consent.grant',
            jsonb_build_object('patron', id, 'purpose', d.purpose, 'channel', d.channel, 'evidence', 'registration'));
    END LOOP;
    RETURN NULL;
END $$;

REVOKE ALL ON FUNCTION @extschema@._default_consents() FROM PUBLIC;
