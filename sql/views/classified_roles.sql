CREATE OR REPLACE VIEW @extschema@.classified_roles AS
    SELECT r.role, r.class, r.purpose, r.classified_at, r.classified_by
      FROM @extschema@.role_class r;

COMMENT ON VIEW @extschema@.classified_roles IS 'Roles given a privacy class with classify_role()';
