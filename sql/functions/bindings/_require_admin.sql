-- Validation helpers (internal).  Each raises a clear error with a SQLSTATE.

-- Only a superuser or the extension's owner may change bindings.
CREATE OR REPLACE FUNCTION @extschema@._require_admin(fn text) RETURNS void
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE owner oid;
BEGIN
    SELECT extowner INTO owner FROM pg_extension WHERE extname = 'pals_privacy';
    IF NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)
       AND NOT pg_has_role(current_user, owner, 'MEMBER') THEN
        RAISE EXCEPTION 'permission denied for %', fn
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = format('Role %I is neither a superuser nor the owner of extension pals_privacy.', current_user),
                  HINT = 'Ask a database administrator to change bindings.';
    END IF;
END $$;

REVOKE ALL ON FUNCTION @extschema@._require_admin(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@._require_admin(text) TO PUBLIC;
