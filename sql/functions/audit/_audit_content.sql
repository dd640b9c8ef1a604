-- The text each hash covers (the same as entry_content() in src/audit.c).
CREATE OR REPLACE FUNCTION @extschema@._audit_content(e @extschema@.audit_log) RETURNS text
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT format('%s|%s|%s|%s|%s|%s', e.id, (extract(epoch FROM e.at) * 1000000)::bigint,
                  e.role, e.class, e.event, coalesce(e.details::text, ''))
$$;

REVOKE ALL ON FUNCTION @extschema@._audit_content(@extschema@.audit_log) FROM PUBLIC;
