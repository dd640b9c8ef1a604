CREATE OR REPLACE FUNCTION @extschema@._card_pin(card text,
    OUT patron text, OUT salt bytea, OUT hash bytea, OUT iterations integer)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE pb @extschema@.patron_binding; cb @extschema@.card_binding;
BEGIN
    SELECT * INTO pb FROM @extschema@.patron_binding;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    IF pb.card_column IS NOT NULL THEN
        EXECUTE format('SELECT %I::text FROM %s WHERE %I::text = $1 LIMIT 1', pb.id_column, pb.relation, pb.card_column)
            INTO patron USING card;
    END IF;
    FOR cb IN SELECT * FROM @extschema@.card_binding LOOP
        EXIT WHEN patron IS NOT NULL;
        EXECUTE format('SELECT %I::text FROM %s WHERE %I::text = $1 LIMIT 1', cb.patron_column, cb.relation, cb.card_column)
            INTO patron USING card;
    END LOOP;
    IF patron IS NOT NULL THEN
        SELECT p.salt, p.hash, p.iterations INTO salt, hash, iterations
          FROM @extschema@.patron_pins p WHERE p.patron = _card_pin.patron;
    END IF;
END $$;

REVOKE ALL ON FUNCTION @extschema@._card_pin(text) FROM PUBLIC;
