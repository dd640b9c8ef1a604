-- pals_privacy 0.1.0 -> 0.2.0, hand-written part 2 of 2: what needs the
-- 0.2.0 functions, run AFTER every function, view and trigger file of sql/
-- (see sql/README.md, "Upgrades and releases").

-- Fail closed (docs/redaction.md, "Threat model"): every bound table, with
-- its partitions and inheritance children, gets the restrictive policy.
SELECT @extschema@._sync_row_security();

-- New event triggers (issue 15): dropped relations leave no binding behind,
-- a restored dump's triggers are checked, DROP EXTENSION keeps the evidence.
CREATE EVENT TRIGGER pals_privacy_dropped_relations ON sql_drop
    EXECUTE FUNCTION @extschema@._on_sql_drop();
CREATE EVENT TRIGGER pals_privacy_restore ON ddl_command_end
    WHEN TAG IN ('CREATE TRIGGER')
    EXECUTE FUNCTION @extschema@._on_trigger_restored();
CREATE EVENT TRIGGER pals_privacy_drop_guard ON ddl_command_start
    WHEN TAG IN ('DROP EXTENSION', 'DROP SCHEMA')
    EXECUTE FUNCTION @extschema@._drop_guard();

-- The patron table's triggers as 0.2.0 installs them (the placeholder guard).
SELECT @extschema@._install_patron_triggers(relation) FROM @extschema@.patron_binding;

-- The loan tables' triggers as 0.2.0 installs them: pals_privacy_tombstone (only a
-- close makes a last borrower; src/tombstone.c; no WHEN clause: the function tests
-- the old row) next to pals_privacy_sever.
SELECT @extschema@._install_loan_triggers(l.relation) FROM @extschema@.loan_binding l
 WHERE EXISTS (SELECT FROM pg_class c WHERE c.oid = l.relation::oid);
