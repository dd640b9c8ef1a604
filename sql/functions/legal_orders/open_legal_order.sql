-- Legal orders: opening, closing and disclosing are audited durably (the
-- disclosure names the patron, so that the entry says whose history was
-- read even if the order itself was rolled back).
CREATE OR REPLACE FUNCTION @extschema@.open_legal_order(reference text, issued_by text, patron text,
                                                        expires timestamptz, note text DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE order_id bigint;
BEGIN
    PERFORM @extschema@._require_auditor('open_legal_order');
    PERFORM @extschema@._require_args('open_legal_order', ARRAY['reference', 'issued_by', 'patron', 'expires'],
                                      ARRAY[reference, issued_by, patron, expires::text]);
    IF btrim(reference) = '' OR btrim(issued_by) = '' OR btrim(patron) = '' THEN
        RAISE EXCEPTION 'open_legal_order: the court reference, issuer and patron must not be empty'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF expires <= now() THEN
        RAISE EXCEPTION 'open_legal_order: the order would already have expired (%)', expires
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    PERFORM @extschema@._require_patron('open_legal_order', patron);
    INSERT INTO @extschema@.legal_orders (reference, issued_by, patron, expires, note, opened_by)
    VALUES (reference, issued_by, patron, expires, note, session_user) RETURNING id INTO order_id;
    PERFORM @extschema@._audit_durable('legal_order.open',
        jsonb_build_object('order', order_id, 'reference', reference, 'issued_by', issued_by,
                           'expires', expires));
    RETURN order_id;
END $$;

CREATE OR REPLACE FUNCTION @extschema@.open_legal_order(reference text, issued_by text, patron bigint,
                                             expires timestamptz, note text DEFAULT NULL)
RETURNS bigint LANGUAGE sql SET search_path = pg_catalog, pg_temp AS $$
    SELECT @extschema@.open_legal_order(reference, issued_by, patron::text, expires, note)
$$;

GRANT EXECUTE ON FUNCTION @extschema@.open_legal_order(text,text,bigint,timestamp with time zone,text) TO PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.open_legal_order(text,text,text,timestamp with time zone,text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.open_legal_order(text,text,text,timestamp with time zone,text) TO PUBLIC;
