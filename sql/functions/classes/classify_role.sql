-- Privacy classes.
CREATE OR REPLACE FUNCTION @extschema@.classify_role(role regrole, class text, purpose text DEFAULT NULL)
RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE fn constant text := 'classify_role';
BEGIN
    PERFORM @extschema@._require_admin(fn);
    PERFORM @extschema@._require_args(fn, ARRAY['role', 'class'], ARRAY[role::text, class]);
    IF class NOT IN ('operational', 'staff', 'patron', 'collections', 'auditor', 'statistics') THEN
        RAISE EXCEPTION '%: unknown privacy class %', fn, quote_literal(class)
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Use operational, staff, patron, collections, auditor or statistics.';
    END IF;
    IF purpose IS NOT NULL AND NOT EXISTS (SELECT 1 FROM @extschema@.purposes p WHERE p.name = classify_role.purpose) THEN
        RAISE EXCEPTION '%: unknown purpose %', fn, quote_literal(purpose)
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = format('Known purposes: %s.', (SELECT string_agg(name, ', ' ORDER BY name) FROM @extschema@.purposes));
    END IF;
    IF (SELECT rolsuper FROM pg_roles WHERE oid = role) THEN
        RAISE WARNING '%: role % is a superuser, and superusers are exempt from every privacy class', fn, role;
    END IF;
    INSERT INTO @extschema@.role_class AS r (role, class, purpose) VALUES (role, class, purpose)
    ON CONFLICT ON CONSTRAINT role_class_pkey DO UPDATE
       SET class = EXCLUDED.class, purpose = EXCLUDED.purpose,
           classified_at = now(), classified_by = current_user;
END $$;

REVOKE ALL ON FUNCTION @extschema@.classify_role(regrole,text,text) FROM PUBLIC;
