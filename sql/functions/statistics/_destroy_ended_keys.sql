-- Destroy the keys of ended periods.  Returns how many were destroyed.
CREATE OR REPLACE FUNCTION @extschema@._destroy_ended_keys() RETURNS integer
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE n integer := 0; p record;
BEGIN
    FOR p IN UPDATE @extschema@.pseudonym_keys k SET key = NULL, destroyed_at = clock_timestamp()
              WHERE k.key IS NOT NULL AND k.period_end <= clock_timestamp()
              RETURNING k.period_start, k.period_end LOOP
        PERFORM @extschema@._audit('pseudonym_key.destroy',
            jsonb_build_object('period_start', p.period_start, 'period_end', p.period_end));
        n := n + 1;
    END LOOP;
    RETURN n;
END $$;

REVOKE ALL ON FUNCTION @extschema@._destroy_ended_keys() FROM PUBLIC;
