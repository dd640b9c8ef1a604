CREATE OR REPLACE FUNCTION @extschema@.bind_patrons(
    relation regclass, id_column name, expires_column name,
    card_column name DEFAULT NULL, library_column name DEFAULT NULL,
    birth_date_column name DEFAULT NULL, purge_function text DEFAULT NULL,
    keep_history_column name DEFAULT NULL, name_columns name[] DEFAULT NULL,
    keep_history_when text DEFAULT NULL)
-- No SET search_path clause: the purge function is named as the caller
-- would call it; the safe path is set (for the transaction, and put back)
-- once it is found.
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    fn constant text := 'bind_patrons';
    caller_path constant text := pg_catalog.current_setting('search_path');
    n name;
    idt regtype;
    binding jsonb;
    other regclass;
    purge_fn regprocedure;
BEGIN
    purge_fn := @extschema@._purge_function(fn, purge_function);
    PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
    PERFORM @extschema@._bind_check(fn, relation, '{r,p}',
        ARRAY['relation', 'id_column', 'expires_column'],
        ARRAY[relation::text, id_column::text, expires_column::text]);
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
    IF keep_history_when IS NOT NULL AND keep_history_column IS NULL THEN
        RAISE EXCEPTION '%: keep_history_when needs keep_history_column', fn
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'A change of that column is what withdraws the opt-in (the kept history is severed then).',
                  HINT = 'Name the column the condition reads, e.g. keep_history_column => ''privacy'', keep_history_when => ''privacy = 0''.';
    END IF;
    IF keep_history_column IS NOT NULL AND keep_history_when IS NULL THEN
        IF @extschema@._column_type(fn, relation, keep_history_column, 'reading-history opt-in column') <> 'boolean'::regtype THEN
            RAISE EXCEPTION '%: column "%" of relation "%" has type %, which cannot be the reading-history opt-in column',
                    fn, keep_history_column, relation, @extschema@._column_type(fn, relation, keep_history_column, 'reading-history opt-in column')
                USING ERRCODE = 'datatype_mismatch',
                      HINT = 'A boolean column is the opt-in itself; for another type say which values opt in, e.g. keep_history_when => ''privacy = 0''.';
        END IF;
    ELSIF keep_history_column IS NOT NULL THEN
        PERFORM @extschema@._column_type(fn, relation, keep_history_column, 'reading-history opt-in column');
        -- parsed and checked against the table (a boolean condition, no subquery, nothing volatile)
        PERFORM @extschema@._condition_sql(relation, keep_history_when, 'p', 'keep_history_when');
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
    -- (again in _bind_existing; here so that it is said before the one-patron-table error)
    PERFORM @extschema@._require_unbound(fn, relation, 'patrons');
    SELECT b.relation INTO other FROM @extschema@.patron_binding b WHERE b.relation <> bind_patrons.relation;
    IF other IS NOT NULL THEN
        RAISE EXCEPTION '%: the patron table is already bound to "%"', fn, other
            USING ERRCODE = 'duplicate_object',
                  HINT = 'There is one patron table; unbind it first.';
    END IF;
    binding := jsonb_build_object('relation', relation, 'id_column', id_column, 'expires_column', expires_column,
                                  'card_column', card_column, 'library_column', library_column,
                                  'birth_date_column', birth_date_column,
                                  'purge_function', @extschema@._regprocedure_text(purge_fn),
                                  'keep_history_column', keep_history_column, 'name_columns', name_columns,
                                  'keep_history_when', keep_history_when);
    IF @extschema@._bind_existing(fn, 'patrons', relation, binding) THEN
        PERFORM pg_catalog.set_config('search_path', caller_path, true);
        RETURN;
    END IF;
    PERFORM @extschema@._warn_persistence(fn, relation);
    PERFORM @extschema@._bind_insert('patrons', binding);
    PERFORM @extschema@._install_patron_triggers(relation);
    PERFORM @extschema@._sync_row_security();
    PERFORM pg_catalog.set_config('search_path', caller_path, true);
END $$;

REVOKE ALL ON FUNCTION @extschema@.bind_patrons(regclass,name,name,name,name,name,text,name,name[],text) FROM PUBLIC;
