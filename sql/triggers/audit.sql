CREATE OR REPLACE TRIGGER audit AFTER INSERT OR DELETE OR UPDATE ON @extschema@.patron_binding
    FOR EACH ROW WHEN (NOT @extschema@._restoring())
    EXECUTE FUNCTION @extschema@._audit_config_change();
CREATE OR REPLACE TRIGGER audit AFTER INSERT OR DELETE OR UPDATE ON @extschema@.card_binding
    FOR EACH ROW WHEN (NOT @extschema@._restoring())
    EXECUTE FUNCTION @extschema@._audit_config_change();
CREATE OR REPLACE TRIGGER audit AFTER INSERT OR DELETE OR UPDATE ON @extschema@.balance_binding
    FOR EACH ROW WHEN (NOT @extschema@._restoring())
    EXECUTE FUNCTION @extschema@._audit_config_change();
CREATE OR REPLACE TRIGGER audit AFTER INSERT OR DELETE OR UPDATE ON @extschema@.loan_binding
    FOR EACH ROW WHEN (NOT @extschema@._restoring())
    EXECUTE FUNCTION @extschema@._audit_config_change();
CREATE OR REPLACE TRIGGER audit AFTER INSERT OR DELETE OR UPDATE ON @extschema@.private_history_binding
    FOR EACH ROW WHEN (NOT @extschema@._restoring())
    EXECUTE FUNCTION @extschema@._audit_config_change();
CREATE OR REPLACE TRIGGER audit AFTER INSERT OR DELETE OR UPDATE ON @extschema@.contact_binding
    FOR EACH ROW WHEN (NOT @extschema@._restoring())
    EXECUTE FUNCTION @extschema@._audit_config_change();
CREATE OR REPLACE TRIGGER audit AFTER INSERT OR DELETE OR UPDATE ON @extschema@.purposes
    FOR EACH ROW WHEN (NOT @extschema@._restoring())
    EXECUTE FUNCTION @extschema@._audit_config_change();
CREATE OR REPLACE TRIGGER audit AFTER INSERT OR DELETE OR UPDATE ON @extschema@.outbox_binding
    FOR EACH ROW WHEN (NOT @extschema@._restoring())
    EXECUTE FUNCTION @extschema@._audit_config_change();
CREATE OR REPLACE TRIGGER audit AFTER INSERT OR DELETE OR UPDATE ON @extschema@.guardian_binding
    FOR EACH ROW WHEN (NOT @extschema@._restoring())
    EXECUTE FUNCTION @extschema@._audit_config_change();
CREATE OR REPLACE TRIGGER audit AFTER INSERT OR DELETE OR UPDATE ON @extschema@.retention_rule
    FOR EACH ROW WHEN (NOT @extschema@._restoring())
    EXECUTE FUNCTION @extschema@._audit_config_change();
CREATE OR REPLACE TRIGGER audit AFTER INSERT OR DELETE OR UPDATE ON @extschema@.role_class
    FOR EACH ROW WHEN (NOT @extschema@._restoring())
    EXECUTE FUNCTION @extschema@._audit_config_change();
CREATE OR REPLACE TRIGGER audit AFTER UPDATE OF finished_at ON @extschema@.maintenance_runs
    FOR EACH ROW WHEN (((old.finished_at IS NULL) AND (new.finished_at IS NOT NULL)))
    EXECUTE FUNCTION @extschema@._audit_run();
CREATE OR REPLACE TRIGGER audit AFTER INSERT OR DELETE OR UPDATE ON @extschema@.copy_binding
    FOR EACH ROW
    EXECUTE FUNCTION @extschema@._audit_config_change();
CREATE OR REPLACE TRIGGER audit AFTER INSERT OR DELETE OR UPDATE ON @extschema@.statistics_binding
    FOR EACH ROW
    EXECUTE FUNCTION @extschema@._audit_config_change();
CREATE OR REPLACE TRIGGER audit AFTER INSERT OR DELETE OR UPDATE ON @extschema@.account_binding
    FOR EACH ROW
    EXECUTE FUNCTION @extschema@._audit_config_change();
