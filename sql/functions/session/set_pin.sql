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

CREATE OR REPLACE FUNCTION @extschema@.set_pin(patron bigint, pin text) RETURNS void
LANGUAGE sql SET search_path = pg_catalog, pg_temp AS $$
    SELECT @extschema@.set_pin(patron::text, pin)
$$;

GRANT EXECUTE ON FUNCTION @extschema@.set_pin(bigint,text) TO PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.set_pin(text,text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.set_pin(text,text) TO PUBLIC;
