-- Auditors (by their login role) and superusers read the log.
CREATE OR REPLACE FUNCTION @extschema@._require_auditor(fn text) RETURNS void
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF NOT (SELECT rolsuper FROM pg_roles WHERE rolname = session_user)
       AND @extschema@.class_of(session_user::regrole) <> 'auditor' THEN
        RAISE EXCEPTION 'permission denied for %', fn
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = format('Role %I is not of privacy class auditor.', session_user);
    END IF;
END $$;

REVOKE ALL ON FUNCTION @extschema@._require_auditor(text) FROM PUBLIC;
