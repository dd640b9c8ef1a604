------------------------------------------------------------------------------
-- Derived copies of a loan row's identity, keyed by that row (issue 14):
-- per-transaction summaries kept by ILS triggers, notice or event rows that
-- reference a loan, link tables such as fines(patron_id, loan_id).  When the
-- source row is severed (its patron set to NULL or to the placeholder) or
-- deleted, the same transaction severs its copies by the copy's own
-- strategy; the backlog and purge cover them.  Owner: identity.
------------------------------------------------------------------------------

CREATE TABLE @extschema@.copy_binding (
    relation       regclass PRIMARY KEY,
    source         regclass NOT NULL,     -- a loan binding
    key_column     name NOT NULL,         -- in relation: the source row's key
    source_key     name NOT NULL,         -- in source: that key (unique)
    patron_column  name,                  -- in relation: the copied patron, if any
    sever_with     text NOT NULL DEFAULT 'null'
                   CHECK (sever_with IN ('null', 'unlink', 'delete') OR sever_with LIKE 'patron:_%'),
    bound_at       timestamptz NOT NULL DEFAULT now(),
    bound_by       name NOT NULL DEFAULT current_user
);
SELECT pg_catalog.pg_extension_config_dump('@extschema@.copy_binding', '');
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON @extschema@.copy_binding
    FOR EACH ROW EXECUTE FUNCTION @extschema@._audit_config_change();
GRANT SELECT ON @extschema@.copy_binding TO PUBLIC;

-- "col = NULL, ..." for the columns of the link: the key column, or the
-- columns of the foreign key it belongs to.
CREATE FUNCTION @extschema@._copy_link_set(rel regclass, key_column name) RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT coalesce(
        (SELECT string_agg(format('%I = NULL', a.attname), ', ' ORDER BY a.attnum)
           FROM pg_attribute a
          WHERE a.attrelid = rel
            AND a.attnum = ANY ((SELECT c.conkey FROM pg_constraint c
                                   JOIN pg_attribute k ON k.attrelid = c.conrelid AND k.attnum = ANY (c.conkey)
                                  WHERE c.conrelid = rel AND c.contype = 'f' AND k.attname = key_column
                                  ORDER BY cardinality(c.conkey) DESC LIMIT 1)::smallint[])),
        format('%I = NULL', key_column))
$$;

-- The SET clause (or DELETE) that severs rows of a copy binding.
CREATE FUNCTION @extschema@._copy_sever_sql(c @extschema@.copy_binding, filter text) RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT CASE
        WHEN c.sever_with = 'delete' THEN format('DELETE FROM %s t WHERE %s', c.relation, filter)
        -- the link is the key column, or every column of a foreign key it is part of
        -- (fines(loan_id, loan_checked_out_at): a checkout time alone finds the loan again)
        WHEN c.sever_with = 'unlink' THEN format('UPDATE %s t SET %s WHERE t.%I IS NOT NULL AND %s',
                                                 c.relation, @extschema@._copy_link_set(c.relation, c.key_column),
                                                 c.key_column, filter)
        WHEN c.sever_with = 'null' THEN format('UPDATE %s t SET %I = NULL WHERE t.%I IS NOT NULL AND %s',
                                               c.relation, c.patron_column, c.patron_column, filter)
        ELSE format('UPDATE %s t SET %I = %L WHERE t.%I IS DISTINCT FROM %L AND %s', c.relation, c.patron_column,
                    substr(c.sever_with, 8), c.patron_column, substr(c.sever_with, 8), filter) END
$$;

-- Row trigger on the source (AFTER UPDATE OF its patron column, AFTER
-- DELETE): a row that lost its patron, or is gone, takes its copies' with it.
-- TG_ARGV[0]: the copy relation's OID.
CREATE FUNCTION @extschema@._sever_copies() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    c @extschema@.copy_binding;
    b @extschema@.loan_binding;
    newp text;
