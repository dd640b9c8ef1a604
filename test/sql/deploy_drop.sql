-- DROP EXTENSION (issue 15): refused while the extension holds evidence,
-- unless pals_privacy.allow_drop_with_evidence is on; when it goes ahead,
-- no trigger, policy or row security of the extension stays on the ILS
-- tables, and they work for the ILS as before.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pals_privacy;
BEGIN;
SELECT plan(16);

CREATE ROLE regress_ddrop_ils;
CREATE SCHEMA dd;
GRANT USAGE ON SCHEMA dd TO regress_ddrop_ils;
CREATE TABLE dd.patrons (id bigint PRIMARY KEY, expires date NOT NULL DEFAULT 'infinity', keep boolean);
INSERT INTO dd.patrons (id) SELECT g FROM generate_series(0, 5) g;
CREATE TABLE dd.loans (id int PRIMARY KEY, patron_id bigint NOT NULL REFERENCES dd.patrons, item_id int NOT NULL, returned date);
CREATE TABLE dd.old_loans () INHERITS (dd.loans);
CREATE TABLE dd.notices (patron_id bigint, channel text NOT NULL);
CREATE TABLE dd.own_rls (id int);   -- row security of its own: not the extension's to touch
ALTER TABLE dd.own_rls ENABLE ROW LEVEL SECURITY;
CREATE POLICY mine ON dd.own_rls USING (true);
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA dd TO regress_ddrop_ils;
SELECT pals_privacy.bind_patrons('dd.patrons', 'id', 'expires', keep_history_column => 'keep');
SELECT pals_privacy.bind_loans('dd.loans', 'patron_id', 'item_id', '{returned}', sever_with => 'patron:0');
SELECT pals_privacy.bind_outbox('dd.notices', 'patron_id', 'channel', 'notices', on_missing_consent => 'drop');
SELECT pals_privacy.classify_role('regress_ddrop_ils', 'operational');
SELECT pals_privacy.grant_consent('1', 'notices', 'email');
SELECT ok((SELECT relrowsecurity FROM pg_class WHERE oid = 'dd.loans'::regclass), 'bound: row security is on');

-- refused while evidence exists, whatever the form of the DROP
SELECT throws_ok($$DROP EXTENSION pals_privacy CASCADE$$, '2BP01',
                 'cannot drop extension pals_privacy: it holds evidence that would be deleted with it',
                 'DROP EXTENSION ... CASCADE is refused while evidence exists');
SELECT throws_ok($$DROP EXTENSION pals_privacy$$, '2BP01', NULL, 'DROP EXTENSION too');
SELECT throws_ok($$DROP SCHEMA pals_privacy CASCADE$$, '2BP01', NULL, 'DROP SCHEMA pals_privacy CASCADE too');
SELECT is((SELECT count(*) FROM pals_privacy.consents), 1::bigint, '... and nothing changed: the consent is there');
SELECT is((SELECT count(*) FROM pals_privacy.bindings), 3::bigint, '... the bindings are there');
SELECT ok((SELECT relrowsecurity FROM pg_class WHERE oid = 'dd.loans'::regclass), '... row security is still on');
SELECT lives_ok($$DROP EXTENSION IF EXISTS pg_nonexistent_extension$$, 'other DROP EXTENSION statements are not concerned');

-- with the setting, in this session
SET LOCAL pals_privacy.allow_drop_with_evidence = on;
SET LOCAL client_min_messages = error;   -- its warning counts audit entries of earlier tests too
DROP EXTENSION pals_privacy;   -- no CASCADE needed: the extension's triggers went first
SET LOCAL client_min_messages = warning;
SELECT is((SELECT count(*) FROM pg_extension WHERE extname = 'pals_privacy'), 0::bigint, 'with the setting on, the extension is dropped');
SELECT is((SELECT count(*) FROM pg_policy WHERE polname LIKE 'pals_privacy%'), 0::bigint, 'no policy of the extension is left');
SELECT is((SELECT array_agg(relname::text ORDER BY relname) FROM pg_class WHERE relnamespace = 'dd'::regnamespace AND relrowsecurity),
          ARRAY['own_rls'], 'no row security is left but the table''s own');
SELECT is((SELECT count(*) FROM pg_policy WHERE polrelid = 'dd.own_rls'::regclass), 1::bigint, '... whose policy stays');
SELECT is((SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'pals_privacy%'), 0::bigint, 'no trigger of the extension is left');
SET LOCAL ROLE regress_ddrop_ils;
SELECT lives_ok($$INSERT INTO dd.loans VALUES (1, 1, 10, NULL), (2, 2, 10, NULL)$$, 'the ILS role checks out');
SELECT lives_ok($$UPDATE dd.loans SET returned = current_date$$, '... returns');
SELECT results_eq($$SELECT patron_id FROM dd.loans ORDER BY id$$, $$VALUES (1::bigint), (2::bigint)$$,
                  '... and reads its rows as they are (nothing severed or hidden)');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
