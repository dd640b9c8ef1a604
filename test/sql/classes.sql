-- Privacy classes: classify_role / unclassify_role / class_of / current_class,
-- resolution through role membership, pals_privacy.default_class, the
-- superuser exemption, and that every change takes effect at once.
SET client_min_messages = warning;   -- before: "already exists" would depend on test order
CREATE EXTENSION IF NOT EXISTS pals_privacy;

BEGIN;

-- One role per class, and roles that get theirs through membership.
CREATE ROLE regress_pals_ils;          -- operational
CREATE ROLE regress_pals_staff;        -- staff
CREATE ROLE regress_pals_coll;         -- collections
CREATE ROLE regress_pals_aud;          -- auditor
CREATE ROLE regress_pals_opac;         -- patron
CREATE ROLE regress_pals_alice IN ROLE regress_pals_staff, regress_pals_coll;   -- collections
CREATE ROLE regress_pals_bob IN ROLE regress_pals_staff;                        -- own: operational
CREATE ROLE regress_pals_team IN ROLE regress_pals_aud;                         -- unclassified group
CREATE ROLE regress_pals_nested IN ROLE regress_pals_team, regress_pals_ils;    -- auditor, through team
CREATE ROLE regress_pals_carol;        -- unclassified, no memberships: default_class
CREATE ROLE regress_pals_dave;         -- for the pairwise order
CREATE ROLE regress_pals_admin SUPERUSER;

-- current_class() and class_of(), with an error returned as text so that one
-- failing call shows as one failed assertion instead of aborting the rest.
CREATE FUNCTION pg_temp.current_class() RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    RETURN pals_privacy.current_class();
EXCEPTION WHEN OTHERS THEN
    RETURN format('ERROR %s: %s', SQLSTATE, SQLERRM);
END $$;
CREATE FUNCTION pg_temp.class_of(r regrole) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    RETURN pals_privacy.class_of(r);
EXCEPTION WHEN OTHERS THEN
    RETURN format('ERROR %s: %s', SQLSTATE, SQLERRM);
END $$;

SELECT plan(85);

SELECT is((SELECT count(*) FROM pals_privacy.classified_roles), 0::bigint, 'no role is classified at the start');
SELECT is(pg_temp.class_of('regress_pals_carol'), 'staff', 'an unclassified role gets the default class, staff');
SELECT is(current_setting('pals_privacy.default_class'), 'staff', 'pals_privacy.default_class defaults to staff');

------------------------------------------------------------------------------
-- classify_role
------------------------------------------------------------------------------
SELECT lives_ok($$SELECT pals_privacy.classify_role('regress_pals_ils', 'operational')$$, 'classify a role operational');
SELECT lives_ok($$SELECT pals_privacy.classify_role('regress_pals_staff', 'staff')$$, 'classify a role staff');
SELECT lives_ok($$SELECT pals_privacy.classify_role('regress_pals_coll', 'collections')$$, 'classify a role collections');
SELECT lives_ok($$SELECT pals_privacy.classify_role('regress_pals_aud', 'auditor')$$, 'classify a role auditor');
SELECT lives_ok($$SELECT pals_privacy.classify_role('regress_pals_opac', 'patron', purpose => 'notices')$$,
    'classify a role patron, with a purpose');
SELECT lives_ok($$SELECT pals_privacy.classify_role('regress_pals_bob', 'operational')$$, 'classify a member role');

SELECT results_eq(
    $$SELECT role::text, class, purpose, classified_by::text FROM pals_privacy.classified_roles ORDER BY 1$$,
    $$VALUES ('regress_pals_aud', 'auditor', NULL, current_user::text),
             ('regress_pals_bob', 'operational', NULL, current_user::text),
             ('regress_pals_coll', 'collections', NULL, current_user::text),
             ('regress_pals_ils', 'operational', NULL, current_user::text),
             ('regress_pals_opac', 'patron', 'notices', current_user::text),
             ('regress_pals_staff', 'staff', NULL, current_user::text)$$,
    'classified_roles lists every classification');

SELECT is(pg_temp.class_of('regress_pals_ils'), 'operational', 'class_of: own classification operational');
SELECT is(pg_temp.class_of('regress_pals_staff'), 'staff', 'class_of: own classification staff');
SELECT is(pg_temp.class_of('regress_pals_coll'), 'collections', 'class_of: own classification collections');
SELECT is(pg_temp.class_of('regress_pals_aud'), 'auditor', 'class_of: own classification auditor');
SELECT is(pg_temp.class_of('regress_pals_opac'), 'patron', 'class_of: own classification patron');

