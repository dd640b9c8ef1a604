-- What the statistics class reads: the records, nothing else of the
-- extension.  Other roles read no row (superusers read all).
CREATE OR REPLACE VIEW @extschema@.loan_statistics WITH (security_barrier) AS
    SELECT s.relation, s.period, s.pseudonym, s.age_bracket, s.library, s.item, s.closed_on
      FROM @extschema@.pseudonymous_loans s
     WHERE @extschema@.current_class() = 'statistics'
        OR (SELECT r.rolsuper FROM pg_catalog.pg_roles r WHERE r.rolname = current_user);

COMMENT ON VIEW @extschema@.loan_statistics IS
    'Pseudonymous loan records (statistics class and superusers only); see docs/statistics.md';

GRANT SELECT ON @extschema@.loan_statistics TO PUBLIC;
