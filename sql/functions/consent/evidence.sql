-- What the extension keeps that cannot be made again.
CREATE OR REPLACE FUNCTION @extschema@.evidence() RETURNS TABLE (what text, entries bigint)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT 'audit log entries', count(*) FROM @extschema@.audit_log
    UNION ALL SELECT 'consents', count(*) FROM @extschema@.consents
    UNION ALL SELECT 'consent history entries', count(*) FROM @extschema@.consent_history
    UNION ALL SELECT 'legal orders', count(*) FROM @extschema@.legal_orders
    UNION ALL SELECT 'PIN hashes', count(*) FROM @extschema@.patron_pins
    UNION ALL SELECT 'private reading history rows', count(*) FROM @extschema@.private_history
    UNION ALL SELECT 'policy acknowledgments', count(*) FROM @extschema@.policy_acknowledgments
$$;

REVOKE ALL ON FUNCTION @extschema@.evidence() FROM PUBLIC;
