-- A loan binding removed (unbind) takes its statistics option with it, so
-- that binding the relation again never resumes records unasked.
CREATE OR REPLACE FUNCTION @extschema@._statistics_unbound() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    DELETE FROM @extschema@.statistics_binding s WHERE s.relation = OLD.relation;
    RETURN NULL;
END $$;

REVOKE ALL ON FUNCTION @extschema@._statistics_unbound() FROM PUBLIC;
