CREATE OR REPLACE FUNCTION @extschema@.bind_copy(relation regclass, source regclass, key_column name,
                                      patron_column name DEFAULT NULL, sever_with text DEFAULT 'null',
                                      source_key name DEFAULT NULL, hide_columns name[] DEFAULT NULL,
                                      current_when text DEFAULT NULL)
RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    fn constant text := 'bind_copy';
    b @extschema@.loan_binding;
    c @extschema@.copy_binding;
    binding jsonb;
    skey name := source_key;
    placeholder text;
    found_placeholder boolean;
    pb @extschema@.patron_binding;
    n name;
BEGIN
    PERFORM @extschema@._bind_check(fn, relation, '{r,p}',
        ARRAY['relation', 'source', 'key_column', 'sever_with'],
        ARRAY[relation::text, source::text, key_column::text, sever_with]);
    PERFORM @extschema@._require_heap(fn, relation);
    SELECT * INTO b FROM @extschema@.loan_binding l WHERE l.relation = source;
    IF NOT FOUND THEN
        RAISE EXCEPTION '%: the source "%" is not bound with bind_loans', fn, source
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'Bind the source first; a copy follows the severing of its source.';
    END IF;
    IF relation = source OR EXISTS (SELECT FROM @extschema@._binding_kinds(relation) k WHERE k.kind IN ('loans', 'patrons', 'accounts')) THEN
        RAISE EXCEPTION '%: "%" is already bound as %', fn, relation,
                coalesce((SELECT string_agg(k.kind, ', ') FROM @extschema@._binding_kinds(relation) k), 'the source')
            USING ERRCODE = 'duplicate_object',
                  HINT = 'A copy is a relation of its own: not the source, a loan or patron table, or account records.';
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
    IF sever_with = 'delete' AND cardinality(hide_columns) > 0 THEN
        RAISE EXCEPTION '%: hide_columns has no use with sever_with => ''delete''', fn
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'A copy row of a hidden source is not read at all.';
    END IF;
    binding := jsonb_build_object('relation', relation, 'source', source, 'key_column', key_column, 'source_key', skey,
                                  'patron_column', patron_column, 'sever_with', sever_with,
                                  'hide_columns', hide_columns, 'current_when', current_when);
    IF @extschema@._bind_existing(fn, 'copy', relation, binding) THEN
        RETURN;
    END IF;
    PERFORM @extschema@._warn_unindexed(fn, relation, key_column, 'Severing a copy with its source');
    PERFORM @extschema@._bind_insert('copy', binding);
    SELECT * INTO c FROM @extschema@.copy_binding x WHERE x.relation = bind_copy.relation;
    PERFORM @extschema@._install_copy_triggers(c);
    PERFORM @extschema@._sync_row_security();
    -- copies of rows severed before: at once
    PERFORM @extschema@.sever_copies(relation);
END $$;

REVOKE ALL ON FUNCTION @extschema@.bind_copy(regclass,regclass,name,name,text,name,name[],text) FROM PUBLIC;
