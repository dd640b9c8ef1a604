CREATE OR REPLACE FUNCTION @extschema@.bind_private_history(relation regclass, patron_column name)
RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE fn constant text := 'bind_private_history';
BEGIN
    PERFORM @extschema@._bind_check(fn, relation, '{r,p}',
        ARRAY['relation', 'patron_column'],
        ARRAY[relation::text, patron_column::text]);
    PERFORM @extschema@._require_patron_column(fn, relation, patron_column);
    PERFORM @extschema@._bind(fn, 'private_history', relation, jsonb_build_object(
        'relation', relation, 'patron_column', patron_column));
END $$;

REVOKE ALL ON FUNCTION @extschema@.bind_private_history(regclass,name) FROM PUBLIC;
