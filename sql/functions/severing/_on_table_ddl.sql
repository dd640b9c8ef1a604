-- A table made an inheritance child of a bound loan relation after binding
-- (CREATE TABLE ... INHERITS, ALTER TABLE ... INHERIT) gets the severing
-- trigger at once.  (Partitions get it from PostgreSQL itself.)  A partition
-- partitioned by a patron column is refused.
CREATE OR REPLACE FUNCTION @extschema@._on_table_ddl() RETURNS event_trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE c record; b regclass;
BEGIN
    FOR c IN SELECT DISTINCT objid FROM pg_event_trigger_ddl_commands()
              WHERE object_type = 'table' AND classid = 'pg_class'::regclass LOOP
        FOR b IN SELECT l.relation FROM @extschema@.loan_binding l
                  WHERE l.relation IN (SELECT r.relation FROM @extschema@._related_relations(c.objid::regclass) r
                                        WHERE r.relationship = 'parent')
                    AND (SELECT relkind FROM pg_class WHERE oid = l.relation) = 'r'
        LOOP
            PERFORM @extschema@._install_loan_triggers(b);
        END LOOP;
    END LOOP;
    -- a partition created or attached under a bound loan relation must not be
    -- partitioned by a patron column: severing could not move its rows
    -- (functions/bindings/_require_no_patron_partition_key.sql); the DDL fails
    FOR c IN SELECT DISTINCT l.relation, l.patron_column, l.more_patron_columns, l.sever_with
               FROM pg_event_trigger_ddl_commands() d
               JOIN @extschema@.loan_binding l
                 ON l.relation = d.objid
                 OR l.relation IN (SELECT r.relation FROM @extschema@._related_relations(d.objid::regclass) r
                                    WHERE r.relationship = 'parent')
              WHERE d.object_type = 'table' AND d.classid = 'pg_class'::regclass LOOP
        PERFORM @extschema@._require_no_patron_partition_key(format('partition of bound %s', c.relation), c.relation,
                                                             c.patron_column, c.more_patron_columns, c.sever_with);
    END LOOP;
    -- a partition or child created under a bound table gets its row security too
    -- (CREATE TABLE only: a restore creates tables before any binding is back,
    -- and brings their row security back itself)
    IF EXISTS (SELECT 1 FROM pg_event_trigger_ddl_commands() d JOIN pg_inherits i ON i.inhrelid = d.objid
                WHERE d.object_type = 'table' AND d.command_tag = 'CREATE TABLE') THEN
        PERFORM @extschema@._sync_row_security();
    END IF;
END $$;

REVOKE ALL ON FUNCTION @extschema@._on_table_ddl() FROM PUBLIC;
