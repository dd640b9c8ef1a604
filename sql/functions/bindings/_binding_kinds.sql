-- Relations may play one role each (patrons, cards, balance, loans, private
-- history, outbox); contact fields and retention rules may sit on any of
-- them.  A partition or inheritance child of a bound relation is covered by
-- its parent's binding and cannot be bound on its own, nor can its parent be
-- bound after it.
CREATE OR REPLACE FUNCTION @extschema@._binding_kinds(rel regclass)
RETURNS TABLE (kind text, relation regclass)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT 'patrons', b.relation FROM @extschema@.patron_binding b WHERE b.relation = rel
    UNION ALL SELECT 'cards', b.relation FROM @extschema@.card_binding b WHERE b.relation = rel
    UNION ALL SELECT 'balance', b.relation FROM @extschema@.balance_binding b WHERE b.relation = rel
    UNION ALL SELECT 'loans', b.relation FROM @extschema@.loan_binding b WHERE b.relation = rel
    UNION ALL SELECT 'private_history', b.relation FROM @extschema@.private_history_binding b WHERE b.relation = rel
    UNION ALL SELECT 'outbox', b.relation FROM @extschema@.outbox_binding b WHERE b.relation = rel
    UNION ALL SELECT 'guardians', b.relation FROM @extschema@.guardian_binding b WHERE b.relation = rel
    UNION ALL SELECT 'accounts', b.relation FROM @extschema@.account_binding b WHERE b.relation = rel
$$;

REVOKE ALL ON FUNCTION @extschema@._binding_kinds(regclass) FROM PUBLIC;
