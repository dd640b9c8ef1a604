-- Same relation, same kind: identical arguments are a no-op (returns true),
-- different ones are a conflict.
CREATE OR REPLACE FUNCTION @extschema@._same_or_conflict(fn text, rel regclass, existing jsonb, wanted jsonb) RETURNS boolean
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    IF existing IS NULL THEN
        RETURN false;
    END IF;
    IF (existing - 'bound_at' - 'bound_by') = wanted THEN
        RAISE NOTICE '%: "%" is already bound this way', fn, rel;
        RETURN true;
    END IF;
    RAISE EXCEPTION '%: "%" is already bound with different settings', fn, rel
        USING ERRCODE = 'duplicate_object',
              DETAIL = format('Existing binding: %s.', existing - 'bound_at' - 'bound_by'),
              HINT = 'Call pals_privacy.unbind() first to change a binding.';
END $$;

REVOKE ALL ON FUNCTION @extschema@._same_or_conflict(text,regclass,jsonb,jsonb) FROM PUBLIC;
