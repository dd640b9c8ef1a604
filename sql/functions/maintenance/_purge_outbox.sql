-- A purged patron's messages waiting in a bound outbox go with them: a
-- purged patron is sent nothing, and a notice's rendered text names them.
-- _purge_patrons() calls it before removing the patrons (an outbox with a
-- foreign key to the patron table would otherwise stop a DELETE purge) and
-- after (what a purge function queued or kept: one that soft-deletes
-- leaves the patron row, and with it every notice addressed to them).
CREATE OR REPLACE FUNCTION @extschema@._purge_outbox(ids text[]) RETURNS void
LANGUAGE plpgsql SET pals_privacy.sweep_as_owner = on AS $$
DECLARE
    b @extschema@.outbox_binding;
BEGIN
    FOR b IN SELECT * FROM @extschema@.outbox_binding LOOP
        EXECUTE pg_catalog.format('DELETE FROM %s WHERE %I = ANY ($1::%s[])', b.relation, b.patron_column,
                                  @extschema@._column_type_name(b.relation, b.patron_column)) USING ids;
    END LOOP;
END $$;

REVOKE ALL ON FUNCTION @extschema@._purge_outbox(text[]) FROM PUBLIC;
