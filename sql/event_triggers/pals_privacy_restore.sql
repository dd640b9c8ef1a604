-- After a restore (pg_dump's post-data CREATE TRIGGER of a severing trigger):
-- the tracker is rebuilt (functions/events/_on_trigger_restored.sql;
-- docs/operations.md, "Backup and restore").
CREATE EVENT TRIGGER pals_privacy_restore ON ddl_command_end
    WHEN TAG IN ('CREATE TRIGGER')
    EXECUTE FUNCTION @extschema@._on_trigger_restored();
