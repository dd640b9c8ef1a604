------------------------------------------------------------------------------
-- Binding sanity (issue 15): what cannot be right is refused at bind time,
-- what may be wrong is said; clearer messages for the usual slips.
-- Owner: identity.
------------------------------------------------------------------------------

-- Type of a column, or an error if it does not exist; the error says when
-- the name was given with double quotes or in another case.
CREATE OR REPLACE FUNCTION @extschema@._column_type(fn text, rel regclass, col name, what text,
                                                    allowed "char"[] DEFAULT NULL, allowed_desc text DEFAULT NULL)
RETURNS regtype
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE t regtype; cat "char"; near name;
BEGIN
    SELECT a.atttypid::regtype, ty.typcategory INTO t, cat
      FROM pg_attribute a JOIN pg_type ty ON ty.oid = a.atttypid
     WHERE a.attrelid = rel AND a.attname = col AND a.attnum > 0 AND NOT a.attisdropped;
    IF t IS NULL THEN
        SELECT a.attname INTO near FROM pg_attribute a
         WHERE a.attrelid = rel AND a.attnum > 0 AND NOT a.attisdropped
           AND lower(a.attname) = lower(btrim(col, '"'))
         ORDER BY a.attname = btrim(col, '"') DESC LIMIT 1;
        RAISE EXCEPTION '%: column "%" of relation "%" does not exist', fn, col, rel
            USING ERRCODE = 'undefined_column',
                  DETAIL = format('It was given as the %s.', what),
                  HINT = CASE
                      WHEN near IS NOT NULL AND col LIKE '"%"' THEN
                          format('Give column names as they are, without double quotes: %L.', near)
                      WHEN near IS NOT NULL THEN
                          format('Column names are matched exactly, case included: the column is %L.', near)
                      ELSE format('The columns of "%s" are: %s.', rel,
                                  (SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum)
                                     FROM pg_attribute WHERE attrelid = rel AND attnum > 0 AND NOT attisdropped))
                  END;
    END IF;
    IF allowed IS NOT NULL AND (NOT cat = ANY (allowed)
                                OR (cat = 'D' AND t NOT IN ('date', 'timestamp without time zone', 'timestamp with time zone'))) THEN
        RAISE EXCEPTION '%: column "%" of relation "%" has type %, which cannot be the %', fn, col, rel, t, what
            USING ERRCODE = 'datatype_mismatch',
                  HINT = format('The %s must be %s.', what, allowed_desc);
    END IF;
    RETURN t;
END $$;

-- Severing and the tracker read heap tuples by TID: the relation and every
-- partition or child must be ordinary heap tables.
CREATE FUNCTION @extschema@._require_heap(fn text, rel regclass) RETURNS void
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE bad record;
BEGIN
    SELECT c.oid::regclass AS rel, a.amname INTO bad
      FROM pg_class c JOIN pg_am a ON a.oid = c.relam
     WHERE c.relkind IN ('r', 'm', 't')
       AND (c.oid = rel OR c.oid IN (SELECT r.relation FROM @extschema@._related_relations(rel) r
                                      WHERE r.relationship = 'child'))
       AND a.amname <> 'heap'
     LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION '%: "%" uses table access method "%", not heap', fn, bad.rel, bad.amname
            USING ERRCODE = 'feature_not_supported',
                  DETAIL = 'Severing reads and changes rows by their heap tuple identifiers.',
                  HINT = format('ALTER TABLE %s SET ACCESS METHOD heap, or do not bind it.', bad.rel);
    END IF;
END $$;

