CREATE OR REPLACE FUNCTION @extschema@.bind_contact(relation regclass, column_name name, patron_column name, channel text)
RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE fn constant text := 'bind_contact'; existing jsonb;
BEGIN
    PERFORM @extschema@._require_admin(fn);
    PERFORM @extschema@._require_args(fn, ARRAY['relation', 'column_name', 'patron_column', 'channel'],
                                      ARRAY[relation::text, column_name::text, patron_column::text, channel]);
    PERFORM @extschema@._require_relkind(fn, relation, '{r,p}');
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
    SELECT to_jsonb(b) INTO existing FROM @extschema@.contact_binding b
     WHERE b.relation = bind_contact.relation AND b.column_name = bind_contact.column_name;
    IF @extschema@._same_or_conflict(fn, relation, existing, jsonb_build_object(
            'relation', relation, 'column_name', column_name, 'patron_column', patron_column, 'channel', channel)) THEN
        RETURN;
    END IF;
    INSERT INTO @extschema@.contact_binding (relation, column_name, patron_column, channel)
    VALUES (relation, column_name, patron_column, channel);
    PERFORM @extschema@._sync_row_security();
END $$;

REVOKE ALL ON FUNCTION @extschema@.bind_contact(regclass,name,name,text) FROM PUBLIC;
