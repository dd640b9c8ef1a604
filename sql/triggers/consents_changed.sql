CREATE OR REPLACE TRIGGER consents_changed AFTER INSERT OR DELETE OR UPDATE OR TRUNCATE ON @extschema@.consents
    FOR EACH STATEMENT
    EXECUTE FUNCTION @extschema@._consents_changed();
