-- test/attack/open_links.sql: identity in unbound relations, included by
-- test/sql/attack_open_links.sql before sever_backlog() and after it.
SELECT pg_temp.attempt(:'phase' || 'fines JOIN loans: the patron of a hidden or severed loan', 'staff',
    ARRAY['SELECT l.id, f.patron_id FROM demo.fines f
             JOIN demo.loans l ON (l.id, l.checked_out_at) = (f.loan_id, f.loan_checked_out_at)']);
SELECT pg_temp.attempt(:'phase' || 'fines JOIN loans, only the masked or severed ones', 'staff',
    ARRAY['SELECT l.id, f.patron_id FROM demo.fines f
             JOIN demo.loans l ON (l.id, l.checked_out_at) = (f.loan_id, f.loan_checked_out_at)
            WHERE l.patron_id IS NULL OR l.patron_id = 0'], 'loans', 'ils_app',
    ARRAY['SELECT l.id, f.patron_id FROM demo.fines f
             JOIN demo.loans l ON (l.id, l.checked_out_at) = (f.loan_id, f.loan_checked_out_at)']);
SELECT pg_temp.attempt(:'phase' || 'the fines of other patrons', c, ARRAY['SELECT id, patron_id FROM demo.fines'], 'fines')
  FROM unnest(ARRAY['patron', 'auditor', 'collections']) c;
SELECT pg_temp.attempt(:'phase' || 'the payments of other patrons', c, ARRAY['SELECT id, patron_id FROM demo.payments'], 'payments')
  FROM unnest(ARRAY['patron', 'auditor', 'collections']) c;
SELECT pg_temp.attempt(:'phase' || 'the internet sign-ups of other patrons', c,
    ARRAY['SELECT id, patron_id FROM demo.internet_signups'], 'internet_signups')
  FROM unnest(ARRAY['patron', 'auditor', 'collections']) c;
SELECT pg_temp.attempt(:'phase' || 'the receipts of other patrons', c, ARRAY['SELECT id, patron_id FROM demo.receipts'], 'receipts')
  FROM unnest(ARRAY['patron', 'auditor', 'collections']) c;