-- A temporary table goes away with its session, and an unlogged one is
-- emptied by a crash, while the binding and the tracker stay: say so.
CREATE FUNCTION @extschema@._warn_persistence(fn text, rel regclass) RETURNS void
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE p "char";
BEGIN
    SELECT relpersistence INTO p FROM pg_class WHERE oid = rel;
    IF p = 't' THEN
        RAISE WARNING '%: "%" is a temporary table', fn, rel
            USING DETAIL = 'It goes away when this session ends, and the binding with it is then left naming a dropped relation.',
                  HINT = 'Bind the permanent table the ILS uses.';
    ELSIF p = 'u' THEN
        RAISE WARNING '%: "%" is an unlogged table', fn, rel
            USING DETAIL = 'A crash empties it and a standby does not have its rows, while the extension''s own state (the last-borrower tracker, pending severs) is logged.',
                  HINT = format('ALTER TABLE %s SET LOGGED, unless losing its rows is intended.', rel);
    END IF;
END $$;

-- The table a single-column foreign key on the column points at, if any.
CREATE FUNCTION @extschema@._fk_target(rel regclass, col name) RETURNS regclass
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT c.confrelid::regclass FROM pg_constraint c
      JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
     WHERE c.conrelid = rel AND c.contype = 'f' AND cardinality(c.conkey) = 1 AND a.attname = col
     ORDER BY c.oid LIMIT 1
$$;

-- Is the relation the patron table (or a partition, child or parent of it)?
CREATE FUNCTION @extschema@._is_patron_table(rel regclass) RETURNS boolean
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT EXISTS (SELECT FROM @extschema@.patron_binding p
                    WHERE p.relation = rel
                       OR p.relation IN (SELECT r.relation FROM @extschema@._related_relations(rel) r))
$$;

-- Patron and item columns the wrong way round are refused: a foreign key
-- says what a column holds.
CREATE FUNCTION @extschema@._require_not_swapped(fn text, rel regclass, patron_column name, item_column name)
RETURNS void LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE target regclass; pb @extschema@.patron_binding;
BEGIN
    SELECT * INTO pb FROM @extschema@.patron_binding;
    IF item_column IS NOT NULL THEN
        target := @extschema@._fk_target(rel, item_column);
        IF target IS NOT NULL AND @extschema@._is_patron_table(target) THEN
            RAISE EXCEPTION '%: the item column "%" of "%" references the patron table "%"', fn, item_column, rel, target
                USING ERRCODE = 'invalid_parameter_value',
                      DETAIL = 'Severing would cut the item from its history and leave every patron in place.',
                      HINT = format('Are the patron and item columns swapped? Try patron_column => %L, item_column => %L.',
                                    item_column, patron_column);
        END IF;
    END IF;
    target := @extschema@._fk_target(rel, patron_column);
    IF target IS NOT NULL AND NOT @extschema@._is_patron_table(target) THEN
        RAISE EXCEPTION '%: the patron column "%" of "%" references "%", not the patron table "%"', fn,
                patron_column, rel, target, pb.relation
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'Severing sets the patron column to NULL or to a placeholder: it must hold the patron.',
                  HINT = CASE WHEN item_column IS NOT NULL
                              THEN format('Are the patron and item columns swapped? Try patron_column => %L, item_column => %L.',
                                          item_column, patron_column)
                              ELSE 'Name the column that holds the patron id.' END;
    END IF;
END $$;

-- Severing and purge look rows up by this column: without an index each
-- lookup reads the whole table.
CREATE FUNCTION @extschema@._warn_unindexed(fn text, rel regclass, col name, why text) RETURNS void
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
                    WHERE i.indrelid = rel AND a.attname = col AND i.indpred IS NULL) THEN
        RAISE NOTICE '%: column "%" of "%" has no index', fn, col, rel
            USING DETAIL = format('%s reads every row of the table without one.', why),
                  HINT = format('CREATE INDEX ON %s (%I);', rel, col);
    END IF;
END $$;

