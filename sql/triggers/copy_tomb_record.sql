CREATE OR REPLACE TRIGGER copy_tomb_record AFTER INSERT ON @extschema@.sever_pending
    REFERENCING NEW TABLE AS added
    FOR EACH STATEMENT
    EXECUTE FUNCTION @extschema@._copy_tomb_record();
