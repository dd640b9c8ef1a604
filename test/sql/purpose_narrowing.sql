-- A role's purpose cannot be replaced (issue 13, item 9): a role classified
-- with a purpose reads contact fields for that purpose only; the session
-- setting pals_privacy.purpose may repeat it or narrow a role that has none,
-- and anything else is refused (42501) on every way of setting it (SET,
-- SET LOCAL, set_config, a function's SET clause), also for members of the
-- role that are not classified themselves.  Where a conflict cannot be
-- refused (a SET ROLE after the setting, two purposes by membership), the
-- session reads under both, which nobody consented to: no contact field.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pals_privacy;

BEGIN;
SELECT plan(20);

CREATE SCHEMA pn;
CREATE TABLE pn.patrons (id bigint PRIMARY KEY, name text NOT NULL, email text,
                         expires date NOT NULL DEFAULT 'infinity');
INSERT INTO pn.patrons (id, name, email) VALUES
    (1, 'News only', 'news@example.org'), (2, 'Notices only', 'notice@example.org'),
    (3, 'Both', 'both@example.org'), (4, 'Neither', 'none@example.org');
SELECT pals_privacy.bind_patrons('pn.patrons', 'id', 'expires');
SELECT pals_privacy.bind_contact('pn.patrons', 'email', 'id', 'email');
SELECT pals_privacy.grant_consent('1', 'newsletter', 'email', 'signed form');
SELECT pals_privacy.grant_consent('2', 'notices', 'email');
SELECT pals_privacy.grant_consent('3', 'newsletter', 'email', 'signed form');
SELECT pals_privacy.grant_consent('3', 'notices', 'email');
-- registration defaults may have granted more: start from exactly the above
DELETE FROM pals_privacy.consents WHERE NOT ((patron, purpose) IN (('1', 'newsletter'), ('2', 'notices'),
                                                                   ('3', 'newsletter'), ('3', 'notices')));

CREATE ROLE regress_pn_news;        -- staff, purpose newsletter
CREATE ROLE regress_pn_notices;     -- staff, purpose notices
CREATE ROLE regress_pn_free;        -- staff, no purpose
CREATE ROLE regress_pn_member;      -- not classified: a member of regress_pn_news
CREATE ROLE regress_pn_both;        -- not classified: a member of both purpose roles
GRANT regress_pn_news TO regress_pn_member, regress_pn_both;
GRANT regress_pn_notices TO regress_pn_both;
SELECT pals_privacy.classify_role('regress_pn_news', 'staff', purpose => 'newsletter');
SELECT pals_privacy.classify_role('regress_pn_notices', 'staff', purpose => 'notices');
SELECT pals_privacy.classify_role('regress_pn_free', 'staff');
GRANT USAGE ON SCHEMA pn TO PUBLIC;
GRANT SELECT ON pn.patrons TO PUBLIC;

CREATE FUNCTION pg_temp.emails() RETURNS text LANGUAGE sql AS $$
    SELECT coalesce(string_agg(id::text, ',' ORDER BY id), '') FROM pn.patrons WHERE email IS NOT NULL
$$;
CREATE FUNCTION pn.emails_as_notices() RETURNS text LANGUAGE sql SET pals_privacy.purpose = 'notices' AS $$
    SELECT coalesce(string_agg(id::text, ',' ORDER BY id), '') FROM pn.patrons WHERE email IS NOT NULL
$$;
GRANT EXECUTE ON FUNCTION pn.emails_as_notices() TO PUBLIC;

-- the role's purpose, by itself or repeated
SET ROLE regress_pn_news;
SELECT is(pg_temp.emails(), '1,3', 'a newsletter role reads the e-mail of newsletter consenters only');
SET pals_privacy.purpose = 'newsletter';
SELECT is(pg_temp.emails(), '1,3', 'repeating the role''s purpose changes nothing');
-- replacing it: the attack of the issue
SELECT throws_ok($$SET pals_privacy.purpose = 'notices'$$, '42501',
    'pals_privacy.purpose "notices" cannot replace the purpose of role "regress_pn_news"',
    'SET purpose to another purpose is refused, not used in place of the role''s');
SELECT is(pg_temp.emails(), '1,3', 'after the refused SET, still the role''s purpose');
SELECT throws_ok($$SET LOCAL pals_privacy.purpose = 'notices'$$, '42501', NULL, 'SET LOCAL: refused');
SELECT throws_ok($$SELECT set_config('pals_privacy.purpose', 'notices', false)$$, '42501', NULL, 'set_config(): refused');
SELECT throws_ok($$SELECT pn.emails_as_notices()$$, '42501', NULL, 'a function''s SET clause: refused');
RESET ROLE;
-- a purpose set before SET ROLE to a purpose role: the intersection of
-- the two, which nobody consented to (the planner checks again)
SET pals_privacy.purpose = 'notices';
SET ROLE regress_pn_news;
SELECT is(pg_temp.emails(), '', 'a purpose set before SET ROLE to a role with another: no e-mail address');
SELECT is((SELECT count(*) FROM pn.patrons WHERE email = 'notice@example.org'), 0::bigint,
    'and none matches a WHERE');
RESET pals_privacy.purpose;
SELECT is(pg_temp.emails(), '1,3', 'after RESET, the role''s purpose again');
RESET ROLE;

-- a member of the role that is not classified itself carries the purpose
SET ROLE regress_pn_member;
SELECT is(pals_privacy.current_class(), 'staff', 'the member takes its class from the purpose role');
SELECT is(pg_temp.emails(), '1,3', 'and its purpose: newsletter consenters only');
SELECT throws_ok($$SET pals_privacy.purpose = 'notices'$$, '42501', NULL, 'the member cannot replace the purpose either');
RESET ROLE;

-- a member of two roles with different purposes: refused, not widened
SET ROLE regress_pn_both;
SELECT is(pg_temp.emails(), '', 'two purposes by membership: no e-mail address, not every one');
SELECT throws_ok($$SET pals_privacy.purpose = 'newsletter'$$, '42501', NULL,
    'two purposes by membership: no purpose can be set either');
RESET ROLE;
SELECT pals_privacy.classify_role('regress_pn_both', 'staff', purpose => 'notices');
SET ROLE regress_pn_both;
SELECT is(pg_temp.emails(), '2,3', 'classified itself: its own purpose');
RESET ROLE;

-- a role without a purpose may still narrow itself with the setting
SET ROLE regress_pn_free;
SELECT is(pg_temp.emails(), '1,2,3,4', 'staff without a purpose read every e-mail address');
SET pals_privacy.purpose = 'notices';
SELECT is(pg_temp.emails(), '2,3', 'and may narrow to a purpose');
SELECT is(pn.emails_as_notices(), '2,3', 'also with a function''s SET clause');
RESET pals_privacy.purpose;
RESET ROLE;

-- the superuser and the ILS are not narrowed by a role purpose they do not have
SET pals_privacy.purpose = 'notices';
SELECT is(pg_temp.emails(), '1,2,3,4', 'a superuser is exempt');
RESET pals_privacy.purpose;

SELECT * FROM finish();
ROLLBACK;
