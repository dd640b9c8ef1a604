CREATE OR REPLACE FUNCTION @extschema@.bind_outbox(relation regclass, patron_column name, channel_column name, purpose text,
                                        on_missing_consent text DEFAULT 'reject')
RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE fn constant text := 'bind_outbox'; binding jsonb; w record;
BEGIN
    PERFORM @extschema@._bind_check(fn, relation, '{r,p}',
        ARRAY['relation', 'patron_column', 'channel_column', 'purpose', 'on_missing_consent'],
        ARRAY[relation::text, patron_column::text, channel_column::text, purpose, on_missing_consent]);
    PERFORM @extschema@._require_patron_column(fn, relation, patron_column);
    PERFORM @extschema@._column_type(fn, relation, channel_column, 'channel column', '{S}', 'text');
    IF NOT EXISTS (SELECT 1 FROM @extschema@.purposes p WHERE p.name = bind_outbox.purpose) THEN
        RAISE EXCEPTION '%: unknown purpose %', fn, quote_literal(purpose)
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = format('Known purposes: %s.', (SELECT string_agg(name, ', ' ORDER BY name) FROM @extschema@.purposes));
    END IF;
    IF on_missing_consent NOT IN ('reject', 'divert', 'drop') THEN
        RAISE EXCEPTION '%: unknown on_missing_consent %', fn, quote_literal(on_missing_consent)
            USING ERRCODE = 'invalid_parameter_value', HINT = 'Use ''reject'', ''divert'' or ''drop''.';
    END IF;
    binding := jsonb_build_object('relation', relation, 'patron_column', patron_column, 'channel_column', channel_column,
                                  'purpose', purpose, 'on_missing_consent', on_missing_consent);
    IF @extschema@._bind_existing(fn, 'outbox', relation, binding) THEN
        PERFORM @extschema@._install_outbox_triggers(relation);
        RETURN;
    END IF;
    PERFORM @extschema@._bind_insert('outbox', binding);
    PERFORM @extschema@._install_outbox_triggers(relation);
    PERFORM @extschema@._sync_row_security();
    -- consent defaults cover patrons registered from now on, not these
    w := @extschema@._patrons_without_consent(purpose);
    IF w.without_consent > 0 THEN
        RAISE WARNING '%: % of % existing patrons have not consented to purpose % on any channel', fn,
                w.without_consent, w.patrons, quote_literal(purpose)
            USING DETAIL = format('Their messages in %s will be %s. Consent defaults apply only to patrons registered from now on.',
                                  relation, CASE on_missing_consent WHEN 'reject' THEN 'rejected (the INSERT fails)'
                                                                    WHEN 'drop' THEN 'dropped'
                                                                    ELSE 'diverted' END),
                  HINT = format('Record the consent the library holds evidence of with '
                                'SELECT pals_privacy.backfill_consent(%L, ''email'', evidence => ''...''); see docs/consent.md.', purpose);
    END IF;
END $$;

REVOKE ALL ON FUNCTION @extschema@.bind_outbox(regclass,name,name,text,text) FROM PUBLIC;
