-- Audit retention (pals_privacy.audit_retention): entries older than the
-- setting are removed by maintenance, the last removed one stays as a
-- checkpoint carrying its hash, and the chain still verifies from there.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pals_privacy;
BEGIN;
SELECT plan(9);

-- three entries, two of them made old (as a superuser could; their hashes
-- no longer match, which is what retention will make irrelevant)
SELECT pals_privacy._audit('test.one', '{"n": 1}'), pals_privacy._audit('test.two', '{"n": 2}'),
       pals_privacy._audit('test.three', '{"n": 3}') \gset
CREATE TEMP TABLE mark AS SELECT min(id) AS first, max(id) AS last FROM pals_privacy.audit_log WHERE event LIKE 'test.%';
SELECT is(pals_privacy.verify_audit(), NULL, 'the chain verifies');
UPDATE pals_privacy.audit_log SET at = at - interval '10 years'
 WHERE id < (SELECT last FROM mark);
SELECT isnt(pals_privacy.verify_audit(), NULL, 'backdating entries breaks the chain');

SELECT is(pals_privacy._audit_prune(), 0::bigint, 'audit_retention = 0 keeps everything')
  FROM (SELECT set_config('pals_privacy.audit_retention', '0', true)) s;
SELECT set_config('pals_privacy.audit_retention', '365d', true);
SELECT cmp_ok(pals_privacy._audit_prune(), '>=', 1::bigint, 'retention removes the old entries');
SELECT is((SELECT event FROM pals_privacy.audit_log ORDER BY id LIMIT 1), 'audit.checkpoint',
          'the last removed entry stays as a checkpoint');
SELECT is((SELECT id FROM pals_privacy.audit_log ORDER BY id LIMIT 1), (SELECT last - 1 FROM mark),
          'the checkpoint keeps the id of the last removed entry');
SELECT is(pals_privacy.verify_audit(), NULL, 'the chain verifies from the checkpoint on');
SELECT is((SELECT count(*) FROM pals_privacy.audit_log WHERE event = 'test.three'), 1::bigint,
          'recent entries are kept');
-- the checkpoint cannot be forged into the middle of the chain
UPDATE pals_privacy.audit_log SET event = 'audit.checkpoint' WHERE event = 'test.three';
SELECT is(pals_privacy.verify_audit(), (SELECT last FROM mark), 'a checkpoint after the first entry is detected');

SELECT * FROM finish();
ROLLBACK;
