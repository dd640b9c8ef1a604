CREATE OR REPLACE TRIGGER append_only_truncate BEFORE TRUNCATE ON @extschema@.audit_log
    FOR EACH STATEMENT
    EXECUTE FUNCTION @extschema@._audit_append_only();
