-- Attack catalogue (OPEN): identity in relations the demo leaves unbound.
-- demo/bind.sql binds the balances VIEW, not demo.fines and demo.payments
-- under it, and binds internet sign-ups and receipts only for retention.
-- demo.fines keeps (patron_id, loan_id): a link table (issue 14 item 1(d))
-- that ties a hidden or severed loan, hence an item, back to its patron; and
-- every class, a patron-class session before login included, reads these
-- relations whole.  The expected output is the SECURE result.  See
-- test/attack/fixture.sql.
\set atk_db attack_open_links
\set ECHO none
\i test/attack/fixture.sql
-- every loan's patron before any sever (severed rows keep their identity in
-- the fines that reference them)
CREATE TABLE pg_temp.orig AS SELECT id, patron_id AS patron FROM demo.loans;
CREATE FUNCTION pg_temp.link_secrets() RETURNS void LANGUAGE sql AS $$
    INSERT INTO pg_temp.secrets SELECT 'staff', 'loans', o.id, o.patron FROM pg_temp.orig o JOIN demo.loans l USING (id)
     WHERE l.patron_id = 0 AND o.patron <> 0;
    INSERT INTO pg_temp.secrets SELECT c, r.rel, r.id, r.patron_id
      FROM (SELECT 'fines' AS rel, id, patron_id FROM demo.fines
            UNION ALL SELECT 'payments', id, patron_id FROM demo.payments
            UNION ALL SELECT 'internet_signups', id, patron_id FROM demo.internet_signups
            UNION ALL SELECT 'receipts', id, patron_id FROM demo.receipts) r,
           unnest(ARRAY['patron', 'auditor', 'collections']) c
     WHERE r.patron_id <> 0 AND (c <> 'patron' OR r.patron_id <> 9011)
       AND (c <> 'collections' OR r.patron_id NOT IN (SELECT patron_id FROM demo.balances WHERE owed > 25));
$$;
SELECT pg_temp.link_secrets();
\set ECHO all
SELECT plan(28);

\set phase 'before sever: '
\set ECHO none
\i test/attack/open_links.sql
\set ECHO all

SET client_min_messages = warning;
CALL pals_privacy.sever_backlog(batch_size => 1000);
SELECT pg_temp.refresh_secrets() > 0 AS secrets_left_in_place;
SELECT pg_temp.link_secrets();
\set phase 'after sever: '
\set ECHO none
\i test/attack/open_links.sql
\set ECHO all

SELECT * FROM finish();
\set ECHO none
\i test/attack/done.sql
