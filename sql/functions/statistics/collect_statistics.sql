-- Turn statistics on (or change the granularity) for a loan binding, or off.
CREATE OR REPLACE FUNCTION @extschema@.collect_statistics(relation regclass, granularity text DEFAULT 'month')
RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE fn constant text := 'collect_statistics';
BEGIN
    PERFORM @extschema@._require_admin(fn);
    PERFORM @extschema@._require_args(fn, ARRAY['relation', 'granularity'], ARRAY[relation::text, granularity]);
    IF NOT EXISTS (SELECT FROM @extschema@.loan_binding b WHERE b.relation = collect_statistics.relation) THEN
        RAISE EXCEPTION '%: "%" is not bound with bind_loans()', fn, relation
            USING ERRCODE = 'undefined_object', HINT = 'Statistics are an option of a loan binding: bind it first.';
    END IF;
    IF granularity NOT IN ('day', 'week', 'month', 'quarter', 'year') THEN
        RAISE EXCEPTION '%: unknown granularity %', fn, quote_literal(granularity)
            USING ERRCODE = 'invalid_parameter_value', HINT = 'Use day, week, month, quarter or year.';
    END IF;
    INSERT INTO @extschema@.statistics_binding AS s (relation, granularity) VALUES (relation, granularity)
    ON CONFLICT ON CONSTRAINT statistics_binding_pkey DO UPDATE
       SET granularity = EXCLUDED.granularity, bound_at = now(), bound_by = current_user;
END $$;

REVOKE ALL ON FUNCTION @extschema@.collect_statistics(regclass,text) FROM PUBLIC;
