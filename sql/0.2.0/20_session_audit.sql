------------------------------------------------------------------------------
-- The patron session and the audit log (issue 13, items 12 and 13;
-- src/session.c, src/audit.c, docs/session.md, docs/audit.md).
--
-- * A PIN set by staff is a one-time PIN: login() with it leaves the session
--   without a patron until the patron chooses a PIN with change_pin().
--   Every PIN stored before 0.2.0 was set with set_pin(), by staff or the
--   ILS, so existing PINs become one-time PINs too (those a superuser set
--   are not told apart: they become one-time as well).
-- * Entries that must survive the caller's rollback (failed logins,
--   lockouts, first logins, staff PIN resets, legal orders, disclosures)
--   are written by a background worker in a transaction of its own
--   (_audit_durable).
-- * The chain lock is a lock tag no SQL function can take (_audit_lock),
--   no longer an advisory lock any role could hold.
------------------------------------------------------------------------------

ALTER TABLE @extschema@.patron_pins ADD COLUMN IF NOT EXISTS must_change boolean NOT NULL DEFAULT true;
COMMENT ON COLUMN @extschema@.patron_pins.must_change IS
    'A one-time PIN set by staff: login() with it only lets the patron change it';

CREATE FUNCTION @extschema@._audit_durable(event text, details jsonb) RETURNS bigint
    LANGUAGE c AS 'MODULE_PATHNAME', 'pals_privacy_audit_durable';
CREATE FUNCTION @extschema@._audit_lock() RETURNS void
    LANGUAGE c AS 'MODULE_PATHNAME', 'pals_privacy_audit_lock';
REVOKE ALL ON FUNCTION @extschema@._audit_durable(text, jsonb), @extschema@._audit_lock() FROM PUBLIC;

CREATE FUNCTION @extschema@.change_pin(current_pin text, new_pin text) RETURNS boolean
    LANGUAGE c STRICT SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    AS 'MODULE_PATHNAME', 'pals_privacy_change_pin';
-- PARALLEL RESTRICTED: the session state lives in this backend only.
CREATE FUNCTION @extschema@.pin_change_required() RETURNS boolean
    LANGUAGE c STABLE PARALLEL RESTRICTED AS 'MODULE_PATHNAME', 'pals_privacy_pin_change_required';
GRANT EXECUTE ON FUNCTION @extschema@.change_pin(text, text), @extschema@.pin_change_required() TO PUBLIC;

-- A PIN set here by staff or the ILS is a one-time PIN; one set by a
-- superuser is not (superusers are exempt from every privacy rule and read
-- the private history directly: a one-time PIN would keep nothing from them).
-- The reset is audited durably.
CREATE OR REPLACE FUNCTION @extschema@.set_pin(patron text, pin text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE s bytea; n integer; c text;
        one_time constant boolean := NOT (SELECT rolsuper FROM pg_roles WHERE rolname = session_user);
BEGIN
    PERFORM @extschema@._require_args('set_pin', ARRAY['patron', 'pin'], ARRAY[patron, pin]);
    IF NOT (SELECT rolsuper FROM pg_roles WHERE rolname = session_user)
       AND @extschema@.class_of(session_user::regrole) NOT IN ('operational', 'staff') THEN
        RAISE EXCEPTION 'permission denied for set_pin'
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = format('Role %I is of privacy class %s; staff or the ILS set PINs.',
                                  session_user, @extschema@.class_of(session_user::regrole)),
                  HINT = 'A logged-in patron changes their own PIN with pals_privacy.change_pin().';
    END IF;
    IF length(pin) < 4 THEN
        RAISE EXCEPTION 'set_pin: a PIN has at least 4 characters' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    PERFORM @extschema@._require_patron('set_pin', patron);
    n := current_setting('pals_privacy.pin_iterations')::integer;
    s := @extschema@._random_salt();
    INSERT INTO @extschema@.patron_pins AS p (patron, salt, hash, iterations, set_by, must_change)
    VALUES (patron, s, @extschema@._pin_hash(pin, s, n), n, session_user, one_time)
    ON CONFLICT ON CONSTRAINT patron_pins_pkey DO UPDATE
       SET salt = EXCLUDED.salt, hash = EXCLUDED.hash, iterations = EXCLUDED.iterations,
           set_at = now(), set_by = EXCLUDED.set_by, must_change = EXCLUDED.must_change;
    FOR c IN SELECT @extschema@._cards_of(patron) LOOP
        PERFORM @extschema@._reset_failures(c);
    END LOOP;
    PERFORM @extschema@._audit_durable('pin.set', jsonb_build_object('patron', patron, 'one_time', one_time));
END $$;

-- Retention takes the chain lock the appenders take.
CREATE OR REPLACE FUNCTION @extschema@._audit_prune() RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE keep interval; last_removed bigint; head bigint; n bigint;
BEGIN
    PERFORM @extschema@.current_class();   -- loads the library, which defines the setting
    keep := make_interval(mins => (SELECT setting::integer FROM pg_settings WHERE name = 'pals_privacy.audit_retention'));
    IF keep IS NULL OR keep = interval '0' THEN
        RETURN 0;
    END IF;
    SELECT max(id) INTO head FROM @extschema@.audit_log;
    SELECT max(id) INTO last_removed FROM @extschema@.audit_log WHERE at < now() - keep AND id < head;
    IF last_removed IS NULL THEN
        RETURN 0;
    END IF;
    PERFORM @extschema@._audit_lock();
    DELETE FROM @extschema@.audit_log WHERE id < last_removed;
    GET DIAGNOSTICS n = ROW_COUNT;
    UPDATE @extschema@.audit_log
       SET event = 'audit.checkpoint', prev_hash = NULL,
           details = jsonb_build_object('removed_through', last_removed, 'removed', n + 1,
                                        'older_than', now() - keep)
     WHERE id = last_removed AND event <> 'audit.checkpoint';
    RETURN n;
END $$;

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