-- Membership
SELECT is(pg_temp.class_of('regress_pals_alice'), 'collections',
    'a member of staff and collections roles gets the more restrictive: collections');
SELECT is(pg_temp.class_of('regress_pals_bob'), 'operational',
    'a role''s own classification wins over its memberships (even when less restrictive)');
SELECT is(pg_temp.class_of('regress_pals_team'), 'auditor', 'an unclassified member of an auditor role is auditor');
SELECT is(pg_temp.class_of('regress_pals_nested'), 'auditor',
    'nested membership counts: member of team (member of auditor) and of operational is auditor');
SELECT is(pg_temp.class_of('regress_pals_carol'), 'staff', 'a role with no classified membership gets default_class');

-- The order operational < staff < collections < auditor < patron, pairwise.
GRANT regress_pals_ils TO regress_pals_dave;
GRANT regress_pals_staff TO regress_pals_dave;
SELECT is(pg_temp.class_of('regress_pals_dave'), 'staff', 'operational + staff = staff');
REVOKE regress_pals_ils FROM regress_pals_dave;
GRANT regress_pals_coll TO regress_pals_dave;
SELECT is(pg_temp.class_of('regress_pals_dave'), 'collections', 'staff + collections = collections');
REVOKE regress_pals_staff FROM regress_pals_dave;
GRANT regress_pals_aud TO regress_pals_dave;
SELECT is(pg_temp.class_of('regress_pals_dave'), 'auditor', 'collections + auditor = auditor');
REVOKE regress_pals_coll FROM regress_pals_dave;
GRANT regress_pals_opac TO regress_pals_dave;
SELECT is(pg_temp.class_of('regress_pals_dave'), 'patron', 'auditor + patron = patron');
GRANT regress_pals_ils TO regress_pals_dave;
SELECT is(pg_temp.class_of('regress_pals_dave'), 'patron', 'operational + auditor + patron = patron');
REVOKE regress_pals_ils, regress_pals_aud, regress_pals_opac FROM regress_pals_dave;
SELECT is(pg_temp.class_of('regress_pals_dave'), 'staff', 'membership revoked: back to default_class, at once');

------------------------------------------------------------------------------
-- Superusers are exempt
------------------------------------------------------------------------------
SELECT is(pg_temp.current_class(), 'operational', 'a superuser session is operational');
SELECT is(pg_temp.class_of('regress_pals_admin'), 'operational', 'class_of a superuser is operational');
SELECT is(pg_temp.class_of(current_user::regrole), 'operational', 'class_of the bootstrap superuser is operational');
-- classifying a superuser warns, is recorded, and changes nothing
SELECT pals_privacy.classify_role('regress_pals_admin', 'patron');
SELECT is(pg_temp.class_of('regress_pals_admin'), 'operational', 'a superuser classified patron stays operational');
SELECT is((SELECT class FROM pals_privacy.classified_roles WHERE role = 'regress_pals_admin'::regrole), 'patron',
    'the classification of a superuser is recorded');
ALTER ROLE regress_pals_carol SUPERUSER;
SELECT is(pg_temp.class_of('regress_pals_carol'), 'operational', 'made superuser: operational at once');
ALTER ROLE regress_pals_carol NOSUPERUSER;
SELECT is(pg_temp.class_of('regress_pals_carol'), 'staff', 'no longer superuser: default_class at once');

------------------------------------------------------------------------------
-- SET ROLE / SET SESSION AUTHORIZATION take effect at once
------------------------------------------------------------------------------
SET ROLE regress_pals_alice;
SELECT is(pg_temp.current_class(), 'collections', 'SET ROLE to a member of staff and collections: collections');
SET ROLE regress_pals_opac;
SELECT is(pg_temp.current_class(), 'patron', 'SET ROLE to a patron role: patron');
SET ROLE regress_pals_bob;
SELECT is(pg_temp.current_class(), 'operational', 'SET ROLE to an operational role: operational');
SET ROLE regress_pals_nested;
SELECT is(pg_temp.current_class(), 'auditor', 'SET ROLE to a nested member: auditor');
SELECT is(pg_temp.class_of('regress_pals_opac'), 'patron', 'class_of another role from a non-superuser session');
SELECT is(pg_temp.current_class(), 'auditor', 'current_class is not confused by class_of another role');
-- a member may take the role of a group it belongs to: its class then applies
SET ROLE regress_pals_team;
SELECT is(pg_temp.current_class(), 'auditor', 'SET ROLE from a member to its group');
RESET ROLE;
SELECT is(pg_temp.current_class(), 'operational', 'RESET ROLE: superuser again');
SET SESSION AUTHORIZATION regress_pals_carol;
SELECT is(pg_temp.current_class(), 'staff', 'SET SESSION AUTHORIZATION to an unclassified role: staff');
SET ROLE NONE;
SELECT is(pg_temp.current_class(), 'staff', 'SET ROLE NONE under a session authorization keeps its class');
RESET SESSION AUTHORIZATION;
SELECT is(pg_temp.current_class(), 'operational', 'RESET SESSION AUTHORIZATION: superuser again');
SET SESSION AUTHORIZATION regress_pals_alice;
SELECT is(pg_temp.current_class(), 'collections', 'SET SESSION AUTHORIZATION to a member role');
RESET SESSION AUTHORIZATION;

