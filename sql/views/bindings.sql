-- The bindings view lists copies too.
CREATE OR REPLACE VIEW @extschema@.bindings AS
    SELECT 'patrons'::text AS kind, relation, NULL::name AS column_name,
           jsonb_strip_nulls(to_jsonb(b) - 'relation' - 'bound_at' - 'bound_by') AS settings, bound_at, bound_by
      FROM @extschema@.patron_binding b
    UNION ALL SELECT 'cards', relation, card_column, to_jsonb(b) - 'relation' - 'bound_at' - 'bound_by', bound_at, bound_by
      FROM @extschema@.card_binding b
    UNION ALL SELECT 'balance', relation, amount_column, to_jsonb(b) - 'relation' - 'bound_at' - 'bound_by', bound_at, bound_by
      FROM @extschema@.balance_binding b
    UNION ALL SELECT 'loans', relation, patron_column, jsonb_strip_nulls(to_jsonb(b) - 'relation' - 'bound_at' - 'bound_by'), bound_at, bound_by
      FROM @extschema@.loan_binding b
    UNION ALL SELECT 'private_history', relation, patron_column, to_jsonb(b) - 'relation' - 'bound_at' - 'bound_by', bound_at, bound_by
      FROM @extschema@.private_history_binding b
    UNION ALL SELECT 'contact', relation, column_name, to_jsonb(b) - 'relation' - 'column_name' - 'bound_at' - 'bound_by', bound_at, bound_by
      FROM @extschema@.contact_binding b
    UNION ALL SELECT 'outbox', relation, patron_column, to_jsonb(b) - 'relation' - 'bound_at' - 'bound_by', bound_at, bound_by
      FROM @extschema@.outbox_binding b
    UNION ALL SELECT 'guardians', relation, minor_column, to_jsonb(b) - 'relation' - 'bound_at' - 'bound_by', bound_at, bound_by
      FROM @extschema@.guardian_binding b
    UNION ALL SELECT 'retain', relation, timestamp_column, to_jsonb(b) - 'relation' - 'bound_at' - 'bound_by', bound_at, bound_by
      FROM @extschema@.retention_rule b
    UNION ALL SELECT 'copy', relation, coalesce(patron_column, key_columns[1]),
           jsonb_strip_nulls(to_jsonb(b) - 'relation' - 'bound_at' - 'bound_by'), bound_at, bound_by
      FROM @extschema@.copy_binding b
    UNION ALL SELECT 'accounts', relation, patron_column, to_jsonb(b) - 'relation' - 'bound_at' - 'bound_by', bound_at, bound_by
      FROM @extschema@.account_binding b;

COMMENT ON VIEW @extschema@.bindings IS 'Every binding of pals_privacy to the tables of this database';

GRANT SELECT ON @extschema@.bindings TO PUBLIC;
