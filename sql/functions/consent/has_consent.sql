-- A patron-class session (the role it acts as: SET ROLE, else the session
-- user) asks about its own logged-in patron only.
CREATE OR REPLACE FUNCTION @extschema@.has_consent(patron text, purpose text, channel text) RETURNS boolean
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE acting name := coalesce(nullif(current_setting('role'), 'none'), session_user);
BEGIN
    IF @extschema@.class_of(acting::regrole) = 'patron'
       AND has_consent.patron IS DISTINCT FROM @extschema@.session_patron() THEN
        RAISE EXCEPTION 'permission denied for has_consent'
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = 'A patron session asks about the logged-in patron''s own consent only.';
    END IF;
    RETURN coalesce((SELECT granted FROM @extschema@.consents c
                      WHERE c.patron = has_consent.patron AND c.purpose = has_consent.purpose
                        AND c.channel = has_consent.channel), false);
END $$;

CREATE OR REPLACE FUNCTION @extschema@.has_consent(patron bigint, purpose text, channel text)
RETURNS boolean LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT @extschema@.has_consent(patron::text, purpose, channel)
$$;

GRANT EXECUTE ON FUNCTION @extschema@.has_consent(bigint,text,text) TO PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.has_consent(text,text,text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.has_consent(text,text,text) TO PUBLIC;
