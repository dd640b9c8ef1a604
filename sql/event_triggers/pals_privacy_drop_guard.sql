-- DROP EXTENSION (or DROP SCHEMA pals_privacy) is refused while the extension
-- keeps evidence (audit log, consents, legal orders, PINs, kept history)
-- unless pals_privacy.allow_drop_with_evidence is set (docs/operations.md, "Uninstall").
CREATE EVENT TRIGGER pals_privacy_drop_guard ON ddl_command_start
    WHEN TAG IN ('DROP EXTENSION', 'DROP SCHEMA')
    EXECUTE FUNCTION @extschema@._drop_guard();
