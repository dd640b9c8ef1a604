CREATE OR REPLACE FUNCTION @extschema@.bind_balance(relation regclass, patron_column name, amount_column name)
RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE fn constant text := 'bind_balance'; existing jsonb;
BEGIN
    PERFORM @extschema@._require_admin(fn);
    PERFORM @extschema@._require_args(fn, ARRAY['relation', 'patron_column', 'amount_column'],
                                      ARRAY[relation::text, patron_column::text, amount_column::text]);
    PERFORM @extschema@._require_relkind(fn, relation, '{r,p,v,m}');
    PERFORM @extschema@._require_patron_column(fn, relation, patron_column);
    PERFORM @extschema@._column_type(fn, relation, amount_column, 'amount column', '{N}', 'numeric');
    PERFORM @extschema@._require_unbound(fn, relation, 'balance');
    SELECT to_jsonb(b) INTO existing FROM @extschema@.balance_binding b WHERE b.relation = bind_balance.relation;
    IF @extschema@._same_or_conflict(fn, relation, existing, jsonb_build_object(
            'relation', relation, 'patron_column', patron_column, 'amount_column', amount_column)) THEN
        RETURN;
    END IF;
    INSERT INTO @extschema@.balance_binding (relation, patron_column, amount_column)
    VALUES (relation, patron_column, amount_column);
    PERFORM @extschema@._sync_row_security();
END $$;

REVOKE ALL ON FUNCTION @extschema@.bind_balance(regclass,name,name) FROM PUBLIC;