------------------------------------------------------------------------------
-- Classification changes take effect at once, in the same transaction
------------------------------------------------------------------------------
SET ROLE regress_pals_alice;
SELECT is(pg_temp.current_class(), 'collections', 'before the change');
RESET ROLE;
SELECT pals_privacy.classify_role('regress_pals_staff', 'patron');
SET ROLE regress_pals_alice;
SELECT is(pg_temp.current_class(), 'patron', 'a group reclassified: its members follow at once');
RESET ROLE;
SELECT is((SELECT count(*) FROM pals_privacy.classified_roles WHERE role = 'regress_pals_staff'::regrole), 1::bigint,
    'reclassifying replaces the classification');
SELECT pals_privacy.classify_role('regress_pals_alice', 'staff');
SET ROLE regress_pals_alice;
SELECT is(pg_temp.current_class(), 'staff', 'the role classified itself: its own class applies at once');
RESET ROLE;
SAVEPOINT before_unclassify;
SELECT lives_ok($$SELECT pals_privacy.unclassify_role('regress_pals_alice')$$, 'unclassify_role');
SET ROLE regress_pals_alice;
SELECT is(pg_temp.current_class(), 'patron', 'unclassified: back to its memberships at once');
RESET ROLE;
ROLLBACK TO SAVEPOINT before_unclassify;
SELECT is(pg_temp.class_of('regress_pals_alice'), 'staff', 'a rolled-back unclassify_role is forgotten at once');
SELECT pals_privacy.unclassify_role('regress_pals_alice');
SELECT pals_privacy.classify_role('regress_pals_staff', 'staff');
SELECT is(pg_temp.class_of('regress_pals_alice'), 'collections', 'back to collections');
SELECT is((SELECT count(*) FROM pals_privacy.classified_roles WHERE role = 'regress_pals_alice'::regrole), 0::bigint,
    'classified_roles no longer lists an unclassified role');

------------------------------------------------------------------------------
-- pals_privacy.default_class
------------------------------------------------------------------------------
SELECT is(pg_temp.class_of('regress_pals_carol'), 'staff', 'carol has the default class');
SET pals_privacy.default_class = 'auditor';
SELECT is(pg_temp.class_of('regress_pals_carol'), 'auditor', 'a superuser changes default_class: unclassified roles follow at once');
SELECT is(pg_temp.class_of('regress_pals_alice'), 'collections', 'default_class does not apply to members of classified roles');
SET ROLE regress_pals_carol;
SELECT is(pg_temp.current_class(), 'auditor', 'current_class of an unclassified role follows default_class');
RESET ROLE;
SET LOCAL pals_privacy.default_class = 'patron';
SET ROLE regress_pals_carol;
SELECT is(pg_temp.current_class(), 'patron', 'SET LOCAL default_class applies at once');
RESET ROLE;
RESET pals_privacy.default_class;
SELECT is(pg_temp.class_of('regress_pals_carol'), 'staff', 'RESET default_class: staff again');
SELECT throws_ok($$SET pals_privacy.default_class = 'admin'$$, '22023',
    'invalid value for parameter "pals_privacy.default_class": "admin"', 'default_class accepts only class names');

------------------------------------------------------------------------------
-- A non-superuser cannot widen its class
------------------------------------------------------------------------------
SET SESSION AUTHORIZATION regress_pals_carol;
SELECT throws_ok($$SET pals_privacy.default_class = 'operational'$$, '42501',
    'permission denied to set parameter "pals_privacy.default_class"', 'a non-superuser cannot SET default_class');
SELECT throws_ok($$SET LOCAL pals_privacy.default_class = 'operational'$$, '42501',
    'permission denied to set parameter "pals_privacy.default_class"', 'a non-superuser cannot SET LOCAL default_class');
SELECT throws_ok($$SELECT set_config('pals_privacy.default_class', 'operational', false)$$, '42501',
    'permission denied to set parameter "pals_privacy.default_class"', 'a non-superuser cannot set_config default_class');
