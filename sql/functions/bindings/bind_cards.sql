CREATE OR REPLACE FUNCTION @extschema@.bind_cards(relation regclass, card_column name, patron_column name)
RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE fn constant text := 'bind_cards';
BEGIN
    PERFORM @extschema@._bind_check(fn, relation, '{r,p}',
        ARRAY['relation', 'card_column', 'patron_column'],
        ARRAY[relation::text, card_column::text, patron_column::text]);
    PERFORM @extschema@._require_key(fn, relation, card_column, 'card number column');
    PERFORM @extschema@._require_patron_column(fn, relation, patron_column);
    PERFORM @extschema@._bind(fn, 'cards', relation, jsonb_build_object(
        'relation', relation, 'card_column', card_column, 'patron_column', patron_column));
END $$;

REVOKE ALL ON FUNCTION @extschema@.bind_cards(regclass,name,name) FROM PUBLIC;