BEGIN
    SELECT * INTO c FROM @extschema@.copy_binding WHERE relation = TG_ARGV[0]::oid;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'UPDATE' THEN
        SELECT * INTO b FROM @extschema@.loan_binding WHERE relation = c.source;
        IF NOT FOUND THEN
            RETURN NULL;
        END IF;
        newp := to_jsonb(NEW) ->> b.patron_column;
        -- still identified: nothing to do
        IF newp IS NOT NULL AND (b.sever_with NOT LIKE 'patron:%' OR newp <> substr(b.sever_with, 8)) THEN
            RETURN NULL;
        END IF;
    END IF;
    -- typed, so that the copy's index on its key column is used
    EXECUTE @extschema@._copy_sever_sql(c, format('t.%I = $1::%s', c.key_column,
                                                  @extschema@._column_type_name(c.relation, c.key_column)))
        USING to_jsonb(OLD) ->> c.source_key;
    RETURN NULL;
END $$;
REVOKE ALL ON FUNCTION @extschema@._sever_copies() FROM PUBLIC;

CREATE FUNCTION @extschema@._install_copy_triggers(c @extschema@.copy_binding) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE t regclass; b @extschema@.loan_binding; tg name;
BEGIN
    SELECT * INTO STRICT b FROM @extschema@.loan_binding WHERE relation = c.source;
    tg := 'pals_privacy_copy_' || c.relation::oid;
    FOR t IN SELECT @extschema@._trigger_targets(c.source) LOOP
        PERFORM @extschema@._drop_trigger(t, tg || '_u');
        PERFORM @extschema@._drop_trigger(t, tg || '_d');
        EXECUTE format('CREATE TRIGGER %I AFTER UPDATE OF %I ON %s FOR EACH ROW
                        WHEN (OLD.%I IS DISTINCT FROM NEW.%I)
                        EXECUTE FUNCTION @extschema@._sever_copies(%L)',
                       tg || '_u', b.patron_column, t, b.patron_column, b.patron_column, c.relation::oid);
        EXECUTE format('CREATE TRIGGER %I AFTER DELETE ON %s FOR EACH ROW
                        EXECUTE FUNCTION @extschema@._sever_copies(%L)', tg || '_d', t, c.relation::oid);
    END LOOP;
END $$;

CREATE FUNCTION @extschema@._drop_copy_triggers(c @extschema@.copy_binding) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE t regclass; tg name;
BEGIN
    tg := 'pals_privacy_copy_' || c.relation::oid;
    FOR t IN SELECT @extschema@._trigger_targets(c.source) LOOP
        PERFORM @extschema@._drop_trigger(t, tg || '_u');
        PERFORM @extschema@._drop_trigger(t, tg || '_d');
    END LOOP;
END $$;

-- Sever, in one statement per copy binding, the copies whose source row
-- has lost its patron or is gone (history from before bind_copy, or from
-- before the backlog).  Returns the number of rows changed.
CREATE FUNCTION @extschema@.sever_copies(relation regclass DEFAULT NULL) RETURNS bigint
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE c @extschema@.copy_binding; b @extschema@.loan_binding; p record; n bigint; total bigint := 0;
BEGIN
    PERFORM @extschema@._require_admin('sever_copies');
    FOR c IN SELECT * FROM @extschema@.copy_binding x
              WHERE sever_copies.relation IS NULL OR x.relation = sever_copies.relation ORDER BY x.relation::oid LOOP
        SELECT * INTO b FROM @extschema@.loan_binding WHERE loan_binding.relation = c.source;
        CONTINUE WHEN NOT FOUND;
        p := @extschema@._loan_predicates(b, 's');
        EXECUTE @extschema@._copy_sever_sql(c, format(
            't.%1$I IS NOT NULL AND NOT EXISTS (SELECT FROM %2$s s WHERE s.%3$I = t.%1$I AND %4$s)',
            c.key_column, c.source, c.source_key, p.identified));
        GET DIAGNOSTICS n = ROW_COUNT;
        total := total + n;
    END LOOP;
    RETURN total;
END $$;
REVOKE ALL ON FUNCTION @extschema@.sever_copies(regclass) FROM PUBLIC;

CREATE FUNCTION @extschema@.bind_copy(relation regclass, source regclass, key_column name,
                                      patron_column name DEFAULT NULL, sever_with text DEFAULT 'null',
                                      source_key name DEFAULT NULL)
RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    fn constant text := 'bind_copy';
    b @extschema@.loan_binding;
    c @extschema@.copy_binding;
    existing jsonb;
    skey name := source_key;
    placeholder text;
    found_placeholder boolean;
    pb @extschema@.patron_binding;
BEGIN
    PERFORM @extschema@._require_admin(fn);
    PERFORM @extschema@._require_args(fn, ARRAY['relation', 'source', 'key_column', 'sever_with'],
                                      ARRAY[relation::text, source::text, key_column::text, sever_with]);
    PERFORM @extschema@._require_relkind(fn, relation, '{r,p}');
    PERFORM @extschema@._require_heap(fn, relation);
    SELECT * INTO b FROM @extschema@.loan_binding l WHERE l.relation = source;
    IF NOT FOUND THEN
        RAISE EXCEPTION '%: the source "%" is not bound with bind_loans', fn, source
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'Bind the source first; a copy follows the severing of its source.';
    END IF;
    IF relation = source OR EXISTS (SELECT FROM @extschema@._binding_kinds(relation) k WHERE k.kind IN ('loans', 'patrons')) THEN
        RAISE EXCEPTION '%: "%" is already bound as a loan or patron table', fn, relation
            USING ERRCODE = 'duplicate_object';
    END IF;
    IF skey IS NULL THEN
        SELECT a.attname INTO skey FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
         WHERE i.indrelid = source AND i.indisprimary AND i.indnkeyatts = 1;
        IF skey IS NULL THEN
            RAISE EXCEPTION '%: "%" has no single-column primary key', fn, source
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = 'Name the source''s key column with source_key.';
        END IF;
    END IF;
    PERFORM @extschema@._require_key(fn, source, skey, 'source key column');
    PERFORM @extschema@._require_key(fn, relation, key_column, 'key column');
    IF NOT @extschema@._can_coerce(@extschema@._column_type(fn, relation, key_column, 'key column'),
                                   @extschema@._column_type(fn, source, skey, 'source key column'))
       AND NOT @extschema@._can_coerce(@extschema@._column_type(fn, source, skey, 'source key column'),
                                       @extschema@._column_type(fn, relation, key_column, 'key column')) THEN
        RAISE EXCEPTION '%: key column "%" of "%" cannot hold "%"."%"', fn, key_column, relation, source, skey
            USING ERRCODE = 'datatype_mismatch';
    END IF;
    IF patron_column IS NOT NULL THEN
        PERFORM @extschema@._require_patron_column(fn, relation, patron_column);
        PERFORM @extschema@._require_not_swapped(fn, relation, patron_column, NULL);
    END IF;
    IF sever_with = 'null' OR sever_with LIKE 'patron:%' THEN
        IF patron_column IS NULL THEN
            RAISE EXCEPTION '%: sever_with => % needs the patron column of the copy', fn, quote_literal(sever_with)
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = 'Give patron_column, or use sever_with => ''unlink'' (a link table) or ''delete''.';
        END IF;
    END IF;
    IF sever_with = 'null' AND (SELECT attnotnull FROM pg_attribute WHERE attrelid = relation AND attname = patron_column) THEN
        RAISE EXCEPTION '%: sever_with => ''null'' needs a nullable patron column, and "%"."%" is NOT NULL', fn, relation, patron_column
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Use sever_with => ''patron:<id>'', ''unlink'' or ''delete''.';
    ELSIF sever_with = 'unlink' AND (SELECT attnotnull FROM pg_attribute WHERE attrelid = relation AND attname = key_column) THEN
        RAISE EXCEPTION '%: sever_with => ''unlink'' needs a nullable key column, and "%"."%" is NOT NULL', fn, relation, key_column
            USING ERRCODE = 'invalid_parameter_value';
    ELSIF sever_with LIKE 'patron:%' THEN
        SELECT * INTO pb FROM @extschema@.patron_binding;
        placeholder := substr(sever_with, 8);
        EXECUTE format('SELECT EXISTS (SELECT 1 FROM %s WHERE %I::text = $1)', pb.relation, pb.id_column)
            INTO found_placeholder USING placeholder;
        IF NOT coalesce(found_placeholder, false) THEN
            RAISE EXCEPTION '%: placeholder patron % does not exist in %', fn, quote_literal(placeholder), pb.relation
                USING ERRCODE = 'foreign_key_violation';
        END IF;
    ELSIF sever_with NOT IN ('null', 'unlink', 'delete') THEN
        RAISE EXCEPTION '%: unknown sever_with %', fn, quote_literal(sever_with)
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Use ''null'', ''patron:<id>'', ''unlink'' or ''delete''.';
    END IF;
    SELECT to_jsonb(x) INTO existing FROM @extschema@.copy_binding x WHERE x.relation = bind_copy.relation;
    IF @extschema@._same_or_conflict(fn, relation, existing, jsonb_build_object(
            'relation', relation, 'source', source, 'key_column', key_column, 'source_key', skey,
            'patron_column', patron_column, 'sever_with', sever_with)) THEN
        RETURN;
    END IF;
    PERFORM @extschema@._warn_unindexed(fn, relation, key_column, 'Severing a copy with its source');
    INSERT INTO @extschema@.copy_binding (relation, source, key_column, source_key, patron_column, sever_with)
    VALUES (relation, source, key_column, skey, patron_column, sever_with)
    RETURNING * INTO c;
    PERFORM @extschema@._install_copy_triggers(c);
    -- copies of rows severed before: at once
    PERFORM @extschema@.sever_copies(relation);
END $$;
REVOKE ALL ON FUNCTION @extschema@.bind_copy(regclass, regclass, name, name, text, name) FROM PUBLIC;

CREATE FUNCTION @extschema@.unbind_copy(relation regclass) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE c @extschema@.copy_binding;
BEGIN
    PERFORM @extschema@._require_admin('unbind_copy');
    SELECT * INTO c FROM @extschema@.copy_binding x WHERE x.relation = unbind_copy.relation;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unbind_copy: "%" is not bound with bind_copy', relation USING ERRCODE = 'undefined_object';
    END IF;
    PERFORM @extschema@._drop_copy_triggers(c);
    DELETE FROM @extschema@.copy_binding x WHERE x.relation = unbind_copy.relation;
END $$;
REVOKE ALL ON FUNCTION @extschema@.unbind_copy(regclass) FROM PUBLIC;
DO $$
DECLARE f text;
BEGIN
    FOREACH f IN ARRAY ARRAY['_copy_sever_sql(@extschema@.copy_binding, text)', '_copy_link_set(regclass, name)',
                             '_install_copy_triggers(@extschema@.copy_binding)',
                             '_drop_copy_triggers(@extschema@.copy_binding)'] LOOP
        EXECUTE format('REVOKE ALL ON FUNCTION @extschema@.%s FROM PUBLIC', f);
    END LOOP;
END $$;

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
    UNION ALL SELECT 'copy', relation, coalesce(patron_column, key_column),
           jsonb_strip_nulls(to_jsonb(b) - 'relation' - 'bound_at' - 'bound_by'), bound_at, bound_by
      FROM @extschema@.copy_binding b;
