-- Records of a patron's account that are not circulation (payments, charges,
-- internet sign-ups, receipts): each class reads them as it reads the
-- patron's current account (docs/binding.md, bind_account).
CREATE TABLE @extschema@.account_binding (
    relation       regclass PRIMARY KEY,
    patron_column  name NOT NULL,
    bound_at       timestamptz NOT NULL DEFAULT now(),
    bound_by       name NOT NULL DEFAULT current_user,
    purge_with     text NOT NULL
                   CHECK (purge_with IN ('null', 'delete') OR purge_with LIKE 'patron:_%')
);

SELECT pg_catalog.pg_extension_config_dump('@extschema@.account_binding', '');

COMMENT ON COLUMN @extschema@.account_binding.purge_with IS
    'What the purge does to a purged patron''s rows the ILS''s purge function left: ''null'', ''patron:<id>'' (re-pointed to a placeholder) or ''delete''';

GRANT SELECT ON @extschema@.account_binding TO PUBLIC;
