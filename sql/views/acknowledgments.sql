CREATE OR REPLACE VIEW @extschema@.acknowledgments AS
    SELECT DISTINCT ON (role) role, version, acknowledged_at
      FROM @extschema@.policy_acknowledgments
     ORDER BY role, id DESC;

GRANT SELECT ON @extschema@.acknowledgments TO PUBLIC;
