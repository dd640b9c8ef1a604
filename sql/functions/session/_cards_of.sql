-- The cards of a patron, and the patron (and PIN) of a card: the card column
-- of the patron table, or of a bind_cards relation.
CREATE OR REPLACE FUNCTION @extschema@._cards_of(patron text) RETURNS SETOF text
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE pb @extschema@.patron_binding; cb @extschema@.card_binding;
BEGIN
    SELECT * INTO pb FROM @extschema@.patron_binding;
    IF pb.card_column IS NOT NULL THEN
        RETURN QUERY EXECUTE format('SELECT %I::text FROM %s WHERE %I::text = $1', pb.card_column, pb.relation, pb.id_column)
            USING patron;
    END IF;
    FOR cb IN SELECT * FROM @extschema@.card_binding LOOP
        RETURN QUERY EXECUTE format('SELECT %I::text FROM %s WHERE %I::text = $1', cb.card_column, cb.relation, cb.patron_column)
            USING patron;
    END LOOP;
END $$;

REVOKE ALL ON FUNCTION @extschema@._cards_of(text) FROM PUBLIC;
