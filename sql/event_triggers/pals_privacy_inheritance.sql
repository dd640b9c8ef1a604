-- A table made an inheritance child of a bound loan relation after binding
-- is taken care of by functions/severing/_on_table_ddl.sql.
CREATE EVENT TRIGGER pals_privacy_inheritance ON ddl_command_end
    WHEN TAG IN ('CREATE TABLE', 'ALTER TABLE')
    EXECUTE FUNCTION @extschema@._on_table_ddl();
