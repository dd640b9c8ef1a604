CREATE OR REPLACE FUNCTION @extschema@.withdraw_consent(patron text, purpose text, channel text)
RETURNS void LANGUAGE sql SET search_path = pg_catalog, pg_temp AS $$
    SELECT @extschema@._consent_change('withdraw_consent', patron, purpose, channel, false, NULL)
$$;

CREATE OR REPLACE FUNCTION @extschema@.withdraw_consent(patron bigint, purpose text, channel text)
RETURNS void LANGUAGE sql SET search_path = pg_catalog, pg_temp AS $$
    SELECT @extschema@.withdraw_consent(patron::text, purpose, channel)
$$;

GRANT EXECUTE ON FUNCTION @extschema@.withdraw_consent(bigint,text,text) TO PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.withdraw_consent(text,text,text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.withdraw_consent(text,text,text) TO PUBLIC;
