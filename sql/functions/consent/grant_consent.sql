CREATE OR REPLACE FUNCTION @extschema@.grant_consent(patron text, purpose text, channel text, evidence text DEFAULT NULL)
RETURNS void LANGUAGE sql SET search_path = pg_catalog, pg_temp AS $$
    SELECT @extschema@._consent_change('grant_consent', patron, purpose, channel, true, evidence)
$$;

CREATE OR REPLACE FUNCTION @extschema@.grant_consent(patron bigint, purpose text, channel text, evidence text DEFAULT NULL)
RETURNS void LANGUAGE sql SET search_path = pg_catalog, pg_temp AS $$
    SELECT @extschema@.grant_consent(patron::text, purpose, channel, evidence)
$$;

GRANT EXECUTE ON FUNCTION @extschema@.grant_consent(bigint,text,text,text) TO PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.grant_consent(text,text,text,text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.grant_consent(text,text,text,text) TO PUBLIC;
