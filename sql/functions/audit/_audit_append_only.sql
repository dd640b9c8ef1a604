-- Only a superuser may change or remove entries (and verify_audit() will
-- notice); nobody else can even read them but through the functions below.
CREATE OR REPLACE FUNCTION @extschema@._audit_append_only() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
        RAISE EXCEPTION 'the audit log is append-only'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN CASE TG_OP WHEN 'DELETE' THEN OLD ELSE NEW END;
END $$;

REVOKE ALL ON FUNCTION @extschema@._audit_append_only() FROM PUBLIC;
