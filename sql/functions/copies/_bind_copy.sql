-- bind_copy() for one source of the copy: the first binds the copy, another
-- adds a source to it.  sweep: sever the copies of rows severed before (false
-- while more sources of the same call are still to be added: a copy row of a
-- row only they hold would be severed).  copy_when: which rows of the
-- relation are copies (NULL: every row).
CREATE OR REPLACE FUNCTION @extschema@._bind_copy(relation regclass, source regclass, key_column name,
                                      patron_column name, sever_with text,
                                      source_key name, hide_columns name[],
                                      key_columns name[], source_keys name[], current_when text, sweep boolean,
                                      copy_when text DEFAULT NULL)
RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    fn constant text := 'bind_copy';
    b @extschema@.loan_binding;
    c @extschema@.copy_binding;
    binding jsonb;
    keys name[] := coalesce(key_columns, CASE WHEN key_column IS NOT NULL THEN ARRAY[key_column] END);
    skeys name[] := coalesce(source_keys, CASE WHEN source_key IS NOT NULL THEN ARRAY[source_key] END);
    placeholder text;
    found_placeholder boolean;
    pb @extschema@.patron_binding;
    n name;
    ct regtype;
    st regtype;
    suggestion text;
    chain boolean := false;     -- the source is itself a copy (a copy of a copy)
    loop_via regclass;
