CREATE OR REPLACE TRIGGER bindings_changed AFTER INSERT OR DELETE OR UPDATE OR TRUNCATE ON @extschema@.patron_binding
    FOR EACH STATEMENT
    EXECUTE FUNCTION @extschema@._bindings_changed();
CREATE OR REPLACE TRIGGER bindings_changed AFTER INSERT OR DELETE OR UPDATE OR TRUNCATE ON @extschema@.card_binding
    FOR EACH STATEMENT
    EXECUTE FUNCTION @extschema@._bindings_changed();
CREATE OR REPLACE TRIGGER bindings_changed AFTER INSERT OR DELETE OR UPDATE OR TRUNCATE ON @extschema@.balance_binding
    FOR EACH STATEMENT
    EXECUTE FUNCTION @extschema@._bindings_changed();
CREATE OR REPLACE TRIGGER bindings_changed AFTER INSERT OR DELETE OR UPDATE OR TRUNCATE ON @extschema@.loan_binding
    FOR EACH STATEMENT
    EXECUTE FUNCTION @extschema@._bindings_changed();
CREATE OR REPLACE TRIGGER bindings_changed AFTER INSERT OR DELETE OR UPDATE OR TRUNCATE ON @extschema@.private_history_binding
    FOR EACH STATEMENT
    EXECUTE FUNCTION @extschema@._bindings_changed();
CREATE OR REPLACE TRIGGER bindings_changed AFTER INSERT OR DELETE OR UPDATE OR TRUNCATE ON @extschema@.contact_binding
    FOR EACH STATEMENT
    EXECUTE FUNCTION @extschema@._bindings_changed();
CREATE OR REPLACE TRIGGER bindings_changed AFTER INSERT OR DELETE OR UPDATE OR TRUNCATE ON @extschema@.purposes
    FOR EACH STATEMENT
    EXECUTE FUNCTION @extschema@._bindings_changed();
CREATE OR REPLACE TRIGGER bindings_changed AFTER INSERT OR DELETE OR UPDATE OR TRUNCATE ON @extschema@.outbox_binding
    FOR EACH STATEMENT
    EXECUTE FUNCTION @extschema@._bindings_changed();
CREATE OR REPLACE TRIGGER bindings_changed AFTER INSERT OR DELETE OR UPDATE OR TRUNCATE ON @extschema@.guardian_binding
    FOR EACH STATEMENT
    EXECUTE FUNCTION @extschema@._bindings_changed();
CREATE OR REPLACE TRIGGER bindings_changed AFTER INSERT OR DELETE OR UPDATE OR TRUNCATE ON @extschema@.retention_rule
    FOR EACH STATEMENT
    EXECUTE FUNCTION @extschema@._bindings_changed();
CREATE OR REPLACE TRIGGER bindings_changed AFTER INSERT OR DELETE OR UPDATE OR TRUNCATE ON @extschema@.role_class
    FOR EACH STATEMENT
    EXECUTE FUNCTION @extschema@._bindings_changed();
CREATE OR REPLACE TRIGGER bindings_changed AFTER INSERT OR DELETE OR UPDATE OR TRUNCATE ON @extschema@.copy_binding
    FOR EACH STATEMENT
    EXECUTE FUNCTION @extschema@._bindings_changed();
CREATE OR REPLACE TRIGGER bindings_changed AFTER INSERT OR DELETE OR UPDATE OR TRUNCATE ON @extschema@.account_binding
    FOR EACH STATEMENT
    EXECUTE FUNCTION @extschema@._bindings_changed();
