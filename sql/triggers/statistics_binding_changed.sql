CREATE OR REPLACE TRIGGER statistics_binding_changed AFTER INSERT OR DELETE OR UPDATE OR TRUNCATE ON @extschema@.statistics_binding
    FOR EACH STATEMENT
    EXECUTE FUNCTION @extschema@._statistics_binding_changed();
