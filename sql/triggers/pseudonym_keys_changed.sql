CREATE OR REPLACE TRIGGER pseudonym_keys_changed AFTER INSERT OR DELETE OR UPDATE OR TRUNCATE ON @extschema@.pseudonym_keys
    FOR EACH STATEMENT
    EXECUTE FUNCTION @extschema@._statistics_binding_changed();
