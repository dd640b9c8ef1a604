CREATE OR REPLACE TRIGGER append_only BEFORE DELETE OR UPDATE ON @extschema@.audit_log
    FOR EACH ROW
    EXECUTE FUNCTION @extschema@._audit_append_only();
