-- Records of a patron's account that are not circulation (payments, charges,
-- internet sign-ups, receipts): each class reads them as it reads the
-- patron's current account (docs/binding.md, bind_account).
CREATE TABLE @extschema@.account_binding (
    relation       regclass PRIMARY KEY,
    patron_column  name NOT NULL,
    bound_at       timestamptz NOT NULL DEFAULT now(),
    bound_by       name NOT NULL DEFAULT current_user
);

SELECT pg_catalog.pg_extension_config_dump('@extschema@.account_binding', '');

GRANT SELECT ON @extschema@.account_binding TO PUBLIC;
