CREATE OR REPLACE TRIGGER statistics_unbound AFTER DELETE ON @extschema@.loan_binding
    FOR EACH ROW
    EXECUTE FUNCTION @extschema@._statistics_unbound();
