-- health(): "no role can leave its class".  A login role classified below
-- operational that may SET ROLE to the ILS's operational role or to a
-- superuser reads everything after one statement (docs/binding.md, "How a
-- role gets its class"): a desk account given the ILS's role for its table
-- rights, a report account in the superuser role the ILS connects as.  The
-- check names each such role; the door itself is shown first (the check
-- would matter), and the fix clears it.  Roles of other suites may share the
-- cluster: every check matches this suite's roles only.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pals_privacy;

BEGIN;
SELECT plan(8);

CREATE ROLE regress_hr_app NOLOGIN;                 -- the ILS's role, operational
CREATE ROLE regress_hr_su SUPERUSER NOLOGIN;        -- the superuser an ILS connects as
CREATE ROLE regress_hr_desk LOGIN IN ROLE regress_hr_app;
CREATE ROLE regress_hr_report LOGIN IN ROLE regress_hr_su;
CREATE ROLE regress_hr_clerk LOGIN;                 -- staff, no way out
SELECT pals_privacy.classify_role('regress_hr_app', 'operational');
SELECT pals_privacy.classify_role('regress_hr_desk', 'staff');
SELECT pals_privacy.classify_role('regress_hr_report', 'auditor');
SELECT pals_privacy.classify_role('regress_hr_clerk', 'staff');

CREATE FUNCTION pg_temp.flagged() RETURNS text LANGUAGE sql AS $$
    SELECT coalesce(string_agg(m[1], ', ' ORDER BY m[1]), '')
      FROM pals_privacy.health() h, regexp_matches(h.detail, '(regress_hr_\w+ \(\w+\) can SET ROLE regress_hr_\w+ \(\w+\))', 'g') m
     WHERE h.check_name = 'no role can leave its class'
$$;
CREATE FUNCTION pg_temp.flagged_after(ddl text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE ddl;
    RETURN pg_temp.flagged();
END $$;
-- the class the role reads with after SET ROLE to the other
CREATE FUNCTION pg_temp.class_after(who text, target text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE c text;
BEGIN
    EXECUTE format('SET LOCAL SESSION AUTHORIZATION %I', who);
    BEGIN
        EXECUTE format('SET LOCAL ROLE %I', target);
        c := pals_privacy.current_class();
    EXCEPTION WHEN insufficient_privilege THEN
        c := 'refused';
    END;
    RESET ROLE;
    RESET SESSION AUTHORIZATION;
    RETURN c;
END $$;

-- the door the check is about
SELECT is(pg_temp.class_after('regress_hr_desk', 'regress_hr_app'), 'operational',
          'control: the staff desk account becomes operational with SET ROLE');
SELECT is(pg_temp.class_after('regress_hr_clerk', 'regress_hr_app'), 'refused',
          'control: a staff account without the membership cannot');

SELECT is(pg_temp.flagged(),
          'regress_hr_desk (staff) can SET ROLE regress_hr_app (operational), regress_hr_report (auditor) can SET ROLE regress_hr_su (superuser)',
          'health() names the desk account in the ILS''s role and the report account in the superuser role');
SELECT is((SELECT ok FROM pals_privacy.health() WHERE check_name = 'no role can leave its class'), false,
          'health(): the check fails');
SELECT matches((SELECT detail FROM pals_privacy.health() WHERE check_name = 'no role can leave its class'),
               'REVOKE the membership', 'health(): the detail says what to do');

-- the fix: the membership revoked, the rights granted directly
REVOKE regress_hr_app FROM regress_hr_desk;
REVOKE regress_hr_su FROM regress_hr_report;
SELECT is(pg_temp.flagged(), '', 'after REVOKE: nobody of this suite is named');
SELECT is(pg_temp.class_after('regress_hr_desk', 'regress_hr_app'), 'refused', 'after REVOKE: the desk account cannot SET ROLE');

-- PostgreSQL 16 and later: a membership for the rights, without SET
SELECT CASE WHEN current_setting('server_version_num')::int < 160000
            THEN pass('a membership WITH SET FALSE is not named (PostgreSQL 16 and later)')
            ELSE is((SELECT pg_temp.flagged_after('GRANT regress_hr_app TO regress_hr_desk WITH SET FALSE')), '',
                    'a membership WITH SET FALSE is not named (PostgreSQL 16 and later)') END;

SELECT * FROM finish();
ROLLBACK;