-- The patron id must be unique: purge removes patrons by it.
CREATE FUNCTION @extschema@._require_unique(fn text, rel regclass, col name) RETURNS void
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
                    WHERE i.indrelid = rel AND a.attname = col AND i.indisunique AND i.indnkeyatts = 1
                      AND i.indpred IS NULL AND i.indexprs IS NULL) THEN
        RAISE EXCEPTION '%: the patron id column "%" of "%" has no unique constraint', fn, col, rel
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'Purge, severing and the patron session find a patron by this id; two rows with one id would be purged together.',
                  HINT = format('Bind the column that is the primary key, or add one: ALTER TABLE %s ADD UNIQUE (%I);', rel, col);
    END IF;
END $$;

-- purge_function: 'schema.fn(type)' or, when the name is unique, 'schema.fn'.
-- No SET search_path: the name is resolved as the caller wrote it.
CREATE FUNCTION @extschema@._purge_function(fn text, purge_function text) RETURNS regprocedure
LANGUAGE plpgsql STABLE AS $$
DECLARE f regprocedure; n bigint;
BEGIN
    IF purge_function IS NULL THEN
        RETURN NULL;
    END IF;
    IF pg_catalog.strpos(purge_function, '(') > 0 THEN
        f := pg_catalog.to_regprocedure(purge_function);
    ELSE
        -- NULL when there is none, and when there are several
        f := pg_catalog.to_regproc(purge_function)::pg_catalog.oid::pg_catalog.regprocedure;
    END IF;
    IF f IS NULL THEN
        SELECT pg_catalog.count(*) INTO n FROM pg_catalog.pg_proc p
         WHERE p.proname = pg_catalog.split_part(pg_catalog.split_part(purge_function, '(', 1), '.', -1);
        RAISE EXCEPTION '%: purge function % %', fn, purge_function,
                CASE WHEN n > 1 AND pg_catalog.strpos(purge_function, '(') = 0 THEN 'is ambiguous'
                     ELSE 'does not exist' END
            USING ERRCODE = 'undefined_function',
                  HINT = 'Name it with its schema and argument type, for example ''ils.purge_patron(bigint)''.';
    END IF;
    RETURN f;
END $$;

-- A regprocedure as text, schema-qualified whatever the search path.
CREATE FUNCTION @extschema@._regprocedure_text(f regprocedure) RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog AS 'SELECT f::text';

DROP FUNCTION @extschema@.bind_patrons(regclass, name, name, name, name, name, regprocedure, name, name[]);
CREATE FUNCTION @extschema@.bind_patrons(
    relation regclass, id_column name, expires_column name,
    card_column name DEFAULT NULL, library_column name DEFAULT NULL,
    birth_date_column name DEFAULT NULL, purge_function text DEFAULT NULL,
    keep_history_column name DEFAULT NULL, name_columns name[] DEFAULT NULL)
-- No SET search_path clause: the purge function is named as the caller
-- would call it; the safe path is set (for the transaction, and put back)
-- once it is found.
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    fn constant text := 'bind_patrons';
    caller_path constant text := pg_catalog.current_setting('search_path');
    n name;
    idt regtype;
    existing jsonb;
    wanted jsonb;
    other regclass;
    purge_fn regprocedure;