SELECT throws_ok($$SELECT pals_privacy.classify_role('regress_pals_carol', 'operational')$$, '42501',
    'permission denied for function classify_role', 'a non-superuser cannot classify itself');
SELECT throws_ok($$SELECT pals_privacy.unclassify_role('regress_pals_coll')$$, '42501',
    'permission denied for function unclassify_role', 'a non-superuser cannot unclassify a role');
SELECT throws_ok($$INSERT INTO pals_privacy.role_class (role, class) VALUES ('regress_pals_carol', 'operational')$$, '42501',
    'permission denied for table role_class', 'a non-superuser cannot write role_class');
SELECT throws_ok($$SET ROLE regress_pals_ils$$, '42501',
    'permission denied to set role "regress_pals_ils"', 'a non-superuser session cannot SET ROLE to a role it is not a member of');
SET pals_privacy.purpose = 'newsletter';
SELECT is(pg_temp.current_class(), 'staff', 'a purpose narrows what a session sees but does not change its class');
RESET pals_privacy.purpose;
SELECT is(pg_temp.current_class(), 'staff', 'after all that, still staff');
RESET SESSION AUTHORIZATION;
SET ROLE regress_pals_opac;
SELECT throws_ok($$SET pals_privacy.default_class = 'operational'$$, '42501',
    'permission denied to set parameter "pals_privacy.default_class"', 'a patron-class role cannot SET default_class');
SELECT is(pg_temp.current_class(), 'patron', 'a patron-class role stays patron');
RESET ROLE;
-- Even with EXECUTE granted, only a superuser or the extension owner classifies.
GRANT EXECUTE ON FUNCTION pals_privacy.classify_role(regrole, text, text), pals_privacy._require_admin(text)
   TO regress_pals_carol;
SET ROLE regress_pals_carol;
SELECT throws_ok($$SELECT pals_privacy.classify_role('regress_pals_carol', 'operational')$$, '42501',
    'permission denied for classify_role', 'classify_role with EXECUTE but neither superuser nor owner');
SELECT is(pg_temp.current_class(), 'staff', 'still staff');
RESET ROLE;

------------------------------------------------------------------------------
-- Bad input
------------------------------------------------------------------------------
SELECT throws_ok($$SELECT pals_privacy.classify_role('regress_pals_carol', 'admin')$$, '22023',
    'classify_role: unknown privacy class ''admin''', 'classify_role: unknown class');
SELECT throws_ok($$SELECT pals_privacy.classify_role('regress_pals_carol', 'Staff')$$, '22023',
    'classify_role: unknown privacy class ''Staff''', 'classify_role: class names are lower case');
SELECT throws_ok($$SELECT pals_privacy.classify_role('regress_pals_carol', 'staff', purpose => 'spam')$$, '22023',
    'classify_role: unknown purpose ''spam''', 'classify_role: unknown purpose');
SELECT throws_ok($$SELECT pals_privacy.classify_role('regress_pals_nobody', 'staff')$$, '42704',
    'role "regress_pals_nobody" does not exist', 'classify_role: nonexistent role');
SELECT throws_ok($$SELECT pals_privacy.classify_role(NULL, 'staff')$$, '22004',
    'classify_role: argument "role" must not be NULL', 'classify_role: NULL role');
SELECT throws_ok($$SELECT pals_privacy.classify_role('regress_pals_carol', NULL)$$, '22004',
    'classify_role: argument "class" must not be NULL', 'classify_role: NULL class');
SELECT throws_ok($$SELECT pals_privacy.unclassify_role(NULL)$$, '22004',
    'unclassify_role: argument "role" must not be NULL', 'unclassify_role: NULL role');
SELECT throws_ok($$SELECT pals_privacy.unclassify_role('regress_pals_carol')$$, '42704',
    'unclassify_role: role regress_pals_carol is not classified', 'unclassify_role: a role that is not classified');
SELECT is(pals_privacy.class_of(NULL), NULL, 'class_of(NULL) is NULL');
SELECT results_eq(
    $$SELECT role::text, class, purpose FROM pals_privacy.classified_roles ORDER BY 1$$,
    $$VALUES ('regress_pals_admin', 'patron', NULL),
             ('regress_pals_aud', 'auditor', NULL),
             ('regress_pals_bob', 'operational', NULL),
             ('regress_pals_coll', 'collections', NULL),
             ('regress_pals_ils', 'operational', NULL),
             ('regress_pals_opac', 'patron', 'notices'),
             ('regress_pals_staff', 'staff', NULL)$$,
    'the failed calls changed nothing');
SELECT is(pg_temp.class_of('regress_pals_carol'), 'staff', 'carol is still unclassified');

SELECT * FROM finish();
ROLLBACK;
