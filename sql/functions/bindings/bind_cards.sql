CREATE OR REPLACE FUNCTION @extschema@.bind_cards(relation regclass, card_column name, patron_column name)
RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE fn constant text := 'bind_cards'; existing jsonb;
BEGIN
    PERFORM @extschema@._require_admin(fn);
    PERFORM @extschema@._require_args(fn, ARRAY['relation', 'card_column', 'patron_column'],
                                      ARRAY[relation::text, card_column::text, patron_column::text]);
    PERFORM @extschema@._require_relkind(fn, relation, '{r,p}');
    PERFORM @extschema@._require_key(fn, relation, card_column, 'card number column');
    PERFORM @extschema@._require_patron_column(fn, relation, patron_column);
    PERFORM @extschema@._require_unbound(fn, relation, 'cards');
    SELECT to_jsonb(b) INTO existing FROM @extschema@.card_binding b WHERE b.relation = bind_cards.relation;
    IF @extschema@._same_or_conflict(fn, relation, existing, jsonb_build_object(
            'relation', relation, 'card_column', card_column, 'patron_column', patron_column)) THEN
        RETURN;
    END IF;
    INSERT INTO @extschema@.card_binding (relation, card_column, patron_column)
    VALUES (relation, card_column, patron_column);
    PERFORM @extschema@._sync_row_security();
END $$;

REVOKE ALL ON FUNCTION @extschema@.bind_cards(regclass,name,name) FROM PUBLIC;
