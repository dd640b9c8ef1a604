-- The current period's key, made if there is none (C calls this as the
-- extension owner; nobody else may execute it).
CREATE OR REPLACE FUNCTION @extschema@._current_pseudonym_key(OUT period_start timestamptz, OUT period_end timestamptz,
                                                    OUT key bytea)
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_column
DECLARE
    unit text := @extschema@._pseudonym_period();
    t timestamptz := clock_timestamp();     -- periods are wall-clock time, not the transaction's
    s timestamptz;
    e timestamptz;
BEGIN
    SELECT k.period_start, k.period_end, k.key INTO period_start, period_end, key FROM @extschema@.pseudonym_keys k
     WHERE k.key IS NOT NULL AND k.period_start <= t AND t < k.period_end;
    IF FOUND THEN
        RETURN;
    END IF;
    PERFORM @extschema@._destroy_ended_keys();
    -- calendar periods (UTC); a period rotated early starts when the rotation happened
    e := date_trunc(unit, t, 'UTC') + CASE unit WHEN 'quarter' THEN interval '3 months' ELSE ('1 ' || unit)::interval END;
    s := greatest(date_trunc(unit, t, 'UTC'),
                  (SELECT max(k.period_end) FROM @extschema@.pseudonym_keys k WHERE k.period_end <= t));
    INSERT INTO @extschema@.pseudonym_keys AS k (period_start, period_end, key)
    VALUES (s, e, @extschema@._random_key())
    ON CONFLICT ON CONSTRAINT pseudonym_keys_pkey DO NOTHING;
    IF FOUND THEN
        PERFORM @extschema@._audit('pseudonym_key.create', jsonb_build_object('period_start', s, 'period_end', e));
    END IF;
    SELECT k.period_start, k.period_end, k.key INTO STRICT period_start, period_end, key FROM @extschema@.pseudonym_keys k
     WHERE k.period_start = s AND k.key IS NOT NULL;
END $$;

REVOKE ALL ON FUNCTION @extschema@._current_pseudonym_key() FROM PUBLIC;
