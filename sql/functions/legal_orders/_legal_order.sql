CREATE OR REPLACE FUNCTION @extschema@._legal_order(fn text, order_id bigint) RETURNS @extschema@.legal_orders
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE o @extschema@.legal_orders;
BEGIN
    PERFORM @extschema@._require_args(fn, ARRAY['order_id'], ARRAY[order_id::text]);
    SELECT * INTO o FROM @extschema@.legal_orders l WHERE l.id = order_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION '%: legal order % does not exist', fn, order_id USING ERRCODE = 'undefined_object';
    END IF;
    RETURN o;
END $$;

REVOKE ALL ON FUNCTION @extschema@._legal_order(text,bigint) FROM PUBLIC;
