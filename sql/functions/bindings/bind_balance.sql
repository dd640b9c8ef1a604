CREATE OR REPLACE FUNCTION @extschema@.bind_balance(relation regclass, patron_column name, amount_column name)
RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE fn constant text := 'bind_balance';
BEGIN
    PERFORM @extschema@._bind_check(fn, relation, '{r,p,v,m}',
        ARRAY['relation', 'patron_column', 'amount_column'],
        ARRAY[relation::text, patron_column::text, amount_column::text]);
    PERFORM @extschema@._require_patron_column(fn, relation, patron_column);
    PERFORM @extschema@._column_type(fn, relation, amount_column, 'amount column', '{N}', 'numeric');
    -- a view is read as its owner: an operational owner, running only its own or superusers' functions
    PERFORM @extschema@._require_view_owner(fn, relation);
    PERFORM @extschema@._bind(fn, 'balance', relation, jsonb_build_object(
        'relation', relation, 'patron_column', patron_column, 'amount_column', amount_column));
END $$;

REVOKE ALL ON FUNCTION @extschema@.bind_balance(regclass,name,name) FROM PUBLIC;
