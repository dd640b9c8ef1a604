-- Record consent to a purpose on a channel for every existing patron who
-- has none on record for it (or for the given patrons only).  A patron who
-- withdrew keeps the withdrawal; consent already granted is left alone.
-- Each grant is in consent_history with the evidence; the back-fill as a
-- whole is one audit entry.  Returns the number of consents recorded.
CREATE OR REPLACE FUNCTION @extschema@.backfill_consent(purpose text, channel text, evidence text,
                                             patrons text[] DEFAULT NULL, dry_run boolean DEFAULT false)
RETURNS bigint
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    fn constant text := 'backfill_consent';
    pb @extschema@.patron_binding;
    targets text[];
    unknown text[];
    n_on_record bigint;
    n bigint;
BEGIN
    PERFORM @extschema@._require_admin(fn);
    PERFORM @extschema@._require_args(fn, ARRAY['purpose', 'channel', 'evidence', 'dry_run'],
                                      ARRAY[purpose, channel, evidence, dry_run::text]);
    IF NOT EXISTS (SELECT FROM @extschema@.purposes p WHERE p.name = backfill_consent.purpose) THEN
        RAISE EXCEPTION '%: unknown purpose %', fn, quote_literal(purpose)
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = format('Known purposes: %s.', (SELECT string_agg(name, ', ' ORDER BY name) FROM @extschema@.purposes));
    END IF;
    IF channel NOT IN ('email', 'phone', 'sms', 'mail') THEN
        RAISE EXCEPTION '%: unknown channel %', fn, quote_literal(channel)
            USING ERRCODE = 'invalid_parameter_value', HINT = 'Use ''email'', ''phone'', ''sms'' or ''mail''.';
    END IF;
    IF evidence !~ '\S' THEN
        RAISE EXCEPTION '%: a back-fill needs the evidence the consent rests on', fn
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Name it, for example ''registration form, notices by e-mail (all cards issued before 2026)''.';
    END IF;
    SELECT * INTO pb FROM @extschema@.patron_binding;
    IF NOT FOUND THEN
        RAISE EXCEPTION '%: the patron table is not bound', fn
            USING ERRCODE = 'object_not_in_prerequisite_state', HINT = 'Call pals_privacy.bind_patrons() first.';
    END IF;
    IF patrons IS NULL THEN
        EXECUTE format('SELECT coalesce(array_agg(p.%1$I::text), ''{}'') FROM %2$s p WHERE NOT p.%1$I::text = ANY ($1)',
                       pb.id_column, pb.relation)
            INTO targets USING @extschema@._placeholders();
    ELSE
        EXECUTE format('SELECT coalesce(array_agg(DISTINCT x), ''{}'') FROM unnest($1) x
                         WHERE x IS NULL OR NOT EXISTS (SELECT FROM %2$s p WHERE p.%1$I::text = x)',
                       pb.id_column, pb.relation)
            INTO unknown USING patrons;
        IF cardinality(unknown) > 0 THEN
            RAISE EXCEPTION '%: % of the given patrons do not exist', fn, cardinality(unknown)
                USING ERRCODE = 'foreign_key_violation',
                      DETAIL = format('For example %s.', quote_nullable(unknown[1])),
                      HINT = 'Nothing was recorded; give ids of the bound patron table.';
        END IF;
        SELECT coalesce(array_agg(DISTINCT x), '{}') INTO targets FROM unnest(patrons) x
         WHERE NOT x = ANY (@extschema@._placeholders());
    END IF;
    SELECT count(*) INTO n_on_record FROM @extschema@.consents c
     WHERE c.patron = ANY (targets) AND c.purpose = backfill_consent.purpose AND c.channel = backfill_consent.channel;
    IF dry_run THEN
        RAISE NOTICE '%: dry run: % patrons would be recorded as consenting, % have a consent or withdrawal on record already',
            fn, cardinality(targets) - n_on_record, n_on_record;
        RETURN cardinality(targets) - n_on_record;
    END IF;
    WITH added AS (
        INSERT INTO @extschema@.consents AS c (patron, purpose, channel, granted, evidence, recorded_by)
        SELECT x, backfill_consent.purpose, backfill_consent.channel, true, backfill_consent.evidence, session_user
          FROM unnest(targets) x
        ON CONFLICT ON CONSTRAINT consents_pkey DO NOTHING
        RETURNING c.patron)
    INSERT INTO @extschema@.consent_history (patron, purpose, channel, action, evidence, recorded_by)
    SELECT a.patron, backfill_consent.purpose, backfill_consent.channel, 'grant', backfill_consent.evidence, session_user
      FROM added a;
    GET DIAGNOSTICS n = ROW_COUNT;
    PERFORM @extschema@._audit('consent.backfill',
        jsonb_build_object('purpose', purpose, 'channel', channel, 'evidence', evidence, 'recorded', n,
                           'left_as_recorded', n_on_record, 'patrons_given', patrons IS NOT NULL));
    RAISE NOTICE '%: % patrons recorded as consenting to % on %; % with a consent or withdrawal on record left as they were',
        fn, n, purpose, channel, n_on_record;
    RETURN n;
END $$;

REVOKE ALL ON FUNCTION @extschema@.backfill_consent(text,text,text,text[],boolean) FROM PUBLIC;