BEGIN
    PERFORM @extschema@._bind_check(fn, relation, '{r,p}',
        ARRAY['relation', 'source', 'sever_with'],
        ARRAY[relation::text, source::text, sever_with]);
    PERFORM @extschema@._require_heap(fn, relation);
    SELECT * INTO b FROM @extschema@.loan_binding l WHERE l.relation = source;
    IF NOT FOUND THEN
        -- a copy of a copy (a rendered notice keyed by its event, the event a
        -- copy of the loan): it follows its source copy, which follows its own
        chain := EXISTS (SELECT FROM @extschema@.copy_binding x WHERE x.relation = _bind_copy.source);
        IF NOT chain THEN
            RAISE EXCEPTION '%: the source "%" is not bound with bind_loans or bind_copy', fn, _bind_copy.source
                USING ERRCODE = 'object_not_in_prerequisite_state',
                      HINT = 'Bind the source first; a copy follows the severing of its source.';
        END IF;
        -- no cycle: the relation must not be among the copies its source follows
        WITH RECURSIVE up(rel, via) AS (
            SELECT _bind_copy.source, _bind_copy.source
            UNION
            SELECT s.source, up.rel
              FROM up JOIN @extschema@.copy_binding x ON x.relation = up.rel
             CROSS JOIN LATERAL @extschema@._copy_sources(x) s)
        SELECT up.via INTO loop_via FROM up WHERE up.rel = _bind_copy.relation LIMIT 1;
        IF FOUND THEN
            RAISE EXCEPTION '%: "%" would follow itself through "%"', fn, relation, loop_via
                USING ERRCODE = 'invalid_recursion',
                      DETAIL = format('"%s" is bound as a copy of "%s"%s: the copies would form a cycle.', _bind_copy.source,
                                      (SELECT x.source FROM @extschema@.copy_binding x WHERE x.relation = _bind_copy.source),
                                      CASE WHEN loop_via = _bind_copy.source THEN '' ELSE ', which follows "' || _bind_copy.relation || '"' END),
                      HINT = 'A copy of a copy follows a copy that leads back to a loan binding: bind it to a copy that does not follow it.';
        END IF;
    END IF;
    IF relation = source OR EXISTS (SELECT FROM @extschema@._binding_kinds(relation) k WHERE k.kind IN ('loans', 'patrons', 'accounts')) THEN
        RAISE EXCEPTION '%: "%" is already bound as %', fn, relation,
                coalesce((SELECT string_agg(k.kind, ', ') FROM @extschema@._binding_kinds(relation) k), 'the source')
            USING ERRCODE = 'duplicate_object',
                  HINT = 'A copy is a relation of its own: not the source, a loan or patron table, or account records.';
    END IF;
    -- the key: the copy's columns that hold a unique key of the source, column for column
    IF (key_column IS NOT NULL AND key_columns IS NOT NULL) OR (source_key IS NOT NULL AND source_keys IS NOT NULL) THEN
        RAISE EXCEPTION '%: give key_column or key_columns (source_key or source_keys), not both', fn
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'key_columns and source_keys name a key of several columns; key_column and source_key a key of one.';
    END IF;
    IF keys IS NULL OR cardinality(keys) = 0 OR array_position(keys, NULL) IS NOT NULL THEN
        RAISE EXCEPTION '%: the key of the copy is missing', fn
            USING ERRCODE = 'null_value_not_allowed',
                  HINT = 'Name the copy''s columns that hold the source row''s key: key_column, or key_columns for a key of several columns.';
    END IF;
    IF skeys IS NULL THEN
        -- the source's primary key, in its order, when it has as many columns
        SELECT array_agg(a.attname ORDER BY k.n) INTO skeys
          FROM pg_index i CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY k(attnum, n)
          JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
         WHERE i.indrelid = source AND i.indisprimary AND k.n <= i.indnkeyatts
        HAVING count(*) = cardinality(keys);
        IF skeys IS NULL THEN
            RAISE EXCEPTION '%: "%" has no primary key of % column(s) to match the key of the copy', fn, source, cardinality(keys)
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = 'Name the source''s key columns with source_key, or source_keys for a key of several columns.';
        END IF;
    END IF;
    IF cardinality(skeys) <> cardinality(keys) OR array_position(skeys, NULL) IS NOT NULL THEN
        RAISE EXCEPTION '%: the copy''s key has % column(s) and the source''s key %', fn, cardinality(keys), cardinality(skeys)
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'key_columns and source_keys pair the copy''s columns with the source''s, column for column.';
    END IF;
    IF (SELECT count(DISTINCT k) FROM unnest(keys) k) <> cardinality(keys)
       OR (SELECT count(DISTINCT k) FROM unnest(skeys) k) <> cardinality(skeys) THEN
        RAISE EXCEPTION '%: a column is named twice in the key', fn
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    FOR i IN 1 .. cardinality(keys) LOOP
        ct := @extschema@._column_type(fn, relation, keys[i], 'key column');
        st := @extschema@._column_type(fn, source, skeys[i], 'source key column');
        IF NOT (ct = st OR @extschema@._can_coerce(ct, st) OR @extschema@._can_coerce(st, ct)) THEN
            RAISE EXCEPTION '%: key column "%" of "%" cannot hold "%"."%"', fn, keys[i], relation, source, skeys[i]
                USING ERRCODE = 'datatype_mismatch',
                      DETAIL = format('%s against %s.', ct, st);
        END IF;
    END LOOP;
    -- a key that more than one row of the source may hold would let a second
    -- row with the key (a decoy a writer inserts, or a row re-keyed by UPDATE)
    -- open the copies of the first
    IF @extschema@._copy_unique_key(source, skeys) IS NULL THEN
        -- a foreign key of the copy to a unique key of the source: the key to bind on
        SELECT format('key_columns => %L, source_keys => %L (the foreign key %I of "%s")',
                      (SELECT array_agg(a.attname ORDER BY k.n) FROM unnest(f.conkey) WITH ORDINALITY k(attnum, n)
                         JOIN pg_attribute a ON a.attrelid = f.conrelid AND a.attnum = k.attnum),
                      fk.cols, f.conname, relation)
          INTO suggestion
          FROM pg_constraint f
          CROSS JOIN LATERAL (SELECT array_agg(a.attname ORDER BY k.n) AS cols FROM unnest(f.confkey) WITH ORDINALITY k(attnum, n)
                                JOIN pg_attribute a ON a.attrelid = f.confrelid AND a.attnum = k.attnum) fk
         WHERE f.conrelid = relation AND f.contype = 'f' AND f.confrelid = source
           AND @extschema@._copy_unique_key(source, fk.cols) IS NOT NULL
         ORDER BY cardinality(f.conkey), f.conname LIMIT 1;
        RAISE EXCEPTION '%: the key (%) does not identify one row of "%"', fn, array_to_string(skeys, ', '), source
            USING ERRCODE = 'invalid_foreign_key',
                  DETAIL = 'No unique index of the source is made of these columns (partial, deferrable and expression indexes do not count): '
                           'a second row with the same key would open the copies of the first to every class that reads it.',
                  HINT = coalesce('Bind on a unique key of the source that the copy holds: ' || suggestion || '.',
                                  format('Bind on a unique key of the source that the copy holds (key_columns, source_keys); the unique keys of "%s": %s.',
                                         source, coalesce((SELECT string_agg(format('(%s)', (SELECT string_agg(pg_get_indexdef(i.indexrelid, k, false), ', ' ORDER BY k)
                                                                                          FROM generate_series(1, i.indnkeyatts) k)), ', ')
                                                             FROM pg_index i WHERE i.indrelid = source AND i.indisunique), 'none')));
    END IF;
    IF EXISTS (SELECT FROM pg_inherits h JOIN pg_class r ON r.oid = h.inhparent WHERE h.inhparent = source AND r.relkind = 'r') THEN
        RAISE WARNING '%: the key of "%" is unique in that table, not across its inheritance children', fn, source
            USING DETAIL = 'A copy whose key more than one row of the source or its children holds reads as the copy of a hidden row to every redacted class.',
                  HINT = 'Bind the copy to the child that holds its source rows, if there is one.';
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
    ELSIF sever_with = 'unlink' AND EXISTS (SELECT FROM pg_attribute WHERE attrelid = relation AND attname = ANY (keys) AND attnotnull) THEN
        RAISE EXCEPTION '%: sever_with => ''unlink'' needs a nullable key column, and "%"."%" is NOT NULL', fn, relation,
                (SELECT attname FROM pg_attribute WHERE attrelid = relation AND attname = ANY (keys) AND attnotnull ORDER BY attnum LIMIT 1)
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
    ELSIF sever_with = 'keep' THEN
        -- an archive that keeps no patron, only what pairs it with its source
        -- (the patron's post code and birth year, the checkout time): never
        -- written by the extension, its hide_columns read where the source's
        -- patron does.  A patron column would be left naming the patron
        IF patron_column IS NOT NULL THEN
            RAISE EXCEPTION '%: sever_with => ''keep'' takes no patron column', fn
                USING ERRCODE = 'invalid_parameter_value',
                      DETAIL = 'A copy bound with ''keep'' is never severed or purged: a patron column would keep naming the patron.',
                      HINT = 'Use sever_with => ''null'', ''patron:<id>'', ''unlink'' or ''delete'' for a copy that names the patron.';
        END IF;
        IF coalesce(cardinality(hide_columns), 0) = 0 THEN
            RAISE EXCEPTION '%: sever_with => ''keep'' needs hide_columns', fn
                USING ERRCODE = 'invalid_parameter_value',
                      DETAIL = 'A copy bound with ''keep'' hides nothing but its hide_columns.',
                      HINT = 'Name the columns that tie a row to its patron or pair it with its source (a post code, a birth year, a checkout time).';
        END IF;
    ELSIF sever_with NOT IN ('null', 'unlink', 'delete') THEN
        RAISE EXCEPTION '%: unknown sever_with %', fn, quote_literal(sever_with)
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Use ''null'', ''patron:<id>'', ''unlink'', ''delete'' or ''keep''.';
    END IF;
    FOREACH n IN ARRAY coalesce(hide_columns, '{}') LOOP
        PERFORM @extschema@._column_type(fn, relation, n, 'column to hide with the link');
    END LOOP;
    IF current_when IS NOT NULL THEN
        IF sever_with = 'delete' THEN
            RAISE EXCEPTION '%: current_when has no use with sever_with => ''delete''', fn
                USING ERRCODE = 'invalid_parameter_value',
                      DETAIL = 'A copy row of a hidden source is not read at all.';
        END IF;
        IF patron_column IS NULL THEN
            RAISE EXCEPTION '%: current_when needs the patron column of the copy', fn
                USING ERRCODE = 'invalid_parameter_value',
                      DETAIL = 'It says which rows keep their patron for the classes that read the current account.';
        END IF;
        PERFORM @extschema@._condition_sql(relation, current_when, 'c', 'current_when');
    END IF;
    -- which rows are copies: a condition like current_when, checked the same way
    IF copy_when IS NOT NULL THEN
        PERFORM @extschema@._condition_sql(relation, copy_when, 'c', 'copy_when');
    END IF;
    IF sever_with = 'delete' AND cardinality(hide_columns) > 0 THEN
        RAISE EXCEPTION '%: hide_columns has no use with sever_with => ''delete''', fn
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'A copy row of a hidden source is not read at all.';
    END IF;
    SELECT * INTO c FROM @extschema@.copy_binding x WHERE x.relation = _bind_copy.relation;
    IF FOUND AND c.source <> _bind_copy.source
       AND (chain OR EXISTS (SELECT FROM @extschema@._copy_sources(c) s JOIN @extschema@.copy_binding x ON x.relation = s.source)) THEN
        RAISE EXCEPTION '%: a copy of a copy has one source', fn
            USING ERRCODE = 'feature_not_supported',
                  DETAIL = format('"%s" would follow "%s" and "%s"; a copy with several sources follows loan bindings only.', _bind_copy.relation, c.source, _bind_copy.source),
                  HINT = 'Bind the copy to one copy, or to the loan bindings only.';
    END IF;
    IF FOUND AND c.source <> _bind_copy.source THEN
        -- another source of the same copy (a loan that lives in one table while
        -- out and in another once returned, with one id): the rest of the
        -- binding must be the same, the key must be unique in this source too
        IF c.key_columns <> keys OR c.patron_column IS DISTINCT FROM _bind_copy.patron_column
           OR c.sever_with <> _bind_copy.sever_with OR c.hide_columns IS DISTINCT FROM _bind_copy.hide_columns
           OR c.current_when IS DISTINCT FROM _bind_copy.current_when
           OR c.copy_when IS DISTINCT FROM _bind_copy.copy_when THEN
            RAISE EXCEPTION '%: "%" is already bound as a copy of "%" with different settings', fn, relation, c.source
                USING ERRCODE = 'duplicate_object',
                      DETAIL = format('A copy with several sources is bound once per source with the same key_columns, patron_column, sever_with, hide_columns, current_when and copy_when; existing binding: %s.',
                                      to_jsonb(c) - 'relation' - 'bound_at' - 'bound_by'),
                      HINT = 'Call bind_copy() for this source with the settings of the existing binding, or unbind_copy() first to change them.';
        END IF;
        IF _bind_copy.source = ANY (c.more_sources) THEN
            IF skeys = (SELECT s.source_keys FROM @extschema@._copy_sources(c) s WHERE s.source = _bind_copy.source) THEN
                RAISE NOTICE '%: "%" is already bound this way', fn, relation;
                RETURN;
            END IF;
            RAISE EXCEPTION '%: "%" is already bound as a copy of "%" with other key columns', fn, relation, source
                USING ERRCODE = 'duplicate_object',
                      HINT = 'Call pals_privacy.unbind_copy() first to change a binding.';
        END IF;
        IF EXISTS (SELECT FROM @extschema@._copy_sources(c) s
                    WHERE s.source IN (SELECT @extschema@._trigger_targets(_bind_copy.source))
                       OR _bind_copy.source IN (SELECT @extschema@._trigger_targets(s.source))) THEN
            RAISE EXCEPTION '%: "%" and a source of "%" hold the same rows (a partition or inheritance child)', fn, source, relation
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = 'Bind the copy to the parent only: a copy of a partitioned table follows every partition.';
        END IF;
        UPDATE @extschema@.copy_binding x
           SET more_sources = coalesce(x.more_sources, '{}') || _bind_copy.source,
               more_source_keys = coalesce(x.more_source_keys, '{}') || skeys
         WHERE x.relation = _bind_copy.relation;
        SELECT * INTO c FROM @extschema@.copy_binding x WHERE x.relation = _bind_copy.relation;
        PERFORM @extschema@._install_copy_triggers(c);
        PERFORM @extschema@._sync_row_security();
        -- copies of rows severed before, now that every source is known
        IF sweep THEN
            PERFORM @extschema@.sever_copies(relation);
        END IF;
        RETURN;
    END IF;
    binding := jsonb_build_object('relation', relation, 'source', source, 'key_columns', keys, 'source_keys', skeys,
                                  'patron_column', patron_column, 'sever_with', sever_with,
                                  'hide_columns', hide_columns, 'current_when', current_when, 'copy_when', copy_when,
                                  -- a copy's further sources (calls for other sources) are not settings of this call
                                  'more_sources', c.more_sources, 'more_source_keys', c.more_source_keys);
    IF @extschema@._bind_existing(fn, 'copy', relation, binding) THEN
        RETURN;
    END IF;
    PERFORM @extschema@._warn_unindexed(fn, relation, keys[1], 'Severing a copy with its source');
    PERFORM @extschema@._bind_insert('copy', binding);
    SELECT * INTO c FROM @extschema@.copy_binding x WHERE x.relation = _bind_copy.relation;
    PERFORM @extschema@._install_copy_triggers(c);
    PERFORM @extschema@._sync_row_security();
    -- copies of rows severed before: at once
    IF sweep THEN
        PERFORM @extschema@.sever_copies(relation);
    END IF;
END $$;

REVOKE ALL ON FUNCTION @extschema@._bind_copy(regclass,regclass,name,name,text,name,name[],name[],name[],text,boolean,text) FROM PUBLIC;