BEGIN
    purge_fn := @extschema@._purge_function(fn, purge_function);
    PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
    PERFORM @extschema@._require_admin(fn);
    PERFORM @extschema@._require_args(fn, ARRAY['relation', 'id_column', 'expires_column'],
                                      ARRAY[relation::text, id_column::text, expires_column::text]);
    PERFORM @extschema@._require_relkind(fn, relation, '{r,p}');
    PERFORM @extschema@._require_heap(fn, relation);
    idt := @extschema@._require_key(fn, relation, id_column, 'patron id column');
    PERFORM @extschema@._require_unique(fn, relation, id_column);
    PERFORM @extschema@._column_type(fn, relation, expires_column, 'card expiry column', '{D}', 'a date or timestamp');
    IF card_column IS NOT NULL THEN
        PERFORM @extschema@._require_key(fn, relation, card_column, 'card number column');
    END IF;
    IF library_column IS NOT NULL THEN
        PERFORM @extschema@._column_type(fn, relation, library_column, 'library column');
    END IF;
    IF birth_date_column IS NOT NULL THEN
        PERFORM @extschema@._column_type(fn, relation, birth_date_column, 'birth date column', '{D}', 'a date or timestamp');
    END IF;
    IF keep_history_column IS NOT NULL THEN
        PERFORM @extschema@._column_type(fn, relation, keep_history_column, 'reading-history opt-in column', '{B}', 'boolean');
    END IF;
    FOREACH n IN ARRAY coalesce(name_columns, '{}') LOOP
        PERFORM @extschema@._column_type(fn, relation, n, 'name column');
    END LOOP;
    IF purge_fn IS NOT NULL THEN
        IF (SELECT pronargs <> 1 OR prokind <> 'f' FROM pg_proc WHERE oid = purge_fn) THEN
            RAISE EXCEPTION '%: purge function % must be a function of one argument, the patron id', fn, purge_fn
                USING ERRCODE = 'invalid_function_definition';
        END IF;
        IF NOT @extschema@._can_coerce(idt, (SELECT proargtypes[0]::regtype FROM pg_proc WHERE oid = purge_fn)) THEN
            RAISE EXCEPTION '%: purge function % does not take a % patron id', fn, purge_fn, idt
                USING ERRCODE = 'datatype_mismatch';
        END IF;
    END IF;
    PERFORM @extschema@._require_unbound(fn, relation, 'patrons');

    SELECT b.relation INTO other FROM @extschema@.patron_binding b WHERE b.relation <> bind_patrons.relation;
    IF other IS NOT NULL THEN
        RAISE EXCEPTION '%: the patron table is already bound to "%"', fn, other
            USING ERRCODE = 'duplicate_object',
                  HINT = 'There is one patron table; unbind it first.';
    END IF;
    wanted := jsonb_build_object('relation', relation, 'id_column', id_column, 'expires_column', expires_column,
                                 'card_column', card_column, 'library_column', library_column,
                                 'birth_date_column', birth_date_column, 'purge_function', @extschema@._regprocedure_text(purge_fn),
                                 'keep_history_column', keep_history_column, 'name_columns', name_columns);
    SELECT to_jsonb(b) INTO existing FROM @extschema@.patron_binding b WHERE b.relation = bind_patrons.relation;
    IF @extschema@._same_or_conflict(fn, relation, existing, wanted) THEN
        PERFORM pg_catalog.set_config('search_path', caller_path, true);
        RETURN;
    END IF;
    PERFORM @extschema@._warn_persistence(fn, relation);
    INSERT INTO @extschema@.patron_binding (relation, id_column, expires_column, card_column, library_column,
                                            birth_date_column, purge_function, keep_history_column, name_columns)
    VALUES (relation, id_column, expires_column, card_column, library_column,
            birth_date_column, @extschema@._regprocedure_text(purge_fn), keep_history_column, name_columns);
    PERFORM @extschema@._install_patron_triggers(relation);
    PERFORM @extschema@._sync_row_security();
    PERFORM pg_catalog.set_config('search_path', caller_path, true);
END $$;

REVOKE ALL ON FUNCTION @extschema@.bind_patrons(regclass, name, name, name, name, name, text, name, name[]) FROM PUBLIC;
DO $$
DECLARE f text;
BEGIN
    FOREACH f IN ARRAY ARRAY['_require_heap(text, regclass)', '_warn_persistence(text, regclass)',
                             '_fk_target(regclass, name)', '_is_patron_table(regclass)',
                             '_require_not_swapped(text, regclass, name, name)',
                             '_warn_unindexed(text, regclass, name, text)', '_require_unique(text, regclass, name)',
                             '_purge_function(text, text)', '_regprocedure_text(regprocedure)'] LOOP
        EXECUTE format('REVOKE ALL ON FUNCTION @extschema@.%s FROM PUBLIC', f);
    END LOOP;
END $$;
