-- closed_when: a condition over the row (closed when it holds and one of
-- closed_columns, which order an item's closed rows, is set); settled_when:
-- a condition instead of settled_column; hide_columns: columns that pair a
-- row with another (a visit's checkout time), read only where its patron is;
-- last_borrower_group: another loan binding over the same items (an
-- archive's loans), sharing one last borrower per item with it;
-- closed_precision: a closed time on a row whose patron a class below
-- operational does not read reads truncated to it (in the binding session's
-- TimeZone, stored as closed_zone), so that it pairs the row with no record
-- the ILS wrote at the return next to the patron (a charge, a receipt).
CREATE OR REPLACE FUNCTION @extschema@.bind_loans(
    relation regclass, patron_column name, item_column name, closed_columns name[],
    settled_column name DEFAULT NULL, sever_with text DEFAULT 'null',
    keep_last_borrower boolean DEFAULT true, history_mode text DEFAULT 'copy',
    closed_when text DEFAULT NULL, settled_when text DEFAULT NULL, build_tracker boolean DEFAULT true,
    more_patron_columns name[] DEFAULT NULL, hide_columns name[] DEFAULT NULL,
    last_borrower_group regclass DEFAULT NULL, closed_precision text DEFAULT 'day')
RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    fn constant text := 'bind_loans';
    binding jsonb;
    closed_type regtype;
    t regtype;
    c name;
    closed_sql text;
    n bigint;
    g @extschema@.loan_binding;
    group_key regclass;
BEGIN
    PERFORM @extschema@._bind_check(fn, relation, '{r,p}',
        ARRAY['relation', 'patron_column', 'item_column', 'closed_columns', 'sever_with', 'keep_last_borrower', 'history_mode'],
        ARRAY[relation::text, patron_column::text, item_column::text, closed_columns::text, sever_with,
              keep_last_borrower::text, history_mode]);
    PERFORM @extschema@._require_heap(fn, relation);
    PERFORM @extschema@._require_patron_column(fn, relation, patron_column);
    PERFORM @extschema@._require_key(fn, relation, item_column, 'item column');
    IF patron_column = item_column THEN
        RAISE EXCEPTION '%: the patron column and the item column must differ', fn
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    PERFORM @extschema@._require_not_swapped(fn, relation, patron_column, item_column);
    IF cardinality(closed_columns) = 0 OR array_position(closed_columns, NULL) IS NOT NULL
       OR cardinality(closed_columns) > 8 THEN
        IF closed_when IS NOT NULL THEN
            RAISE EXCEPTION '%: closed_columns must list one to eight columns, none of them NULL', fn
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = 'With closed_when, closed_columns are the date columns that order an item''s closed rows (its latest is the last borrower).';
        END IF;
        RAISE EXCEPTION '%: closed_columns must list one to eight columns, none of them NULL', fn
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    PERFORM @extschema@._check_column_list(fn, 'closed_columns', closed_columns);
    FOREACH c IN ARRAY closed_columns LOOP
        IF c IN (patron_column, item_column) THEN
            RAISE EXCEPTION '%: closed column "%" is also the patron or item column', fn, c
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
        t := @extschema@._column_type(fn, relation, c, 'closed column');
        IF closed_type IS NOT NULL AND t <> closed_type THEN
            RAISE EXCEPTION '%: closed columns must share one type, but "%" is % and the first is %', fn, c, t, closed_type
                USING ERRCODE = 'datatype_mismatch',
                      HINT = 'The latest closed row of an item is found by comparing these columns. '
                             'To say when a row is closed by columns of other types, use closed_when (a condition), '
                             'and list in closed_columns the date columns that order the rows.';
        END IF;
        closed_type := t;
    END LOOP;
    -- conditions: parsed and checked against the table (columns, types,
    -- nothing volatile, no subquery)
    IF closed_when IS NOT NULL THEN
        closed_sql := @extschema@._condition_sql(relation, closed_when, 't', 'closed_when');
    END IF;
    IF settled_when IS NOT NULL THEN
        IF settled_column IS NOT NULL THEN
            RAISE EXCEPTION '%: give settled_column or settled_when, not both', fn
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
        PERFORM @extschema@._condition_sql(relation, settled_when, 't', 'settled_when');
    END IF;
    IF settled_column IS NOT NULL THEN
        PERFORM @extschema@._column_type(fn, relation, settled_column, 'settled column');
        IF settled_column IN (patron_column, item_column) THEN
            RAISE EXCEPTION '%: the settled column must differ from the patron and item columns', fn
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
    END IF;

    PERFORM @extschema@._check_strategy(fn, 'sever_with', sever_with, relation, patron_column,
        'Use sever_with => ''patron:<id>'' to re-point severed rows to an anonymous placeholder patron.');
    -- further columns naming a patron (a hold's requestor, a loan's proxy):
    -- cut wherever the patron column is, so they must hold what it holds
    IF cardinality(more_patron_columns) = 0 THEN
        more_patron_columns := NULL;
    END IF;
    IF cardinality(more_patron_columns) > 8 THEN
        RAISE EXCEPTION '%: more_patron_columns lists more than eight columns', fn USING ERRCODE = 'invalid_parameter_value';
    END IF;
    PERFORM @extschema@._check_column_list(fn, 'more_patron_columns', more_patron_columns);
    FOREACH c IN ARRAY coalesce(more_patron_columns, '{}') LOOP
        IF c = patron_column OR c = item_column OR c = settled_column OR c = ANY (closed_columns) THEN
            RAISE EXCEPTION '%: column "%" of more_patron_columns is already the patron, item, closed or settled column', fn, c
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = 'List in more_patron_columns only the other columns that name a patron (a hold''s requestor, a loan''s proxy).';
        END IF;
        t := @extschema@._column_type(fn, relation, c, 'column of more_patron_columns');
        IF t <> (SELECT atttypid FROM pg_attribute WHERE attrelid = relation AND attname = patron_column) THEN
            RAISE EXCEPTION '%: column "%" of more_patron_columns has type %, but the patron column "%" is %', fn, c, t,
                    patron_column, (SELECT atttypid::regtype FROM pg_attribute WHERE attrelid = relation AND attname = patron_column)
                USING ERRCODE = 'datatype_mismatch',
                      HINT = 'A severed row gets the same value (NULL or the placeholder) in every patron column, so they must share one type.';
        END IF;
        -- severed, or purged while it names someone else's row's other
        -- patron, the column gets NULL unless there is a placeholder
        IF sever_with IN ('null', 'delete') AND (SELECT attnotnull FROM pg_attribute WHERE attrelid = relation AND attname = c) THEN
            RAISE EXCEPTION '%: sever_with => % needs nullable more_patron_columns, and "%"."%" is NOT NULL', fn, quote_literal(sever_with), relation, c
                USING ERRCODE = 'invalid_parameter_value',
                      DETAIL = 'A severed row, and a row whose column names a purged patron, get NULL there.',
                      HINT = 'Drop the NOT NULL of that column, or use sever_with => ''patron:<id>'' to re-point those columns to an anonymous placeholder patron.';
        END IF;
    END LOOP;
    PERFORM @extschema@._require_no_patron_partition_key(fn, relation, patron_column, more_patron_columns, sever_with);

    -- columns two loans of one patron share (the checkout time of one visit,
    -- the workstation): read only where the row's patron is read as a patron
    IF cardinality(hide_columns) = 0 THEN
        hide_columns := NULL;
    END IF;
    PERFORM @extschema@._check_column_list(fn, 'hide_columns', hide_columns);
    FOREACH c IN ARRAY coalesce(hide_columns, '{}') LOOP
        PERFORM @extschema@._column_type(fn, relation, c, 'column of hide_columns');
        IF c = patron_column OR c = item_column OR c = ANY (coalesce(more_patron_columns, '{}')) THEN
            RAISE EXCEPTION '%: column "%" of hide_columns is the patron or item column, or one of more_patron_columns', fn, c
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = 'The patron columns are masked by their own rule and the item stays visible: list in hide_columns only the other columns a row shares with another row of the same patron (a checkout time, a workstation).';
        END IF;
    END LOOP;

    IF closed_precision IS NULL OR closed_precision NOT IN ('hour', 'day', 'week', 'month', 'year') THEN
        RAISE EXCEPTION '%: unknown closed_precision %', fn, coalesce(quote_literal(closed_precision), 'NULL')
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Use ''hour'', ''day'' (the default), ''week'', ''month'' or ''year'': how finely a class below operational reads the closed time of a row whose patron it does not read. There is no exact setting: to the second, that time finds the row''s patron again next to anything the ILS records at the return.';
    END IF;

    IF history_mode NOT IN ('copy', 'in_place') THEN
        RAISE EXCEPTION '%: unknown history_mode %', fn, quote_literal(history_mode)
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Use ''copy'' or ''in_place''.';
    END IF;

    -- one last borrower per item across bindings over the same items (an
    -- archive the ILS moves closed loans into): the group is keyed by its
    -- first binding, which the named one is or names
    IF last_borrower_group IS NOT NULL THEN
        SELECT * INTO g FROM @extschema@.loan_binding l WHERE l.relation = bind_loans.last_borrower_group;
        IF NOT FOUND THEN
            RAISE EXCEPTION '%: last_borrower_group "%" is not bound as loans', fn, last_borrower_group
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = 'Bind the relation whose items this one shares with bind_loans first, then name it here.';
        END IF;
        IF last_borrower_group = relation OR g.last_borrower_group = relation THEN
            RAISE EXCEPTION '%: last_borrower_group names "%" itself', fn, relation
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = 'Name the other loan binding over the same items (the loans of an archive).';
        END IF;
        IF NOT keep_last_borrower OR NOT g.keep_last_borrower THEN
            RAISE EXCEPTION '%: last_borrower_group needs keep_last_borrower => true on "%" and on "%"', fn, relation, last_borrower_group
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = 'A group shares its items'' last borrower: bindings that keep none (holds) stay out of it.';
        END IF;
        IF @extschema@._column_type(fn, relation, item_column, 'item column')
           <> @extschema@._column_type(fn, g.relation, g.item_column, 'item column')
           OR closed_type <> @extschema@._column_type(fn, g.relation, g.closed_columns[1], 'closed column') THEN
            RAISE EXCEPTION '%: the item and closed columns of "%" and of its last_borrower_group "%" must have the same types', fn, relation, g.relation
                USING ERRCODE = 'datatype_mismatch',
                      DETAIL = format('"%s" has item %s and closed %s; "%s" has item %s and closed %s.', relation,
                                      @extschema@._column_type(fn, relation, item_column, 'item column'), closed_type,
                                      g.relation, @extschema@._column_type(fn, g.relation, g.item_column, 'item column'),
                                      @extschema@._column_type(fn, g.relation, g.closed_columns[1], 'closed column')),
                      HINT = 'The rows of a group are compared by item and ordered by their closed columns across the relations.';
        END IF;
        group_key := coalesce(g.last_borrower_group, g.relation);
    END IF;

    binding := jsonb_build_object('relation', relation, 'patron_column', patron_column, 'item_column', item_column,
                                  'closed_columns', closed_columns, 'settled_column', settled_column,
                                  'sever_with', sever_with, 'keep_last_borrower', keep_last_borrower,
                                  'history_mode', history_mode, 'closed_when', closed_when, 'settled_when', settled_when,
                                  'more_patron_columns', more_patron_columns, 'hide_columns', hide_columns,
                                  'last_borrower_group', group_key, 'closed_precision', closed_precision,
                                  'closed_zone', current_setting('TimeZone'));
    IF @extschema@._bind_existing(fn, 'loans', relation, binding) THEN
        -- re-installs the triggers, which covers inheritance children added since
        PERFORM @extschema@._install_loan_triggers(relation);
        RETURN;
    END IF;
    PERFORM @extschema@._warn_persistence(fn, relation);
    PERFORM @extschema@._warn_unindexed(fn, relation, patron_column, 'Purging a patron');
    IF keep_last_borrower THEN
        PERFORM @extschema@._warn_unindexed(fn, relation, item_column, 'Finding an item''s last borrower when the tracker has none');
    END IF;
    -- a closed column mask_coarse cannot truncate (a bigint epoch, a time as
    -- text) reads as stored where the row's patron is hidden: to the second,
    -- it pairs the row with its patron again (attack round 11, HOLE 1)
    FOREACH c IN ARRAY closed_columns LOOP
        t := @extschema@._column_type(fn, relation, c, 'closed column');
        IF NOT @extschema@._closed_time_type(t) AND c <> ALL (coalesce(hide_columns, '{}')) THEN
            RAISE WARNING '%: closed column "%" of "%" is %, not a time: classes below operational read it as stored where they do not read the row''s patron', fn, c, relation, t
                USING DETAIL = 'Only a date, timestamp, timestamptz, time or timetz (or a domain over one) reads truncated to closed_precision there; an array, range or composite reads NULL.',
                      HINT = format('If it holds a time (an epoch, a time as text), add it to hide_columns, which reads it NULL where the patron is hidden: bind_loans(..., hide_columns => ''{%s}'').', c);
        END IF;
    END LOOP;
    IF closed_sql IS NOT NULL THEN
        -- rows the condition calls closed, but that no closed column dates
        EXECUTE format('SELECT count(*) FROM %s t WHERE %s IS TRUE AND NOT (%s)', relation, closed_sql,
                       (SELECT string_agg(format('t.%I IS NOT NULL', col), ' OR ') FROM unnest(closed_columns) col))
            INTO n;
        IF n > 0 THEN
            RAISE WARNING '%: % rows of "%" meet closed_when but have no value in any closed column', fn, n, relation
                USING DETAIL = 'They count as open (they keep their patron) until one of the closed columns is set: the closed columns order an item''s closed rows.',
                      HINT = 'Add to closed_columns the date column those rows have.';
        END IF;
    END IF;
    PERFORM @extschema@._bind_insert('loans', binding);
    PERFORM @extschema@._install_loan_triggers(relation);
    -- each item's last borrower is known at once, not after the backlog
    -- (build_tracker => false leaves it to sever_backlog() or rebuild_tracker())
    IF build_tracker THEN
        PERFORM @extschema@._build_tracker(relation);
    ELSE
        -- (the entries the severing trigger writes from now on name rows of
        -- the relation's current files: tracker_file)
        PERFORM @extschema@._tracker_file_record(coalesce(group_key, relation)::oid, true);
    END IF;
    -- joining a group: the rows of its members that are no longer their
    -- item's last borrower are the backlog's, which walks them again
    IF group_key IS NOT NULL THEN
        DELETE FROM @extschema@.backlog_progress bp
         WHERE bp.binding IN (SELECT l.relation::oid FROM @extschema@.loan_binding l
                               WHERE coalesce(l.last_borrower_group, l.relation) = group_key);
    END IF;
    PERFORM @extschema@._sync_row_security();
END $$;

-- closed_columns given as one string ('returned_at', or 'returned_at, lost_at',
-- or an array literal '{returned_at,lost_at}'): a bare name is taken as a
-- one-column list instead of failing with "malformed array literal".
CREATE OR REPLACE FUNCTION @extschema@.bind_loans(
    relation regclass, patron_column name, item_column name, closed_columns text,
    settled_column name DEFAULT NULL, sever_with text DEFAULT 'null',
    keep_last_borrower boolean DEFAULT true, history_mode text DEFAULT 'copy',
    closed_when text DEFAULT NULL, settled_when text DEFAULT NULL, build_tracker boolean DEFAULT true,
    more_patron_columns name[] DEFAULT NULL, hide_columns name[] DEFAULT NULL,
    last_borrower_group regclass DEFAULT NULL, closed_precision text DEFAULT 'day')
RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE cols name[];
BEGIN
    IF closed_columns ~ '^\s*\{' THEN
        cols := closed_columns::name[];
    ELSIF closed_columns IS NOT NULL THEN
        cols := ARRAY(SELECT btrim(btrim(x), '"')::name FROM regexp_split_to_table(closed_columns, ',') x);
    END IF;
    PERFORM @extschema@.bind_loans(relation, patron_column, item_column, cols, settled_column, sever_with,
                                   keep_last_borrower, history_mode, closed_when, settled_when, build_tracker,
                                   more_patron_columns, hide_columns, last_borrower_group, closed_precision);
END $$;

REVOKE ALL ON FUNCTION @extschema@.bind_loans(regclass,name,name,name[],name,text,boolean,text,text,text,boolean,name[],name[],regclass,text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.bind_loans(regclass,name,name,text,name,text,boolean,text,text,text,boolean,name[],name[],regclass,text) TO PUBLIC;
