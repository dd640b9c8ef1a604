-- AFTER TRUNCATE of a source of a derived copy (per statement, on the source
-- and each inheritance child): a TRUNCATE fires no row trigger, so the copies
-- of the rows it removed are swept here, for the copy the trigger is for, by
-- sever_copies() (a copy row whose key no source holds identified, or that
-- was severed for good); what a trigger of the ILS keeps is recorded
-- (sever_pending, copy_tomb).  Left identified, such a copy would reopen when
-- a new row is given its old key.  A partition truncated on its own (not
-- through its parent) fires only its own triggers: sever_copies() after it.
CREATE OR REPLACE FUNCTION @extschema@._copy_source_truncated() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET pals_privacy.sweep_as_owner = on AS $$
DECLARE c regclass;
BEGIN
    -- the copy this trigger was installed for: its name says which
    FOR c IN SELECT x.relation FROM @extschema@.copy_binding x
              WHERE TG_NAME = 'pals_privacy_copy_' || x.relation::oid || '_t' LOOP
        PERFORM @extschema@.sever_copies(c);
    END LOOP;
    RETURN NULL;
END $$;

REVOKE ALL ON FUNCTION @extschema@._copy_source_truncated() FROM PUBLIC;
