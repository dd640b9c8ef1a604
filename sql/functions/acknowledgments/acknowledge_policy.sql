CREATE OR REPLACE FUNCTION @extschema@.acknowledge_policy(version text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM @extschema@._require_args('acknowledge_policy', ARRAY['version'], ARRAY[version]);
    INSERT INTO @extschema@.policy_acknowledgments (role, version) VALUES (session_user, version);
    PERFORM @extschema@._audit('policy.acknowledge', jsonb_build_object('version', version));
END $$;

REVOKE ALL ON FUNCTION @extschema@.acknowledge_policy(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.acknowledge_policy(text) TO PUBLIC;
