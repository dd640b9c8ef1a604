-- The content each hash covers, in the format the entry records
-- (content_format): entry_content() in src/audit.c, the one definition the
-- appenders use too; docs/audit.md describes both formats.
CREATE OR REPLACE FUNCTION @extschema@._audit_content(e @extschema@.audit_log) RETURNS text
    LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'pals_privacy_audit_content';

REVOKE ALL ON FUNCTION @extschema@._audit_content(@extschema@.audit_log) FROM PUBLIC;
