-- Guardian bindings are audited like every other binding (issue 18): 0.1.0
-- put the audit trigger on every binding and classification table but
-- guardian_binding, so bind_guardians and unbind of a guardianship table left
-- no entry in the audit log.  Where a change before this one made the audit
-- triggers skip the rows a restore copies in (a function _restoring()), this
-- trigger does the same.
DO $$
BEGIN
    DROP TRIGGER IF EXISTS audit ON @extschema@.guardian_binding;
    IF to_regprocedure('@extschema@._restoring()') IS NOT NULL THEN
        CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON @extschema@.guardian_binding
            FOR EACH ROW WHEN (NOT @extschema@._restoring())
            EXECUTE FUNCTION @extschema@._audit_config_change();
    ELSE
        CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON @extschema@.guardian_binding
            FOR EACH ROW EXECUTE FUNCTION @extschema@._audit_config_change();
    END IF;
END $$;
