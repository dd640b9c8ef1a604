CREATE OR REPLACE FUNCTION @extschema@.bind_contact(relation regclass, column_name name, patron_column name, channel text)
RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE fn constant text := 'bind_contact';
BEGIN
    PERFORM @extschema@._bind_check(fn, relation, '{r,p}',
        ARRAY['relation', 'column_name', 'patron_column', 'channel'],
        ARRAY[relation::text, column_name::text, patron_column::text, channel]);
    PERFORM @extschema@._column_type(fn, relation, column_name, 'contact column', '{S}', 'text');
    PERFORM @extschema@._require_patron_column(fn, relation, patron_column);
    IF column_name = patron_column THEN
        RAISE EXCEPTION '%: the contact column and the patron column must differ', fn
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF channel NOT IN ('email', 'phone', 'sms', 'mail') THEN
        RAISE EXCEPTION '%: unknown channel %', fn, quote_literal(channel)
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Use ''email'', ''phone'', ''sms'' or ''mail''.';
    END IF;
    PERFORM @extschema@._bind(fn, 'contact', relation, jsonb_build_object(
        'relation', relation, 'column_name', column_name, 'patron_column', patron_column, 'channel', channel));
END $$;

REVOKE ALL ON FUNCTION @extschema@.bind_contact(regclass,name,name,text) FROM PUBLIC;
