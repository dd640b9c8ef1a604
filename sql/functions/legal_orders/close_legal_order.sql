CREATE OR REPLACE FUNCTION @extschema@.close_legal_order(order_id bigint) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE o @extschema@.legal_orders;
BEGIN
    PERFORM @extschema@._require_auditor('close_legal_order');
    o := @extschema@._legal_order('close_legal_order', order_id);
    IF o.closed_at IS NOT NULL THEN
        RAISE EXCEPTION 'close_legal_order: legal order % is already closed', order_id
            USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    UPDATE @extschema@.legal_orders l SET closed_at = now(), closed_by = session_user WHERE l.id = order_id;
    PERFORM @extschema@._audit_durable('legal_order.close', jsonb_build_object('order', order_id));
END $$;

REVOKE ALL ON FUNCTION @extschema@.close_legal_order(bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.close_legal_order(bigint) TO PUBLIC;
