CREATE OR REPLACE FUNCTION @extschema@.audit_search(from_time timestamptz DEFAULT NULL, until_time timestamptz DEFAULT NULL,
                                         event_like text DEFAULT NULL, role_name text DEFAULT NULL)
RETURNS SETOF @extschema@.audit_log
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM @extschema@._require_auditor('audit_search');
    RETURN QUERY SELECT * FROM @extschema@.audit_log a
                  WHERE (from_time IS NULL OR a.at >= from_time) AND (until_time IS NULL OR a.at < until_time)
                    AND (event_like IS NULL OR a.event LIKE event_like) AND (role_name IS NULL OR a.role = role_name)
                  ORDER BY a.id;
END $$;

REVOKE ALL ON FUNCTION @extschema@.audit_search(timestamp with time zone,timestamp with time zone,text,text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.audit_search(timestamp with time zone,timestamp with time zone,text,text) TO PUBLIC;
