-- The skeleton every bind_* call shares.  A call
--   1. _bind_check(): who calls (_require_admin), the required arguments not
--      NULL (_require_args), the kind of relation (_require_relkind);
--   2. checks its own columns and options;
--   3. _bind_existing(): whether the relation is bound this way already (a
--      NOTICE, and the call returns), some other way (the error), or as
--      another kind of binding (the error, for kinds that play one role);
--   4. says its warnings, writes the row with _bind_insert(), and installs
--      what the binding needs (triggers, row security).
-- A call with nothing of its own in 3 and 4 does both with _bind().
-- What differs between the kinds, for 3 and 4, is the table below: the
-- binding table, whether the relation plays this one role only, and whether
-- one relation holds several bindings of the kind (one per column).
CREATE OR REPLACE FUNCTION @extschema@._binding_kind(kind text, OUT binding_table regclass, OUT one_role boolean,
                                                     OUT per_column boolean)
LANGUAGE sql STABLE STRICT SET search_path = pg_catalog, pg_temp AS $$
    SELECT t.tbl::regclass, t.one_role, t.per_column
      FROM (VALUES ('patrons',         '@extschema@.patron_binding',          true,  false),
                   ('cards',           '@extschema@.card_binding',            true,  false),
                   ('balance',         '@extschema@.balance_binding',         true,  false),
                   ('loans',           '@extschema@.loan_binding',            true,  false),
                   ('private_history', '@extschema@.private_history_binding', true,  false),
                   ('outbox',          '@extschema@.outbox_binding',          true,  false),
                   ('guardians',       '@extschema@.guardian_binding',        true,  false),
                   ('accounts',        '@extschema@.account_binding',         true,  false),
                   ('contact',         '@extschema@.contact_binding',         false, true),   -- on any bound relation
                   ('copy',            '@extschema@.copy_binding',            false, false))  -- bind_copy checks its own
           AS t (kind, tbl, one_role, per_column)
     WHERE t.kind = _binding_kind.kind
$$;

-- Step 3: true when "relation" is bound exactly as "binding" says (with a
-- NOTICE); false when it is not bound as this kind yet; an error when it is
-- bound differently (_same_or_conflict) or, for kinds that play one role, as
-- another kind (_require_unbound).  "binding" holds every column the call
-- writes, as jsonb_build_object() of the call's values.
CREATE OR REPLACE FUNCTION @extschema@._bind_existing(fn text, kind text, relation regclass, binding jsonb)
RETURNS boolean LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    k record;
    existing jsonb;
BEGIN
    SELECT * INTO k FROM @extschema@._binding_kind(kind);
    IF k.one_role THEN
        PERFORM @extschema@._require_unbound(fn, relation, kind);
    END IF;
    EXECUTE format('SELECT to_jsonb(b) FROM %s b WHERE b.relation = $1%s', k.binding_table,
                   CASE WHEN k.per_column THEN ' AND b.column_name = $2' ELSE '' END)
        INTO existing USING relation, binding ->> 'column_name';
    RETURN @extschema@._same_or_conflict(fn, relation, existing, binding);
END $$;

-- Step 4: the binding's row, the columns "binding" names (bound_at and
-- bound_by take their defaults).
CREATE OR REPLACE FUNCTION @extschema@._bind_insert(kind text, binding jsonb)
RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    tbl constant regclass := (@extschema@._binding_kind(kind)).binding_table;
    cols constant text := (SELECT string_agg(quote_ident(c), ', ') FROM jsonb_object_keys(binding) c);
BEGIN
    EXECUTE format('INSERT INTO %s (%s) SELECT %s FROM jsonb_populate_record(NULL::%s, $1)', tbl, cols, cols, tbl)
        USING binding;
END $$;

-- Step 1.
CREATE OR REPLACE FUNCTION @extschema@._bind_check(fn text, relation regclass, relkinds "char"[],
                                                   arg_names text[], arg_values text[])
RETURNS void LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM @extschema@._require_admin(fn);
    PERFORM @extschema@._require_args(fn, arg_names, arg_values);
    PERFORM @extschema@._require_relkind(fn, relation, relkinds);
END $$;

-- Steps 3 and 4 for a call that warns of nothing and installs no trigger:
-- true when it bound the relation, false when it was bound so already.
CREATE OR REPLACE FUNCTION @extschema@._bind(fn text, kind text, relation regclass, binding jsonb)
RETURNS boolean LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF @extschema@._bind_existing(fn, kind, relation, binding) THEN
        RETURN false;
    END IF;
    PERFORM @extschema@._bind_insert(kind, binding);
    PERFORM @extschema@._sync_row_security();
    RETURN true;
END $$;

REVOKE ALL ON FUNCTION @extschema@._binding_kind(text) FROM PUBLIC;
-- as _require_admin: a role that may execute a bind_* call but is not an
-- administrator must get its "permission denied for bind_..." error
REVOKE ALL ON FUNCTION @extschema@._bind_check(text,regclass,"char"[],text[],text[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@._bind_check(text,regclass,"char"[],text[],text[]) TO PUBLIC;
REVOKE ALL ON FUNCTION @extschema@._bind(text,text,regclass,jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@._bind_existing(text,text,regclass,jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@._bind_insert(text,jsonb) FROM PUBLIC;
