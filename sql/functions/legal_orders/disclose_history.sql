-- The patron's rows from every bound relation, under an open order; the
-- disclosure itself (relations and counts) goes to the audit log.
CREATE OR REPLACE FUNCTION @extschema@.disclose_history(order_id bigint)
RETURNS TABLE (relation regclass, row_data jsonb)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    o @extschema@.legal_orders;
    b record;
    t text;
    n bigint;
    counts jsonb := '{}';
BEGIN
    PERFORM @extschema@._require_auditor('disclose_history');
    o := @extschema@._legal_order('disclose_history', order_id);
    IF o.closed_at IS NOT NULL OR o.expires <= now() THEN
        RAISE EXCEPTION 'disclose_history: legal order % is %', order_id,
                CASE WHEN o.closed_at IS NOT NULL THEN 'closed' ELSE 'expired' END
            USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    FOR b IN SELECT l.relation, l.patron_column FROM @extschema@.loan_binding l
             UNION ALL SELECT h.relation, h.patron_column FROM @extschema@.private_history_binding h
    LOOP
        t := @extschema@._column_type_name(b.relation, b.patron_column);
        RETURN QUERY EXECUTE format('SELECT %L::regclass, to_jsonb(x) FROM %s x WHERE x.%I = $1::%s',
                                    b.relation, b.relation, b.patron_column, t) USING o.patron;
        GET DIAGNOSTICS n = ROW_COUNT;
        counts := counts || jsonb_build_object(b.relation::text, n);
    END LOOP;
    RETURN QUERY SELECT 'pals_privacy.private_history'::regclass, to_jsonb(h) FROM @extschema@.private_history h
                  WHERE h.patron = o.patron;
    GET DIAGNOSTICS n = ROW_COUNT;
    counts := counts || jsonb_build_object('pals_privacy.private_history', n);
    -- written before a single row reaches the caller, and kept whatever the
    -- caller's transaction does; no entry, no rows
    PERFORM @extschema@._audit_durable('legal_order.disclose',
        jsonb_build_object('order', order_id, 'reference', o.reference, 'patron', o.patron, 'rows', counts));
    RAISE LOG 'pals_privacy: legal order % disclosed to role % (rows: %)', order_id, session_user, counts;
END $$;

REVOKE ALL ON FUNCTION @extschema@.disclose_history(bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.disclose_history(bigint) TO PUBLIC;
