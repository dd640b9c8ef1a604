-- test/copy/grants.sql (see fixture.sql): the suite's two roles may read and
-- write every table of its schema, as staff and as the operational role.
GRANT USAGE ON SCHEMA :cp_schema TO :cp_staff, :cp_ils;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA :cp_schema TO :cp_staff, :cp_ils;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA :cp_schema TO :cp_staff, :cp_ils;
SELECT pals_privacy.classify_role(:'cp_staff', 'staff');
SELECT pals_privacy.classify_role(:'cp_ils', 'operational');
