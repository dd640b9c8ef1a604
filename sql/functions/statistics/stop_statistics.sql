CREATE OR REPLACE FUNCTION @extschema@.stop_statistics(relation regclass)
RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM @extschema@._require_admin('stop_statistics');
    DELETE FROM @extschema@.statistics_binding s WHERE s.relation = stop_statistics.relation;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'stop_statistics: "%" does not collect statistics', relation USING ERRCODE = 'undefined_object';
    END IF;
END $$;

REVOKE ALL ON FUNCTION @extschema@.stop_statistics(regclass) FROM PUBLIC;
