-- pals_privacy 0.1.0: install script.
-- Declarative parts live here (tables, views, grants, binding validation);
-- the mechanisms that must be fast or tamper-proof are C (src/).

\echo Use "CREATE EXTENSION pals_privacy" to load this file. \quit

REVOKE ALL ON SCHEMA @extschema@ FROM PUBLIC;
GRANT USAGE ON SCHEMA @extschema@ TO PUBLIC;

------------------------------------------------------------------------------
-- Binding registry: extension configuration tables (kept by pg_dump).
-- Relations are stored as regclass, columns as name: nothing is spliced
-- into SQL unquoted, and renames of bound relations follow automatically.
------------------------------------------------------------------------------

CREATE TABLE @extschema@.patron_binding (
    relation            regclass PRIMARY KEY,
    id_column           name NOT NULL,
    expires_column      name NOT NULL,
    card_column         name,
    library_column      name,
    birth_date_column   name,
    purge_function      text,       -- regprocedure text; text so pg_upgrade accepts it
    keep_history_column name,
    name_columns        name[],     -- what the collections class sees besides card and contact
    bound_at            timestamptz NOT NULL DEFAULT now(),
    bound_by            name NOT NULL DEFAULT current_user
);
-- There is one patron (cardholder) table.
CREATE UNIQUE INDEX patron_binding_single ON @extschema@.patron_binding ((true));

CREATE TABLE @extschema@.card_binding (
    relation       regclass PRIMARY KEY,
    card_column    name NOT NULL,
    patron_column  name NOT NULL,
    bound_at       timestamptz NOT NULL DEFAULT now(),
    bound_by       name NOT NULL DEFAULT current_user
);

CREATE TABLE @extschema@.balance_binding (
    relation       regclass PRIMARY KEY,
    patron_column  name NOT NULL,
    amount_column  name NOT NULL,
    bound_at       timestamptz NOT NULL DEFAULT now(),
    bound_by       name NOT NULL DEFAULT current_user
);

CREATE TABLE @extschema@.loan_binding (
    relation            regclass PRIMARY KEY,
    patron_column       name NOT NULL,
    item_column         name NOT NULL,
    closed_columns      name[] NOT NULL CHECK (cardinality(closed_columns) BETWEEN 1 AND 8),
    settled_column      name,
    sever_with          text NOT NULL DEFAULT 'null'
                        CHECK (sever_with IN ('null', 'delete') OR sever_with LIKE 'patron:_%'),
    keep_last_borrower  boolean NOT NULL DEFAULT true,
    history_mode        text NOT NULL DEFAULT 'copy' CHECK (history_mode IN ('copy', 'in_place')),
    bound_at            timestamptz NOT NULL DEFAULT now(),
    bound_by            name NOT NULL DEFAULT current_user
);

CREATE TABLE @extschema@.private_history_binding (
    relation       regclass PRIMARY KEY,
    patron_column  name NOT NULL,
    bound_at       timestamptz NOT NULL DEFAULT now(),
    bound_by       name NOT NULL DEFAULT current_user
);

CREATE TABLE @extschema@.contact_binding (
    relation       regclass NOT NULL,
    column_name    name NOT NULL,
    patron_column  name NOT NULL,
    channel        text NOT NULL CHECK (channel IN ('email', 'phone', 'sms', 'mail')),
    bound_at       timestamptz NOT NULL DEFAULT now(),
    bound_by       name NOT NULL DEFAULT current_user,
    PRIMARY KEY (relation, column_name)
);

CREATE TABLE @extschema@.purposes (
    name               text PRIMARY KEY CHECK (name ~ '^[a-z][a-z0-9_]*$'),
    description        text NOT NULL,
    requires_evidence  boolean NOT NULL DEFAULT false,
    builtin            boolean NOT NULL DEFAULT false
);
INSERT INTO @extschema@.purposes VALUES
    ('notices', 'Notices about the patron''s own account: holds, due dates, fines', false, true),
    ('newsletter', 'Library newsletters and promotions (separate written permission)', true, true);

CREATE TABLE @extschema@.outbox_binding (
    relation        regclass PRIMARY KEY,
    patron_column   name NOT NULL,
    channel_column  name NOT NULL,
    purpose         text NOT NULL REFERENCES @extschema@.purposes (name),
    on_missing_consent text NOT NULL DEFAULT 'reject'
                    CHECK (on_missing_consent IN ('reject', 'divert', 'drop')),
    bound_at        timestamptz NOT NULL DEFAULT now(),
    bound_by        name NOT NULL DEFAULT current_user
);

-- Who is the guardian of a minor's account (NExpress "minors").  What a
-- guardian's logged-in session reads of it: pals_privacy.guardian_access.
CREATE TABLE @extschema@.guardian_binding (
    relation         regclass PRIMARY KEY,
    minor_column     name NOT NULL,
    guardian_column  name NOT NULL,
    bound_at         timestamptz NOT NULL DEFAULT now(),
    bound_by         name NOT NULL DEFAULT current_user
);

CREATE TABLE @extschema@.retention_rule (
    relation          regclass PRIMARY KEY,
    timestamp_column  name NOT NULL,
    keep              interval NOT NULL CHECK (keep > interval '0'),
    action            text NOT NULL DEFAULT 'delete' CHECK (action IN ('delete', 'sever')),
    bound_at          timestamptz NOT NULL DEFAULT now(),
    bound_by          name NOT NULL DEFAULT current_user
);

CREATE TABLE @extschema@.role_class (
    role         regrole PRIMARY KEY,
    class        text NOT NULL
                 CHECK (class IN ('operational', 'staff', 'patron', 'collections', 'auditor')),
    purpose      text REFERENCES @extschema@.purposes (name),
    classified_at timestamptz NOT NULL DEFAULT now(),
    classified_by name NOT NULL DEFAULT current_user
);

SELECT pg_catalog.pg_extension_config_dump('@extschema@.patron_binding', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.card_binding', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.balance_binding', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.loan_binding', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.private_history_binding', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.contact_binding', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.purposes', 'WHERE NOT builtin');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.outbox_binding', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.retention_rule', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.guardian_binding', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.role_class', '');

-- Binding tables are read by the C mechanisms through a per-backend cache;
-- any change to them (through the functions below, by hand, or by a
-- restore) invalidates that cache in every backend at commit.
CREATE FUNCTION @extschema@._bindings_changed() RETURNS trigger
    LANGUAGE c AS 'MODULE_PATHNAME', 'pals_privacy_bindings_changed';

DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['patron_binding', 'card_binding', 'balance_binding',
                             'loan_binding', 'private_history_binding', 'contact_binding',
                             'outbox_binding', 'retention_rule', 'role_class', 'purposes',
                             'guardian_binding']
    LOOP
        EXECUTE format('CREATE TRIGGER bindings_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
                        ON @extschema@.%I FOR EACH STATEMENT
                        EXECUTE FUNCTION @extschema@._bindings_changed()', t);
    END LOOP;
END $$;

------------------------------------------------------------------------------
-- Validation helpers (internal).  Each raises a clear error with a SQLSTATE.
------------------------------------------------------------------------------

-- Only a superuser or the extension's owner may change bindings.
CREATE FUNCTION @extschema@._require_admin(fn text) RETURNS void
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE owner oid;
BEGIN
    SELECT extowner INTO owner FROM pg_extension WHERE extname = 'pals_privacy';
    IF NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)
       AND NOT pg_has_role(current_user, owner, 'MEMBER') THEN
        RAISE EXCEPTION 'permission denied for %', fn
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = format('Role %I is neither a superuser nor the owner of extension pals_privacy.', current_user),
                  HINT = 'Ask a database administrator to change bindings.';
    END IF;
END $$;

CREATE FUNCTION @extschema@._require_args(fn text, names text[], vals anyarray) RETURNS void
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    FOR i IN 1 .. cardinality(names) LOOP
        IF vals[i] IS NULL THEN
            RAISE EXCEPTION '%: argument "%" must not be NULL', fn, names[i]
                USING ERRCODE = 'null_value_not_allowed';
        END IF;
    END LOOP;
END $$;

-- The relation must be of one of the given kinds ('r' table, 'p' partitioned
-- table, 'v' view, 'm' materialized view).
CREATE FUNCTION @extschema@._require_relkind(fn text, rel regclass, kinds "char"[]) RETURNS void
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE k "char";
BEGIN
    SELECT relkind INTO k FROM pg_class WHERE oid = rel;
    IF k IS NULL THEN
        RAISE EXCEPTION 'relation with OID % does not exist', rel::oid USING ERRCODE = 'undefined_table';
    END IF;
    IF NOT k = ANY (kinds) THEN
        RAISE EXCEPTION '%: "%" is %', fn, rel,
                CASE k WHEN 'v' THEN 'a view' WHEN 'm' THEN 'a materialized view'
                       WHEN 'f' THEN 'a foreign table' WHEN 'S' THEN 'a sequence'
                       WHEN 'i' THEN 'an index' WHEN 'I' THEN 'an index'
                       WHEN 'c' THEN 'a composite type' ELSE 'not a table' END
            USING ERRCODE = 'wrong_object_type',
                  HINT = CASE WHEN 'v' = ANY (kinds) THEN 'Bind a table or a view.'
                              ELSE 'Bind the table itself, not a view of it.' END;
    END IF;
    IF rel::oid < 16384 OR (SELECT relnamespace FROM pg_class WHERE oid = rel)
                            = (SELECT oid FROM pg_namespace WHERE nspname = 'pals_privacy') THEN
        RAISE EXCEPTION '%: "%" belongs to the system or to pals_privacy itself', fn, rel
            USING ERRCODE = 'wrong_object_type';
    END IF;
END $$;

-- Type of a column, or an error if it does not exist.  With "allowed", the
-- type's category must be one of them (see pg_type.typcategory).
CREATE FUNCTION @extschema@._column_type(fn text, rel regclass, col name, what text,
                                         allowed "char"[] DEFAULT NULL, allowed_desc text DEFAULT NULL)
RETURNS regtype
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE t regtype; cat "char";
BEGIN
    SELECT a.atttypid::regtype, ty.typcategory INTO t, cat
      FROM pg_attribute a JOIN pg_type ty ON ty.oid = a.atttypid
     WHERE a.attrelid = rel AND a.attname = col AND a.attnum > 0 AND NOT a.attisdropped;
    IF t IS NULL THEN
        RAISE EXCEPTION '%: column "%" of relation "%" does not exist', fn, col, rel
            USING ERRCODE = 'undefined_column',
                  DETAIL = format('It was given as the %s.', what);
    END IF;
    IF allowed IS NOT NULL AND (NOT cat = ANY (allowed)
                                OR (cat = 'D' AND t NOT IN ('date', 'timestamp without time zone', 'timestamp with time zone'))) THEN
        RAISE EXCEPTION '%: column "%" of relation "%" has type %, which cannot be the %', fn, col, rel, t, what
            USING ERRCODE = 'datatype_mismatch',
                  HINT = format('The %s must be %s.', what, allowed_desc);
    END IF;
    RETURN t;
END $$;

-- Key types: integers, text, uuid.
CREATE FUNCTION @extschema@._require_key(fn text, rel regclass, col name, what text) RETURNS regtype
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE t regtype;
BEGIN
    t := @extschema@._column_type(fn, rel, col, what);
    IF t NOT IN ('smallint', 'integer', 'bigint', 'text', 'character varying', 'character', 'uuid', 'numeric') THEN
        RAISE EXCEPTION '%: column "%" of relation "%" has type %, which cannot be the %', fn, col, rel, t, what
            USING ERRCODE = 'datatype_mismatch',
                  HINT = format('The %s must be an integer, numeric, text or uuid key.', what);
    END IF;
    RETURN t;
END $$;

-- A patron column must be able to hold the patron table's id.
CREATE FUNCTION @extschema@._require_patron_column(fn text, rel regclass, col name) RETURNS regtype
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE t regtype; pt regtype; p record;
BEGIN
    SELECT * INTO p FROM @extschema@.patron_binding;
    IF NOT FOUND THEN
        RAISE EXCEPTION '%: the patron table is not bound yet', fn
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'Call pals_privacy.bind_patrons() first.';
    END IF;
    t := @extschema@._require_key(fn, rel, col, 'patron column');
    pt := @extschema@._column_type(fn, p.relation, p.id_column, 'patron id column');
    IF t <> pt AND NOT (t IN ('smallint', 'integer', 'bigint', 'numeric') AND pt IN ('smallint', 'integer', 'bigint', 'numeric'))
               AND NOT (t IN ('text', 'character varying', 'character') AND pt IN ('text', 'character varying', 'character')) THEN
        RAISE EXCEPTION '%: column "%" of relation "%" has type %, but patron ids (%.%) are %', fn, col, rel, t, p.relation, p.id_column, pt
            USING ERRCODE = 'datatype_mismatch';
    END IF;
    RETURN t;
END $$;

-- Relations may play one role each (patrons, cards, balance, loans, private
-- history, outbox); contact fields and retention rules may sit on any of
-- them.  A partition or inheritance child of a bound relation is covered by
-- its parent's binding and cannot be bound on its own, nor can its parent be
-- bound after it.
CREATE FUNCTION @extschema@._binding_kinds(rel regclass)
RETURNS TABLE (kind text, relation regclass)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT 'patrons', b.relation FROM @extschema@.patron_binding b WHERE b.relation = rel
    UNION ALL SELECT 'cards', b.relation FROM @extschema@.card_binding b WHERE b.relation = rel
    UNION ALL SELECT 'balance', b.relation FROM @extschema@.balance_binding b WHERE b.relation = rel
    UNION ALL SELECT 'loans', b.relation FROM @extschema@.loan_binding b WHERE b.relation = rel
    UNION ALL SELECT 'private_history', b.relation FROM @extschema@.private_history_binding b WHERE b.relation = rel
    UNION ALL SELECT 'outbox', b.relation FROM @extschema@.outbox_binding b WHERE b.relation = rel
    UNION ALL SELECT 'guardians', b.relation FROM @extschema@.guardian_binding b WHERE b.relation = rel
$$;

CREATE FUNCTION @extschema@._related_relations(rel regclass)
RETURNS TABLE (relation regclass, relationship text)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    WITH RECURSIVE up(r) AS (
        SELECT inhparent FROM pg_inherits WHERE inhrelid = rel
        UNION SELECT i.inhparent FROM pg_inherits i JOIN up ON i.inhrelid = up.r
    ), down(r) AS (
        SELECT inhrelid FROM pg_inherits WHERE inhparent = rel
        UNION SELECT i.inhrelid FROM pg_inherits i JOIN down ON i.inhparent = down.r
    )
    SELECT r::regclass, 'parent' FROM up
    UNION ALL SELECT r::regclass, 'child' FROM down
$$;

CREATE FUNCTION @extschema@._require_unbound(fn text, rel regclass, wanted_kind text) RETURNS boolean
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE other text; rr record;
BEGIN
    SELECT b.kind INTO other FROM @extschema@._binding_kinds(rel) b WHERE b.kind <> wanted_kind;
    IF other IS NOT NULL THEN
        RAISE EXCEPTION '%: "%" is already bound as %', fn, rel, other
            USING ERRCODE = 'duplicate_object',
                  HINT = 'A relation plays one role; call pals_privacy.unbind() first to change it.';
    END IF;
    FOR rr IN SELECT r.relation, r.relationship FROM @extschema@._related_relations(rel) r LOOP
        SELECT b.kind INTO other FROM @extschema@._binding_kinds(rr.relation) b;
        IF other IS NOT NULL THEN
            RAISE EXCEPTION '%: "%" is a % of "%", which is already bound as %', fn, rel,
                    CASE rr.relationship WHEN 'parent' THEN 'partition or child' ELSE 'parent' END,
                    rr.relation, other
                USING ERRCODE = 'duplicate_object',
                      HINT = 'Bind the topmost parent only: its binding covers every partition and child.';
        END IF;
    END LOOP;
    RETURN true;
END $$;

-- Same relation, same kind: identical arguments are a no-op (returns true),
-- different ones are a conflict.
CREATE FUNCTION @extschema@._same_or_conflict(fn text, rel regclass, existing jsonb, wanted jsonb) RETURNS boolean
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    IF existing IS NULL THEN
        RETURN false;
    END IF;
    IF (existing - 'bound_at' - 'bound_by') = wanted THEN
        RAISE NOTICE '%: "%" is already bound this way', fn, rel;
        RETURN true;
    END IF;
    RAISE EXCEPTION '%: "%" is already bound with different settings', fn, rel
        USING ERRCODE = 'duplicate_object',
              DETAIL = format('Existing binding: %s.', existing - 'bound_at' - 'bound_by'),
              HINT = 'Call pals_privacy.unbind() first to change a binding.';
END $$;

-- true when a value of type "a" can be passed where "b" is expected
CREATE FUNCTION @extschema@._can_coerce(a regtype, b regtype) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    SELECT a = b
        OR (a IN ('smallint', 'integer', 'bigint') AND b IN ('integer', 'bigint', 'numeric'))
        OR (a IN ('text', 'character varying', 'character') AND b IN ('text', 'character varying'))
$$;

-- The SQL name of a column's type, for casting text values to it.
CREATE FUNCTION @extschema@._column_type_name(rel regclass, col name) RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT format_type(atttypid, NULL) FROM pg_attribute WHERE attrelid = rel AND attname = col
$$;

-- The patron (by id, as text) must exist in the bound patron table.
CREATE FUNCTION @extschema@._require_patron(fn text, patron text) RETURNS void
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE pb @extschema@.patron_binding; found_patron boolean;
BEGIN
    SELECT * INTO pb FROM @extschema@.patron_binding;
    IF NOT FOUND THEN
        RAISE EXCEPTION '%: the patron table is not bound', fn USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    EXECUTE format('SELECT EXISTS (SELECT 1 FROM %s WHERE %I::text = $1)', pb.relation, pb.id_column)
        INTO found_patron USING patron;
    IF NOT found_patron THEN
        RAISE EXCEPTION '%: patron % does not exist', fn, quote_literal(patron) USING ERRCODE = 'foreign_key_violation';
    END IF;
END $$;

------------------------------------------------------------------------------
-- The binding calls.
------------------------------------------------------------------------------

CREATE FUNCTION @extschema@.bind_patrons(
    relation regclass, id_column name, expires_column name,
    card_column name DEFAULT NULL, library_column name DEFAULT NULL,
    birth_date_column name DEFAULT NULL, purge_function regprocedure DEFAULT NULL,
    keep_history_column name DEFAULT NULL, name_columns name[] DEFAULT NULL)
RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    fn constant text := 'bind_patrons';
    n name;
    idt regtype;
    existing jsonb;
    wanted jsonb;
    other regclass;
BEGIN
    PERFORM @extschema@._require_admin(fn);
    PERFORM @extschema@._require_args(fn, ARRAY['relation', 'id_column', 'expires_column'],
                                      ARRAY[relation::text, id_column::text, expires_column::text]);
    PERFORM @extschema@._require_relkind(fn, relation, '{r,p}');
    idt := @extschema@._require_key(fn, relation, id_column, 'patron id column');
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
    IF purge_function IS NOT NULL THEN
        IF (SELECT pronargs <> 1 OR prokind <> 'f' FROM pg_proc WHERE oid = purge_function) THEN
            RAISE EXCEPTION '%: purge function % must be a function of one argument, the patron id', fn, purge_function
                USING ERRCODE = 'invalid_function_definition';
        END IF;
        IF NOT @extschema@._can_coerce(idt, (SELECT proargtypes[0]::regtype FROM pg_proc WHERE oid = purge_function)) THEN
            RAISE EXCEPTION '%: purge function % does not take a % patron id', fn, purge_function, idt
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
                                 'birth_date_column', birth_date_column, 'purge_function', purge_function::text,
                                 'keep_history_column', keep_history_column, 'name_columns', name_columns);
    SELECT to_jsonb(b) INTO existing FROM @extschema@.patron_binding b WHERE b.relation = bind_patrons.relation;
    IF @extschema@._same_or_conflict(fn, relation, existing, wanted) THEN
        RETURN;
    END IF;
    INSERT INTO @extschema@.patron_binding (relation, id_column, expires_column, card_column, library_column,
                                            birth_date_column, purge_function, keep_history_column, name_columns)
    VALUES (relation, id_column, expires_column, card_column, library_column,
            birth_date_column, purge_function::text, keep_history_column, name_columns);
    PERFORM @extschema@._install_patron_triggers(relation);
    PERFORM @extschema@._sync_row_security();
END $$;


CREATE FUNCTION @extschema@.bind_cards(relation regclass, card_column name, patron_column name)
RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE fn constant text := 'bind_cards'; existing jsonb;
BEGIN
    PERFORM @extschema@._require_admin(fn);
    PERFORM @extschema@._require_args(fn, ARRAY['relation', 'card_column', 'patron_column'],
                                      ARRAY[relation::text, card_column::text, patron_column::text]);
    PERFORM @extschema@._require_relkind(fn, relation, '{r,p}');
    PERFORM @extschema@._require_key(fn, relation, card_column, 'card number column');
    PERFORM @extschema@._require_patron_column(fn, relation, patron_column);
    PERFORM @extschema@._require_unbound(fn, relation, 'cards');
    SELECT to_jsonb(b) INTO existing FROM @extschema@.card_binding b WHERE b.relation = bind_cards.relation;
    IF @extschema@._same_or_conflict(fn, relation, existing, jsonb_build_object(
            'relation', relation, 'card_column', card_column, 'patron_column', patron_column)) THEN
        RETURN;
    END IF;
    INSERT INTO @extschema@.card_binding (relation, card_column, patron_column)
    VALUES (relation, card_column, patron_column);
    PERFORM @extschema@._sync_row_security();
END $$;

CREATE FUNCTION @extschema@.bind_balance(relation regclass, patron_column name, amount_column name)
RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE fn constant text := 'bind_balance'; existing jsonb;
BEGIN
    PERFORM @extschema@._require_admin(fn);
    PERFORM @extschema@._require_args(fn, ARRAY['relation', 'patron_column', 'amount_column'],
                                      ARRAY[relation::text, patron_column::text, amount_column::text]);
    PERFORM @extschema@._require_relkind(fn, relation, '{r,p,v,m}');
    PERFORM @extschema@._require_patron_column(fn, relation, patron_column);
    PERFORM @extschema@._column_type(fn, relation, amount_column, 'amount column', '{N}', 'numeric');
    PERFORM @extschema@._require_unbound(fn, relation, 'balance');
    SELECT to_jsonb(b) INTO existing FROM @extschema@.balance_binding b WHERE b.relation = bind_balance.relation;
    IF @extschema@._same_or_conflict(fn, relation, existing, jsonb_build_object(
            'relation', relation, 'patron_column', patron_column, 'amount_column', amount_column)) THEN
        RETURN;
    END IF;
    INSERT INTO @extschema@.balance_binding (relation, patron_column, amount_column)
    VALUES (relation, patron_column, amount_column);
    PERFORM @extschema@._sync_row_security();
END $$;

CREATE FUNCTION @extschema@.bind_loans(
    relation regclass, patron_column name, item_column name, closed_columns name[],
    settled_column name DEFAULT NULL, sever_with text DEFAULT 'null',
    keep_last_borrower boolean DEFAULT true, history_mode text DEFAULT 'copy')
RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    fn constant text := 'bind_loans';
    p record;
    existing jsonb;
    closed_type regtype;
    t regtype;
    c name;
    placeholder text;
    found_placeholder boolean;
BEGIN
    PERFORM @extschema@._require_admin(fn);
    PERFORM @extschema@._require_args(fn,
        ARRAY['relation', 'patron_column', 'item_column', 'closed_columns', 'sever_with', 'keep_last_borrower', 'history_mode'],
        ARRAY[relation::text, patron_column::text, item_column::text, closed_columns::text, sever_with,
              keep_last_borrower::text, history_mode]);
    PERFORM @extschema@._require_relkind(fn, relation, '{r,p}');
    PERFORM @extschema@._require_patron_column(fn, relation, patron_column);
    PERFORM @extschema@._require_key(fn, relation, item_column, 'item column');
    IF patron_column = item_column THEN
        RAISE EXCEPTION '%: the patron column and the item column must differ', fn
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF cardinality(closed_columns) = 0 OR array_position(closed_columns, NULL) IS NOT NULL
       OR cardinality(closed_columns) > 8 THEN
        RAISE EXCEPTION '%: closed_columns must list one to eight columns, none of them NULL', fn
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF (SELECT count(DISTINCT x) FROM unnest(closed_columns) x) <> cardinality(closed_columns) THEN
        RAISE EXCEPTION '%: closed_columns lists a column twice', fn USING ERRCODE = 'invalid_parameter_value';
    END IF;
    FOREACH c IN ARRAY closed_columns LOOP
        IF c IN (patron_column, item_column) THEN
            RAISE EXCEPTION '%: closed column "%" is also the patron or item column', fn, c
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
        t := @extschema@._column_type(fn, relation, c, 'closed column');
        IF closed_type IS NOT NULL AND t <> closed_type THEN
            RAISE EXCEPTION '%: closed columns must share one type, but "%" is % and the first is %', fn, c, t, closed_type
                USING ERRCODE = 'datatype_mismatch',
                      HINT = 'The latest closed row of an item is found by comparing these columns.';
        END IF;
        closed_type := t;
    END LOOP;
    IF settled_column IS NOT NULL THEN
        PERFORM @extschema@._column_type(fn, relation, settled_column, 'settled column');
        IF settled_column IN (patron_column, item_column) THEN
            RAISE EXCEPTION '%: the settled column must differ from the patron and item columns', fn
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
    END IF;

    SELECT * INTO p FROM @extschema@.patron_binding;
    IF sever_with = 'null' THEN
        IF (SELECT attnotnull FROM pg_attribute WHERE attrelid = relation AND attname = patron_column) THEN
            RAISE EXCEPTION '%: sever_with => ''null'' needs a nullable patron column, and "%"."%" is NOT NULL', fn, relation, patron_column
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = 'Use sever_with => ''patron:<id>'' to re-point severed rows to an anonymous placeholder patron.';
        END IF;
    ELSIF sever_with LIKE 'patron:%' THEN
        placeholder := substr(sever_with, 8);
        IF placeholder = '' THEN
            RAISE EXCEPTION '%: sever_with => ''patron:<id>'' needs the id of the placeholder patron', fn
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
        EXECUTE format('SELECT EXISTS (SELECT 1 FROM %s WHERE %I::text = $1)', p.relation, p.id_column)
            INTO found_placeholder USING placeholder;
        IF NOT found_placeholder THEN
            RAISE EXCEPTION '%: placeholder patron % does not exist in %', fn, quote_literal(placeholder), p.relation
                USING ERRCODE = 'foreign_key_violation',
                      HINT = 'Create an anonymous patron row first and name its id here.';
        END IF;
    ELSIF sever_with <> 'delete' THEN
        RAISE EXCEPTION '%: unknown sever_with %', fn, quote_literal(sever_with)
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Use ''null'', ''patron:<id>'' or ''delete''.';
    END IF;
    IF history_mode NOT IN ('copy', 'in_place') THEN
        RAISE EXCEPTION '%: unknown history_mode %', fn, quote_literal(history_mode)
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Use ''copy'' or ''in_place''.';
    END IF;

    PERFORM @extschema@._require_unbound(fn, relation, 'loans');
    SELECT to_jsonb(b) INTO existing FROM @extschema@.loan_binding b WHERE b.relation = bind_loans.relation;
    IF @extschema@._same_or_conflict(fn, relation, existing, jsonb_build_object(
            'relation', relation, 'patron_column', patron_column, 'item_column', item_column,
            'closed_columns', closed_columns, 'settled_column', settled_column, 'sever_with', sever_with,
            'keep_last_borrower', keep_last_borrower, 'history_mode', history_mode)) THEN
        -- re-installs the triggers, which covers inheritance children added since
        PERFORM @extschema@._install_loan_triggers(relation);
        RETURN;
    END IF;
    INSERT INTO @extschema@.loan_binding (relation, patron_column, item_column, closed_columns,
                                          settled_column, sever_with, keep_last_borrower, history_mode)
    VALUES (relation, patron_column, item_column, closed_columns,
            settled_column, sever_with, keep_last_borrower, history_mode);
    PERFORM @extschema@._install_loan_triggers(relation);
    PERFORM @extschema@._sync_row_security();
END $$;

CREATE FUNCTION @extschema@.bind_private_history(relation regclass, patron_column name)
RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE fn constant text := 'bind_private_history'; existing jsonb;
BEGIN
    PERFORM @extschema@._require_admin(fn);
    PERFORM @extschema@._require_args(fn, ARRAY['relation', 'patron_column'],
                                      ARRAY[relation::text, patron_column::text]);
    PERFORM @extschema@._require_relkind(fn, relation, '{r,p}');
    PERFORM @extschema@._require_patron_column(fn, relation, patron_column);
    PERFORM @extschema@._require_unbound(fn, relation, 'private_history');
    SELECT to_jsonb(b) INTO existing FROM @extschema@.private_history_binding b
     WHERE b.relation = bind_private_history.relation;
    IF @extschema@._same_or_conflict(fn, relation, existing, jsonb_build_object(
            'relation', relation, 'patron_column', patron_column)) THEN
        RETURN;
    END IF;
    INSERT INTO @extschema@.private_history_binding (relation, patron_column) VALUES (relation, patron_column);
    PERFORM @extschema@._sync_row_security();
END $$;

CREATE FUNCTION @extschema@.bind_guardians(relation regclass, minor_column name, guardian_column name)
RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE fn constant text := 'bind_guardians'; existing jsonb;
BEGIN
    PERFORM @extschema@._require_admin(fn);
    PERFORM @extschema@._require_args(fn, ARRAY['relation', 'minor_column', 'guardian_column'],
                                      ARRAY[relation::text, minor_column::text, guardian_column::text]);
    PERFORM @extschema@._require_relkind(fn, relation, '{r,p}');
    PERFORM @extschema@._require_patron_column(fn, relation, minor_column);
    PERFORM @extschema@._require_patron_column(fn, relation, guardian_column);
    IF minor_column = guardian_column THEN
        RAISE EXCEPTION '%: the minor and the guardian column are both "%"', fn, minor_column
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    PERFORM @extschema@._require_unbound(fn, relation, 'guardians');
    SELECT to_jsonb(b) INTO existing FROM @extschema@.guardian_binding b WHERE b.relation = bind_guardians.relation;
    IF @extschema@._same_or_conflict(fn, relation, existing, jsonb_build_object(
            'relation', relation, 'minor_column', minor_column, 'guardian_column', guardian_column)) THEN
        RETURN;
    END IF;
    IF (SELECT birth_date_column FROM @extschema@.patron_binding) IS NULL THEN
        RAISE WARNING '%: the patron table binding has no birth_date_column', fn
            USING DETAIL = 'Without birth dates no patron counts as a minor: guardians see nothing of anyone''s account.',
                  HINT = 'Bind the patron table again with birth_date_column.';
    END IF;
    INSERT INTO @extschema@.guardian_binding (relation, minor_column, guardian_column)
    VALUES (relation, minor_column, guardian_column);
    PERFORM @extschema@._sync_row_security();
END $$;

CREATE FUNCTION @extschema@.bind_contact(relation regclass, column_name name, patron_column name, channel text)
RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE fn constant text := 'bind_contact'; existing jsonb;
BEGIN
    PERFORM @extschema@._require_admin(fn);
    PERFORM @extschema@._require_args(fn, ARRAY['relation', 'column_name', 'patron_column', 'channel'],
                                      ARRAY[relation::text, column_name::text, patron_column::text, channel]);
    PERFORM @extschema@._require_relkind(fn, relation, '{r,p}');
    PERFORM @extschema@._column_type(fn, relation, column_name, 'contact column', '{S}', 'text');
    PERFORM @extschema@._require_patron_column(fn, relation, patron_column);
    IF column_name = patron_column THEN
        RAISE EXCEPTION '%: the contact column and the patron column must differ', fn
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF channel NOT IN ('email', 'phone', 'sms', 'mail') THEN
        RAISE EXCEPTION '%: unknown channel %', fn, quote_literal(channel)
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Use ''email'', ''phone'', ''sms'' or ''mail''.';
    END IF;
    SELECT to_jsonb(b) INTO existing FROM @extschema@.contact_binding b
     WHERE b.relation = bind_contact.relation AND b.column_name = bind_contact.column_name;
    IF @extschema@._same_or_conflict(fn, relation, existing, jsonb_build_object(
            'relation', relation, 'column_name', column_name, 'patron_column', patron_column, 'channel', channel)) THEN
        RETURN;
    END IF;
    INSERT INTO @extschema@.contact_binding (relation, column_name, patron_column, channel)
    VALUES (relation, column_name, patron_column, channel);
    PERFORM @extschema@._sync_row_security();
END $$;

CREATE FUNCTION @extschema@.bind_outbox(relation regclass, patron_column name, channel_column name, purpose text,
                                        on_missing_consent text DEFAULT 'reject')
RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE fn constant text := 'bind_outbox'; existing jsonb;
BEGIN
    PERFORM @extschema@._require_admin(fn);
    PERFORM @extschema@._require_args(fn, ARRAY['relation', 'patron_column', 'channel_column', 'purpose', 'on_missing_consent'],
                                      ARRAY[relation::text, patron_column::text, channel_column::text, purpose, on_missing_consent]);
    PERFORM @extschema@._require_relkind(fn, relation, '{r,p}');
    PERFORM @extschema@._require_patron_column(fn, relation, patron_column);
    PERFORM @extschema@._column_type(fn, relation, channel_column, 'channel column', '{S}', 'text');
    IF NOT EXISTS (SELECT 1 FROM @extschema@.purposes p WHERE p.name = bind_outbox.purpose) THEN
        RAISE EXCEPTION '%: unknown purpose %', fn, quote_literal(purpose)
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = format('Known purposes: %s.', (SELECT string_agg(name, ', ' ORDER BY name) FROM @extschema@.purposes));
    END IF;
    IF on_missing_consent NOT IN ('reject', 'divert', 'drop') THEN
        RAISE EXCEPTION '%: unknown on_missing_consent %', fn, quote_literal(on_missing_consent)
            USING ERRCODE = 'invalid_parameter_value', HINT = 'Use ''reject'', ''divert'' or ''drop''.';
    END IF;
    PERFORM @extschema@._require_unbound(fn, relation, 'outbox');
    SELECT to_jsonb(b) INTO existing FROM @extschema@.outbox_binding b WHERE b.relation = bind_outbox.relation;
    IF @extschema@._same_or_conflict(fn, relation, existing, jsonb_build_object(
            'relation', relation, 'patron_column', patron_column, 'channel_column', channel_column, 'purpose', purpose,
            'on_missing_consent', on_missing_consent)) THEN
        PERFORM @extschema@._install_outbox_triggers(relation);
        RETURN;
    END IF;
    INSERT INTO @extschema@.outbox_binding (relation, patron_column, channel_column, purpose, on_missing_consent)
    VALUES (relation, patron_column, channel_column, purpose, on_missing_consent);
    PERFORM @extschema@._install_outbox_triggers(relation);
    PERFORM @extschema@._sync_row_security();
END $$;

CREATE FUNCTION @extschema@.retain(relation regclass, timestamp_column name, keep interval, action text DEFAULT 'delete')
RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE fn constant text := 'retain'; existing jsonb;
BEGIN
    PERFORM @extschema@._require_admin(fn);
    PERFORM @extschema@._require_args(fn, ARRAY['relation', 'timestamp_column', 'keep', 'action'],
                                      ARRAY[relation::text, timestamp_column::text, keep::text, action]);
    PERFORM @extschema@._require_relkind(fn, relation, '{r,p}');
    PERFORM @extschema@._column_type(fn, relation, timestamp_column, 'timestamp column', '{D}', 'a date or timestamp');
    IF keep <= interval '0' THEN
        RAISE EXCEPTION '%: keep must be a positive interval, not %', fn, keep
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF action NOT IN ('delete', 'sever') THEN
        RAISE EXCEPTION '%: unknown action %', fn, quote_literal(action)
            USING ERRCODE = 'invalid_parameter_value', HINT = 'Use ''delete'' or ''sever''.';
    END IF;
    IF action = 'sever' AND NOT EXISTS (SELECT 1 FROM @extschema@._binding_kinds(relation)
                                         WHERE kind IN ('loans', 'private_history', 'outbox', 'cards')) THEN
        RAISE EXCEPTION '%: action ''sever'' needs to know the patron column of "%"', fn, relation
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'Bind the relation (for example with bind_loans) first, or use action => ''delete''.';
    END IF;
    SELECT to_jsonb(b) INTO existing FROM @extschema@.retention_rule b WHERE b.relation = retain.relation;
    IF @extschema@._same_or_conflict(fn, relation, existing, jsonb_build_object(
            'relation', relation, 'timestamp_column', timestamp_column, 'keep', keep, 'action', action)) THEN
        RETURN;
    END IF;
    INSERT INTO @extschema@.retention_rule (relation, timestamp_column, keep, action)
    VALUES (relation, timestamp_column, keep, action);
END $$;

------------------------------------------------------------------------------
-- Triggers that bindings install on the bound relations.
------------------------------------------------------------------------------

CREATE FUNCTION @extschema@._drop_trigger(rel regclass, trigger_name name) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = rel AND tgname = trigger_name AND NOT tgisinternal
                                          AND tgparentid = 0) THEN
        EXECUTE format('DROP TRIGGER %I ON %s', trigger_name, rel);
    END IF;
END $$;

-- Relations a row trigger must sit on to see every row of a bound relation:
-- a partitioned table's trigger is cloned to its partitions by PostgreSQL,
-- but plain inheritance children need their own.
CREATE FUNCTION @extschema@._trigger_targets(rel regclass) RETURNS SETOF regclass
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT rel
    UNION ALL
    SELECT r.relation FROM @extschema@._related_relations(rel) r
      JOIN pg_class c ON c.oid = r.relation
     WHERE r.relationship = 'child' AND (SELECT relkind FROM pg_class WHERE oid = rel) = 'r'
       AND c.relkind = 'r'
$$;

------------------------------------------------------------------------------
-- Severing state (see src/sever.c and docs/severing.md).
------------------------------------------------------------------------------

-- Each item's last borrower: the one closed row that keeps its patron.
CREATE TABLE @extschema@.last_borrower (
    binding    oid NOT NULL,      -- loan_binding.relation
    item       text COLLATE "C" NOT NULL,   -- compared, never sorted for people: bytewise is fastest
    row_relid  oid NOT NULL,      -- the table, partition or child holding the row
    row_tid    tid NOT NULL,
    PRIMARY KEY (binding, item)
);

-- Rows that could not be severed when they should have been (a foreign key,
-- an ILS trigger ...): the return went through; the maintenance pass retries.
CREATE TABLE @extschema@.sever_pending (
    binding       oid NOT NULL,
    row_relid     oid NOT NULL,
    row_tid       tid NOT NULL,
    item          text,
    reason        text NOT NULL,
    first_seen    timestamptz NOT NULL DEFAULT now(),
    last_attempt  timestamptz NOT NULL DEFAULT now(),
    attempts      integer NOT NULL DEFAULT 1,
    PRIMARY KEY (binding, row_relid, row_tid)
);

-- Reading history of patrons who opted in (history_mode 'copy'): the row as
-- it was just before it was severed.  Only the patron may read it.
CREATE TABLE @extschema@.private_history (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    patron     text NOT NULL,
    relation   regclass NOT NULL,
    item       text,
    row_data   jsonb NOT NULL,
    copied_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX private_history_patron ON @extschema@.private_history (patron);
SELECT pg_catalog.pg_extension_config_dump('@extschema@.private_history', '');

-- Progress of sever_backlog(), one row per loan binding.
CREATE TABLE @extschema@.backlog_progress (
    binding       oid PRIMARY KEY,
    relation      text NOT NULL,
    last_item     text,
    items_done    bigint NOT NULL DEFAULT 0,
    rows_severed  bigint NOT NULL DEFAULT 0,
    rows_kept     bigint NOT NULL DEFAULT 0,
    rows_pending  bigint NOT NULL DEFAULT 0,
    batches       integer NOT NULL DEFAULT 0,
    started_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    finished_at   timestamptz
);

CREATE VIEW @extschema@.sever_backlog_progress AS
    SELECT relation, items_done, rows_severed, rows_kept, rows_pending, batches,
           started_at, updated_at, finished_at,
           CASE WHEN finished_at IS NOT NULL THEN 'done' ELSE 'in progress' END AS state,
           round(rows_severed / GREATEST(extract(epoch FROM updated_at - started_at), 0.001)::numeric, 1)
               AS rows_severed_per_second
      FROM @extschema@.backlog_progress;

CREATE VIEW @extschema@.sever_pending_rows AS
    SELECT binding::regclass AS relation, row_relid::regclass AS row_relation, row_tid,
           reason, first_seen, last_attempt, attempts
      FROM @extschema@.sever_pending;

-- The severing trigger (C) and the one-row sever used by the backlog.
CREATE FUNCTION @extschema@._sever_row() RETURNS trigger
    LANGUAGE c AS 'MODULE_PATHNAME', 'pals_privacy_sever_row';
CREATE FUNCTION @extschema@._sever_one(binding regclass, row_relid regclass, row_tid tid) RETURNS text
    LANGUAGE c STRICT AS 'MODULE_PATHNAME', 'pals_privacy_sever_one';

-- SQL predicates of a loan binding over a row alias: closed, settled,
-- identified (has a patron that is not the placeholder).
CREATE FUNCTION @extschema@._loan_predicates(b @extschema@.loan_binding, alias text,
    OUT closed text, OUT settled text, OUT identified text)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT '(' || (SELECT string_agg(format('%s.%I IS NOT NULL', alias, c), ' OR ')
                     FROM unnest(b.closed_columns) c) || ')',
           CASE WHEN b.settled_column IS NULL THEN 'true'
                ELSE format('(%s.%I IS NOT NULL)', alias, b.settled_column) END,
           CASE WHEN b.sever_with LIKE 'patron:%'
                THEN format('(%1$s.%2$I IS NOT NULL AND %1$s.%2$I::text <> %3$L)', alias, b.patron_column,
                            substr(b.sever_with, 8))
                ELSE format('(%s.%I IS NOT NULL)', alias, b.patron_column) END
$$;

CREATE FUNCTION @extschema@._install_loan_triggers(rel regclass) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE b @extschema@.loan_binding; p record; t regclass;
BEGIN
    SELECT * INTO STRICT b FROM @extschema@.loan_binding l WHERE l.relation = rel;
    p := @extschema@._loan_predicates(b, 'NEW');
    FOR t IN SELECT @extschema@._trigger_targets(rel) LOOP
        PERFORM @extschema@._drop_trigger(t, 'pals_privacy_sever');
        -- fires only for rows that are closed and have a patron after the change
        -- (the placeholder is told apart in C: this clause is re-read by every
        -- statement on the table, so it is kept short)
        EXECUTE format('CREATE TRIGGER pals_privacy_sever AFTER INSERT OR UPDATE ON %s
                        FOR EACH ROW WHEN (%s AND NEW.%I IS NOT NULL) EXECUTE FUNCTION @extschema@._sever_row()',
                       t, p.closed, b.patron_column);
    END LOOP;
END $$;

-- A table made an inheritance child of a bound loan relation after binding
-- (CREATE TABLE ... INHERITS, ALTER TABLE ... INHERIT) gets the severing
-- trigger at once.  (Partitions get it from PostgreSQL itself.)
CREATE FUNCTION @extschema@._on_table_ddl() RETURNS event_trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE c record; b regclass;
BEGIN
    FOR c IN SELECT DISTINCT objid FROM pg_event_trigger_ddl_commands()
              WHERE object_type = 'table' AND classid = 'pg_class'::regclass LOOP
        FOR b IN SELECT l.relation FROM @extschema@.loan_binding l
                  WHERE l.relation IN (SELECT r.relation FROM @extschema@._related_relations(c.objid::regclass) r
                                        WHERE r.relationship = 'parent')
                    AND (SELECT relkind FROM pg_class WHERE oid = l.relation) = 'r'
        LOOP
            PERFORM @extschema@._install_loan_triggers(b);
        END LOOP;
    END LOOP;
    -- a partition or child created under a bound table gets its row security too
    -- (CREATE TABLE only: a restore creates tables before any binding is back,
    -- and brings their row security back itself)
    IF EXISTS (SELECT 1 FROM pg_event_trigger_ddl_commands() d JOIN pg_inherits i ON i.inhrelid = d.objid
                WHERE d.object_type = 'table' AND d.command_tag = 'CREATE TABLE') THEN
        PERFORM @extschema@._sync_row_security();
    END IF;
END $$;
CREATE EVENT TRIGGER pals_privacy_inheritance ON ddl_command_end
    WHEN TAG IN ('CREATE TABLE', 'ALTER TABLE')
    EXECUTE FUNCTION @extschema@._on_table_ddl();

CREATE FUNCTION @extschema@._drop_loan_triggers(rel regclass) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE t regclass;
BEGIN
    FOR t IN SELECT @extschema@._trigger_targets(rel) LOOP
        PERFORM @extschema@._drop_trigger(t, 'pals_privacy_sever');
    END LOOP;
    DELETE FROM @extschema@.last_borrower WHERE binding = rel;
    DELETE FROM @extschema@.sever_pending WHERE binding = rel;
    DELETE FROM @extschema@.backlog_progress WHERE binding = rel;
END $$;

-- A patron who withdraws the reading-history opt-in: what was kept for them
-- is severed at once (their items' last-borrower rows aside), and the copied
-- history is deleted, so turning it on again brings nothing back.
CREATE FUNCTION @extschema@._history_optout() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    pb @extschema@.patron_binding;
    b @extschema@.loan_binding;
    p record;
    r record;
    patron_id text;
    ptype text;
BEGIN
    SELECT * INTO pb FROM @extschema@.patron_binding;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    patron_id := to_jsonb(NEW) ->> pb.id_column;
    FOR b IN SELECT * FROM @extschema@.loan_binding LOOP
        p := @extschema@._loan_predicates(b, 't');
        ptype := @extschema@._column_type_name(b.relation, b.patron_column);
        FOR r IN EXECUTE format(
            'SELECT t.tableoid AS rid, t.ctid AS tid, t.%I::text AS item FROM %s t
              WHERE t.%I = $1::%s AND %s AND %s AND %s',
            b.item_column, b.relation, b.patron_column, ptype, p.closed, p.settled, p.identified)
            USING patron_id
        LOOP
            CONTINUE WHEN b.keep_last_borrower AND EXISTS (
                SELECT 1 FROM @extschema@.last_borrower lb
                 WHERE lb.binding = b.relation AND lb.item = r.item
                   AND lb.row_relid = r.rid AND lb.row_tid = r.tid);
            PERFORM @extschema@._sever_one(b.relation, r.rid, r.tid);
        END LOOP;
    END LOOP;
    DELETE FROM @extschema@.private_history h WHERE h.patron = patron_id;
    RETURN NULL;
END $$;

CREATE FUNCTION @extschema@._install_patron_triggers(rel regclass) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE pb @extschema@.patron_binding;
BEGIN
    SELECT * INTO STRICT pb FROM @extschema@.patron_binding b WHERE b.relation = rel;
    PERFORM @extschema@._drop_trigger(rel, 'pals_privacy_default_consents');
    EXECUTE format('CREATE TRIGGER pals_privacy_default_consents AFTER INSERT ON %s
                    FOR EACH ROW EXECUTE FUNCTION @extschema@._default_consents()', rel);
    PERFORM @extschema@._drop_trigger(rel, 'pals_privacy_history_optout');
    IF pb.keep_history_column IS NOT NULL THEN
        EXECUTE format('CREATE TRIGGER pals_privacy_history_optout AFTER UPDATE OF %1$I ON %2$s
                        FOR EACH ROW WHEN (OLD.%1$I IS TRUE AND NEW.%1$I IS NOT TRUE)
                        EXECUTE FUNCTION @extschema@._history_optout()',
                       pb.keep_history_column, rel);
    END IF;
END $$;

CREATE FUNCTION @extschema@._drop_patron_triggers(rel regclass) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM @extschema@._drop_trigger(rel, 'pals_privacy_history_optout');
    PERFORM @extschema@._drop_trigger(rel, 'pals_privacy_default_consents');
END $$;

-- Sever the history that existed before the extension was bound, item by
-- item in batches of batch_size items, one transaction per batch.  Resumable
-- (progress is committed with each batch) and idempotent.
CREATE PROCEDURE @extschema@.sever_backlog(batch_size integer DEFAULT 1000, restart boolean DEFAULT false)
LANGUAGE plpgsql AS $$
DECLARE
    b @extschema@.loan_binding;
    pb @extschema@.patron_binding;
    p record;
    r record;
    prog @extschema@.backlog_progress;
    items text[];
    locked_items text[];
    itype text;
    order_expr text;
    optin_join text;
    optin_expr text;
    sever_sql text;
    outcome text;
    k bigint;
    n_severed bigint; n_kept bigint; n_pending bigint;
    t_severed bigint := 0; t_kept bigint := 0; t_pending bigint := 0;
    bindings oid[];
    bid oid;
BEGIN
    PERFORM @extschema@._require_admin('sever_backlog');
    IF batch_size IS NULL OR batch_size < 1 THEN
        RAISE EXCEPTION 'sever_backlog: batch_size must be a positive number of items'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF restart THEN
        DELETE FROM @extschema@.backlog_progress;
    END IF;
    -- the rows of one batch that are to lose their patron, or to be tracked
    IF pg_catalog.to_regclass('pg_temp.pals_privacy_backlog_batch') IS NULL THEN
        CREATE TEMP TABLE pals_privacy_backlog_batch (
            rid oid, tid tid, item text, last boolean, target boolean, optin boolean
        ) ON COMMIT DELETE ROWS;
    END IF;
    SELECT * INTO pb FROM @extschema@.patron_binding;
    SELECT array_agg(relation::oid ORDER BY relation::oid) INTO bindings FROM @extschema@.loan_binding;
    FOREACH bid IN ARRAY coalesce(bindings, '{}') LOOP
        SELECT * INTO b FROM @extschema@.loan_binding l WHERE l.relation = bid;
        CONTINUE WHEN NOT FOUND;
        INSERT INTO @extschema@.backlog_progress (binding, relation) VALUES (bid, b.relation::text)
        ON CONFLICT (binding) DO NOTHING;
        SELECT * INTO prog FROM @extschema@.backlog_progress g WHERE g.binding = bid;
        IF prog.finished_at IS NOT NULL THEN
            RAISE NOTICE 'sever_backlog: % already done (% rows severed); use restart => true to scan again',
                b.relation, prog.rows_severed;
            CONTINUE;
        END IF;
        p := @extschema@._loan_predicates(b, 't');
        itype := @extschema@._column_type_name(b.relation, b.item_column);
        order_expr := CASE WHEN cardinality(b.closed_columns) = 1 THEN format('t.%I', b.closed_columns[1])
                           ELSE format('GREATEST(%s)', (SELECT string_agg(format('t.%I', c), ', ')
                                                         FROM unnest(b.closed_columns) c)) END;
        IF pb.keep_history_column IS NOT NULL THEN
            optin_join := format('LEFT JOIN %s pt ON pt.%I = t.%I', pb.relation, pb.id_column, b.patron_column);
            optin_expr := format('coalesce(pt.%I, false)', pb.keep_history_column);
        ELSE
            optin_join := '';
            optin_expr := 'false';
        END IF;
        sever_sql := CASE WHEN b.sever_with = 'delete' THEN 'DELETE FROM ONLY %1$s WHERE ctid = ANY ($1)'
                          WHEN b.sever_with = 'null' THEN format('UPDATE ONLY %%1$s SET %I = NULL WHERE ctid = ANY ($1)', b.patron_column)
                          ELSE format('UPDATE ONLY %%1$s SET %I = %L WHERE ctid = ANY ($1)', b.patron_column,
                                      substr(b.sever_with, 8)) END;
        LOOP
            -- the next batch of items that have closed rows
            EXECUTE format('SELECT array_agg(i::text ORDER BY i) FROM (
                                SELECT DISTINCT t.%1$I AS i FROM %2$s t
                                 WHERE ($1::text IS NULL OR t.%1$I > $1::%3$s) AND %4$s
                                 ORDER BY 1 LIMIT $2) s',
                           b.item_column, b.relation, itype, p.closed)
                INTO items USING prog.last_item, batch_size;
            EXIT WHEN items IS NULL;
            -- lock the tracker rows of these items: a concurrent return of one
            -- of them waits for this batch, or this batch sees its result
            SELECT coalesce(array_agg(lb.item), '{}') INTO locked_items
              FROM (SELECT lb.item FROM @extschema@.last_borrower lb
                     WHERE lb.binding = bid AND lb.item = ANY (items) FOR UPDATE) lb;
            n_severed := 0; n_kept := 0; n_pending := 0;
            EXECUTE format(
                'INSERT INTO pg_temp.pals_privacy_backlog_batch
                 SELECT rid, tid, item, last, target AND settled AND identified, optin FROM (
                     SELECT t.tableoid AS rid, t.ctid AS tid, t.%1$I::text AS item, %5$s AS settled, %6$s AS identified,
                            %8$s AS optin,
                            row_number() OVER (PARTITION BY t.%1$I ORDER BY %7$s DESC, t.tableoid DESC, t.ctid DESC) = 1
                                AND %10$L AS last,
                            row_number() OVER (PARTITION BY t.%1$I ORDER BY %7$s DESC, t.tableoid DESC, t.ctid DESC) > 1
                                OR NOT %10$L AS target
                       FROM %2$s t %9$s
                      WHERE t.%1$I BETWEEN $1::%3$s AND $2::%3$s AND %4$s) s
                  WHERE (last AND identified) OR (target AND settled AND identified)',
                b.item_column, b.relation, itype, p.closed, p.settled, p.identified, order_expr,
                optin_expr, optin_join, b.keep_last_borrower)
                USING items[1], items[cardinality(items)];
            -- each item's latest closed row is its last borrower; where a
            -- concurrent return created the tracker row after this batch
            -- began, the return knows better and wins
            UPDATE @extschema@.last_borrower lb SET row_relid = x.rid, row_tid = x.tid
              FROM pg_temp.pals_privacy_backlog_batch x
             WHERE x.last AND lb.binding = bid AND lb.item = x.item AND x.item = ANY (locked_items);
            INSERT INTO @extschema@.last_borrower AS lb (binding, item, row_relid, row_tid)
            SELECT bid, x.item, x.rid, x.tid FROM pg_temp.pals_privacy_backlog_batch x
             WHERE x.last AND NOT x.item = ANY (locked_items)
            ON CONFLICT (binding, item) DO NOTHING;
            -- the others lose their patron, a statement per table or partition;
            -- if one fails, its rows are severed one by one (and left pending)
            FOR r IN SELECT x.rid, array_agg(x.tid) AS tids FROM pg_temp.pals_privacy_backlog_batch x
                      WHERE x.target AND NOT x.optin GROUP BY x.rid
            LOOP
                BEGIN
                    EXECUTE format(sever_sql, r.rid::regclass) USING r.tids;
                    GET DIAGNOSTICS k = ROW_COUNT;
                    n_severed := n_severed + k;
                EXCEPTION WHEN OTHERS THEN
                    UPDATE pg_temp.pals_privacy_backlog_batch x SET optin = true
                     WHERE x.rid = r.rid AND x.target;
                END;
            END LOOP;
            -- rows of patrons who opted in (copy or keep), and rows that failed above
            FOR r IN SELECT x.rid, x.tid FROM pg_temp.pals_privacy_backlog_batch x WHERE x.target AND x.optin LOOP
                outcome := @extschema@._sever_one(b.relation, r.rid::regclass, r.tid);
                CASE outcome
                    WHEN 'severed' THEN n_severed := n_severed + 1;
                    WHEN 'kept' THEN n_kept := n_kept + 1;
                    WHEN 'pending' THEN n_pending := n_pending + 1;
                    ELSE NULL;
                END CASE;
            END LOOP;
            UPDATE @extschema@.backlog_progress g
               SET last_item = items[cardinality(items)], items_done = g.items_done + cardinality(items),
                   rows_severed = g.rows_severed + n_severed, rows_kept = g.rows_kept + n_kept,
                   rows_pending = g.rows_pending + n_pending, batches = g.batches + 1,
                   updated_at = clock_timestamp()
             WHERE g.binding = bid
            RETURNING * INTO prog;
            RAISE NOTICE 'sever_backlog: % batch %: % items, % rows severed, % kept (opt-in), % pending',
                b.relation, prog.batches, cardinality(items), n_severed, n_kept, n_pending;
            t_severed := t_severed + n_severed; t_kept := t_kept + n_kept; t_pending := t_pending + n_pending;
            COMMIT;
        END LOOP;
        UPDATE @extschema@.backlog_progress g SET finished_at = clock_timestamp(), updated_at = clock_timestamp()
         WHERE g.binding = bid;
        COMMIT;
    END LOOP;
    RAISE NOTICE 'sever_backlog: done: % rows severed, % kept for patrons who opted in, % left pending',
        t_severed, t_kept, t_pending;
END $$;

CREATE FUNCTION @extschema@.unbind(relation regclass)
RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE fn constant text := 'unbind'; n bigint := 0; k bigint; t regclass;
BEGIN
    PERFORM @extschema@._require_admin(fn);
    PERFORM @extschema@._require_args(fn, ARRAY['relation'], ARRAY[relation::text]);
    IF EXISTS (SELECT 1 FROM @extschema@.patron_binding b WHERE b.relation = unbind.relation)
       AND EXISTS (SELECT 1 FROM @extschema@.bindings b WHERE b.relation <> unbind.relation AND b.kind <> 'retain') THEN
        RAISE EXCEPTION '%: other bindings depend on the patron table "%"', fn, relation
            USING ERRCODE = 'dependent_objects_still_exist',
                  DETAIL = (SELECT format('Still bound: %s.', string_agg(DISTINCT format('%s (%s)', b.relation, b.kind), ', '))
                              FROM @extschema@.bindings b WHERE b.relation <> unbind.relation AND b.kind <> 'retain'),
                  HINT = 'Unbind those relations first.';
    END IF;
    IF EXISTS (SELECT 1 FROM @extschema@.loan_binding b WHERE b.relation = unbind.relation) THEN
        PERFORM @extschema@._drop_loan_triggers(relation);
    END IF;
    IF EXISTS (SELECT 1 FROM @extschema@.patron_binding b WHERE b.relation = unbind.relation) THEN
        PERFORM @extschema@._drop_patron_triggers(relation);
    END IF;
    IF EXISTS (SELECT 1 FROM @extschema@.outbox_binding b WHERE b.relation = unbind.relation) THEN
        FOR t IN SELECT @extschema@._trigger_targets(relation) LOOP
            PERFORM @extschema@._drop_trigger(t, 'pals_privacy_outbox');
        END LOOP;
    END IF;
    DELETE FROM @extschema@.patron_binding b WHERE b.relation = unbind.relation;          GET DIAGNOSTICS k = ROW_COUNT; n := n + k;
    DELETE FROM @extschema@.card_binding b WHERE b.relation = unbind.relation;            GET DIAGNOSTICS k = ROW_COUNT; n := n + k;
    DELETE FROM @extschema@.balance_binding b WHERE b.relation = unbind.relation;         GET DIAGNOSTICS k = ROW_COUNT; n := n + k;
    DELETE FROM @extschema@.loan_binding b WHERE b.relation = unbind.relation;            GET DIAGNOSTICS k = ROW_COUNT; n := n + k;
    DELETE FROM @extschema@.private_history_binding b WHERE b.relation = unbind.relation; GET DIAGNOSTICS k = ROW_COUNT; n := n + k;
    DELETE FROM @extschema@.contact_binding b WHERE b.relation = unbind.relation;         GET DIAGNOSTICS k = ROW_COUNT; n := n + k;
    DELETE FROM @extschema@.outbox_binding b WHERE b.relation = unbind.relation;          GET DIAGNOSTICS k = ROW_COUNT; n := n + k;
    DELETE FROM @extschema@.retention_rule b WHERE b.relation = unbind.relation;          GET DIAGNOSTICS k = ROW_COUNT; n := n + k;
    DELETE FROM @extschema@.guardian_binding b WHERE b.relation = unbind.relation;        GET DIAGNOSTICS k = ROW_COUNT; n := n + k;
    IF n = 0 THEN
        RAISE EXCEPTION '%: "%" is not bound', fn, relation USING ERRCODE = 'undefined_object';
    END IF;
    PERFORM @extschema@._sync_row_security();
END $$;

CREATE VIEW @extschema@.bindings AS
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
      FROM @extschema@.retention_rule b;
COMMENT ON VIEW @extschema@.bindings IS 'Every binding of pals_privacy to the tables of this database';

------------------------------------------------------------------------------
-- Privacy classes.
------------------------------------------------------------------------------

CREATE FUNCTION @extschema@.classify_role(role regrole, class text, purpose text DEFAULT NULL)
RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE fn constant text := 'classify_role';
BEGIN
    PERFORM @extschema@._require_admin(fn);
    PERFORM @extschema@._require_args(fn, ARRAY['role', 'class'], ARRAY[role::text, class]);
    IF class NOT IN ('operational', 'staff', 'patron', 'collections', 'auditor') THEN
        RAISE EXCEPTION '%: unknown privacy class %', fn, quote_literal(class)
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Use operational, staff, patron, collections or auditor.';
    END IF;
    IF purpose IS NOT NULL AND NOT EXISTS (SELECT 1 FROM @extschema@.purposes p WHERE p.name = classify_role.purpose) THEN
        RAISE EXCEPTION '%: unknown purpose %', fn, quote_literal(purpose)
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = format('Known purposes: %s.', (SELECT string_agg(name, ', ' ORDER BY name) FROM @extschema@.purposes));
    END IF;
    IF (SELECT rolsuper FROM pg_roles WHERE oid = role) THEN
        RAISE WARNING '%: role % is a superuser, and superusers are exempt from every privacy class', fn, role;
    END IF;
    INSERT INTO @extschema@.role_class AS r (role, class, purpose) VALUES (role, class, purpose)
    ON CONFLICT ON CONSTRAINT role_class_pkey DO UPDATE
       SET class = EXCLUDED.class, purpose = EXCLUDED.purpose,
           classified_at = now(), classified_by = current_user;
END $$;

CREATE FUNCTION @extschema@.unclassify_role(role regrole)
RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM @extschema@._require_admin('unclassify_role');
    PERFORM @extschema@._require_args('unclassify_role', ARRAY['role'], ARRAY[role::text]);
    DELETE FROM @extschema@.role_class r WHERE r.role = unclassify_role.role;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unclassify_role: role % is not classified', role USING ERRCODE = 'undefined_object';
    END IF;
END $$;

-- Resolved in C: own classification, else the most restrictive class of the
-- roles it is a member of, else pals_privacy.default_class.
CREATE FUNCTION @extschema@.class_of(role regrole) RETURNS text
    LANGUAGE c STABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'pals_privacy_class_of';
CREATE FUNCTION @extschema@.current_class() RETURNS text
    LANGUAGE c STABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'pals_privacy_current_class';

CREATE VIEW @extschema@.classified_roles AS
    SELECT r.role, r.class, r.purpose, r.classified_at, r.classified_by
      FROM @extschema@.role_class r;
COMMENT ON VIEW @extschema@.classified_roles IS 'Roles given a privacy class with classify_role()';

------------------------------------------------------------------------------
-- Purge of expired cardholders, retention rules, maintenance runs
-- (docs/maintenance.md).  The background worker (src/worker.c) calls
-- run_maintenance(); without it, pg_cron or cron can.
------------------------------------------------------------------------------

CREATE TABLE @extschema@.maintenance_runs (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind         text NOT NULL CHECK (kind IN ('purge', 'retention', 'maintenance')),
    dry_run      boolean NOT NULL DEFAULT false,
    started_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    finished_at  timestamptz,
    counts       jsonb,           -- counts only: never a patron's identity
    error        text
);
COMMENT ON TABLE @extschema@.maintenance_runs IS 'One row per purge, retention or maintenance run: counts, no identities';

CREATE FUNCTION @extschema@._run_begin(kind text, dry_run boolean) RETURNS bigint
LANGUAGE sql SET search_path = pg_catalog, pg_temp AS $$
    INSERT INTO @extschema@.maintenance_runs (kind, dry_run) VALUES (kind, dry_run) RETURNING id
$$;

CREATE FUNCTION @extschema@._run_end(run_id bigint, counts jsonb) RETURNS void
LANGUAGE sql SET search_path = pg_catalog, pg_temp AS $$
    UPDATE @extschema@.maintenance_runs r SET finished_at = clock_timestamp(), counts = _run_end.counts
     WHERE r.id = run_id
$$;

-- Patrons whose removal would break a binding: the placeholders of sever_with.
CREATE FUNCTION @extschema@._placeholders() RETURNS text[]
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT coalesce(array_agg(DISTINCT substr(sever_with, 8)), '{}')
      FROM @extschema@.loan_binding WHERE sever_with LIKE 'patron:%'
$$;

-- Of the given patrons, those who owe something in any bound balance
-- relation, and those with an open row in any bound loan relation.
CREATE FUNCTION @extschema@._patrons_owing(ids text[]) RETURNS SETOF text
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE b @extschema@.balance_binding; t text;
BEGIN
    FOR b IN SELECT * FROM @extschema@.balance_binding LOOP
        t := @extschema@._column_type_name(b.relation, b.patron_column);
        RETURN QUERY EXECUTE format(
            'SELECT x.%1$I::text FROM %2$s x WHERE x.%1$I = ANY ($1::%3$s[]) GROUP BY 1 HAVING sum(x.%4$I) > 0',
            b.patron_column, b.relation, t, b.amount_column) USING ids;
    END LOOP;
END $$;

CREATE FUNCTION @extschema@._patrons_with_open_rows(ids text[]) RETURNS SETOF text
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE b @extschema@.loan_binding; p record; t text;
BEGIN
    FOR b IN SELECT * FROM @extschema@.loan_binding LOOP
        p := @extschema@._loan_predicates(b, 't');
        t := @extschema@._column_type_name(b.relation, b.patron_column);
        RETURN QUERY EXECUTE format('SELECT DISTINCT t.%1$I::text FROM %2$s t WHERE t.%1$I = ANY ($1::%3$s[]) AND NOT %4$s',
                                    b.patron_column, b.relation, t, p.closed) USING ids;
    END LOOP;
END $$;

-- Of the given patrons, those with a row in a bound loan or private-history
-- relation that another transaction holds.  The others' rows are locked
-- here, so removing them will not wait.
CREATE FUNCTION @extschema@._patrons_with_locked_rows(ids text[]) RETURNS SETOF text
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE b record; t text;
BEGIN
    FOR b IN SELECT relation, patron_column FROM @extschema@.loan_binding
             UNION ALL SELECT relation, patron_column FROM @extschema@.private_history_binding LOOP
        t := @extschema@._column_type_name(b.relation, b.patron_column);
        RETURN QUERY EXECUTE format(
            'WITH mine AS (SELECT x.%1$I::text AS p FROM %2$s x WHERE x.%1$I = ANY ($1::%3$s[]) FOR UPDATE SKIP LOCKED)
             SELECT a.p FROM (SELECT x.%1$I::text AS p, count(*) AS n FROM %2$s x WHERE x.%1$I = ANY ($1::%3$s[]) GROUP BY 1) a
              LEFT JOIN (SELECT p, count(*) AS n FROM mine GROUP BY 1) m USING (p)
             WHERE coalesce(m.n, 0) < a.n',
            b.patron_column, b.relation, t) USING ids;
    END LOOP;
END $$;

-- Remove the given patrons wholly: sever every row of theirs in every loan
-- binding (by its strategy), delete their private history (bound relations
-- and the extension's copies), then remove them by the bound method.
-- No SET search_path here: the ILS's purge function runs with the caller's
-- (the worker's: the database default), as the ILS itself would call it.
-- Everything below is schema-qualified; only administrators may call it.
CREATE FUNCTION @extschema@._purge_patrons(ids text[]) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    pb @extschema@.patron_binding;
    b record;
    t text;
    fn record;
    n bigint;
BEGIN
    SELECT * INTO STRICT pb FROM @extschema@.patron_binding;
    FOR b IN SELECT * FROM @extschema@.loan_binding LOOP
        t := @extschema@._column_type_name(b.relation, b.patron_column);
        IF b.sever_with = 'delete' THEN
            EXECUTE pg_catalog.format('DELETE FROM %s WHERE %I = ANY ($1::%s[])', b.relation, b.patron_column, t) USING ids;
        ELSIF b.sever_with = 'null' THEN
            EXECUTE pg_catalog.format('UPDATE %s SET %I = NULL WHERE %I = ANY ($1::%s[])', b.relation, b.patron_column, b.patron_column, t) USING ids;
        ELSE
            EXECUTE pg_catalog.format('UPDATE %s SET %I = %L WHERE %I = ANY ($1::%s[])', b.relation, b.patron_column,
                           substr(b.sever_with, 8), b.patron_column, t) USING ids;
        END IF;
    END LOOP;
    FOR b IN SELECT * FROM @extschema@.private_history_binding LOOP
        t := @extschema@._column_type_name(b.relation, b.patron_column);
        EXECUTE pg_catalog.format('DELETE FROM %s WHERE %I = ANY ($1::%s[])', b.relation, b.patron_column, t) USING ids;
    END LOOP;
    DELETE FROM @extschema@.private_history h WHERE h.patron = ANY (ids);
    DELETE FROM @extschema@.consents c WHERE c.patron = ANY (ids);
    DELETE FROM @extschema@.patron_pins p WHERE p.patron = ANY (ids);
    DELETE FROM @extschema@.consent_history c WHERE c.patron = ANY (ids);
    t := @extschema@._column_type_name(pb.relation, pb.id_column);
    IF pb.purge_function IS NULL THEN
        EXECUTE pg_catalog.format('DELETE FROM %s WHERE %I = ANY ($1::%s[])', pb.relation, pb.id_column, t) USING ids;
        GET DIAGNOSTICS n = ROW_COUNT;
    ELSE
        SELECT p.proname, n2.nspname INTO fn FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n2 ON n2.oid = p.pronamespace
         WHERE p.oid = pb.purge_function::regprocedure;
        -- one statement calls it once per patron
        EXECUTE pg_catalog.format('SELECT count(*) FROM (SELECT %I.%I(x) FROM unnest($1::%s[]) x) s',
                       fn.nspname, fn.proname, t) INTO n USING ids;
    END IF;
    RETURN n;
END $$;

CREATE PROCEDURE @extschema@.purge_expired(dry_run boolean DEFAULT false, batch_size integer DEFAULT 500,
                                           INOUT result jsonb DEFAULT NULL)
LANGUAGE plpgsql AS $$
DECLARE
    pb @extschema@.patron_binding;
    t text;
    grace interval;
    cand text[];
    got text[];
    owing text[];
    open_ids text[];
    eligible text[];
    last_id text;
    one text;
    busy text[];
    n bigint;
    run_id bigint;
    n_eligible bigint := 0; n_purged bigint := 0; n_balance bigint := 0; n_open bigint := 0;
    n_locked bigint := 0; n_error bigint := 0;
    errors text[] := '{}';
BEGIN
    PERFORM @extschema@._require_admin('purge_expired');
    IF batch_size IS NULL OR batch_size < 1 THEN
        RAISE EXCEPTION 'purge_expired: batch_size must be a positive number of patrons'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    dry_run := coalesce(dry_run, false);
    SELECT * INTO pb FROM @extschema@.patron_binding;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'purge_expired: the patron table is not bound'
            USING ERRCODE = 'object_not_in_prerequisite_state', HINT = 'Call pals_privacy.bind_patrons() first.';
    END IF;
    -- calling into the library defines its settings in this session, preloaded or not;
    -- pg_settings then gives the value in its base unit, minutes
    PERFORM @extschema@.current_class();
    grace := make_interval(mins => (SELECT setting::integer FROM pg_catalog.pg_settings
                                     WHERE name = 'pals_privacy.purge_grace'));
    IF grace IS NULL THEN
        RAISE EXCEPTION 'purge_expired: pals_privacy.purge_grace is not defined'
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'Load the library: add pals_privacy to shared_preload_libraries, or LOAD ''pals_privacy''.';
    END IF;
    t := @extschema@._column_type_name(pb.relation, pb.id_column);
    run_id := @extschema@._run_begin('purge', dry_run);
    COMMIT;
    LOOP
        -- the next batch of patrons past the grace period
        EXECUTE format('SELECT array_agg(i ORDER BY o) FROM (
                            SELECT p.%1$I::text AS i, p.%1$I AS o FROM %2$s p
                             WHERE p.%3$I < now() - $1 AND ($2::text IS NULL OR p.%1$I > $2::%4$s)
                               AND NOT p.%1$I::text = ANY ($3)
                             ORDER BY p.%1$I LIMIT $4) s',
                       pb.id_column, pb.relation, pb.expires_column, t)
            INTO cand USING grace, last_id, @extschema@._placeholders(), batch_size;
        EXIT WHEN cand IS NULL;
        last_id := cand[cardinality(cand)];
        -- rows circulation holds are skipped, never waited for
        EXECUTE format('SELECT coalesce(array_agg(p.%1$I::text), ''{}'') FROM (SELECT %1$I FROM %2$s
                         WHERE %1$I = ANY ($1::%3$s[]) FOR UPDATE SKIP LOCKED) p', pb.id_column, pb.relation, t)
            INTO got USING cand;
        n_locked := n_locked + cardinality(cand) - cardinality(got);
        SELECT coalesce(array_agg(DISTINCT x), '{}') INTO owing FROM @extschema@._patrons_owing(got) x;
        SELECT coalesce(array_agg(DISTINCT x), '{}') INTO open_ids
          FROM @extschema@._patrons_with_open_rows(got) x WHERE NOT x = ANY (owing);
        n_balance := n_balance + cardinality(owing);
        n_open := n_open + cardinality(open_ids);
        SELECT coalesce(array_agg(x), '{}') INTO eligible FROM unnest(got) x
         WHERE NOT x = ANY (owing) AND NOT x = ANY (open_ids);
        -- a patron whose rows circulation holds is skipped too, never waited for
        SELECT coalesce(array_agg(DISTINCT x), '{}') INTO busy FROM @extschema@._patrons_with_locked_rows(eligible) x;
        n_locked := n_locked + cardinality(busy);
        SELECT coalesce(array_agg(x), '{}') INTO eligible FROM unnest(eligible) x WHERE NOT x = ANY (busy);
        n_eligible := n_eligible + cardinality(eligible);
        IF cardinality(eligible) > 0 THEN
            -- a dry run does the same work and rolls it back, so that it
            -- reports the same counts, failures included
            BEGIN
                n := @extschema@._purge_patrons(eligible);
                IF dry_run THEN
                    RAISE EXCEPTION USING ERRCODE = 'PP001', MESSAGE = 'dry run';
                END IF;
                n_purged := n_purged + n;
            EXCEPTION WHEN OTHERS THEN
                IF SQLSTATE = 'PP001' THEN
                    n_purged := n_purged + n;
                ELSE
                    -- one patron's failure must not keep the others: one by one
                    FOREACH one IN ARRAY eligible LOOP
                        BEGIN
                            n := @extschema@._purge_patrons(ARRAY[one]);
                            IF dry_run THEN
                                RAISE EXCEPTION USING ERRCODE = 'PP001', MESSAGE = 'dry run';
                            END IF;
                            n_purged := n_purged + n;
                        EXCEPTION WHEN OTHERS THEN
                            IF SQLSTATE = 'PP001' THEN
                                n_purged := n_purged + n;
                            ELSE
                                n_error := n_error + 1;
                                IF cardinality(errors) < 10 THEN
                                    -- no identities in the record: numbers are masked
                                    errors := errors || format('%s: %s', SQLSTATE,
                                                               regexp_replace(SQLERRM, '[0-9]+', '#', 'g'));
                                END IF;
                            END IF;
                        END;
                    END LOOP;
                END IF;
            END;
        END IF;
        COMMIT;
    END LOOP;
    result := jsonb_build_object('dry_run', dry_run, 'eligible', n_eligible, 'purged', n_purged,
                                 'skipped', jsonb_build_object('balance', n_balance, 'open_loan', n_open,
                                                               'locked', n_locked, 'error', n_error),
                                 'errors', to_jsonb(errors));
    PERFORM @extschema@._run_end(run_id, result);
    COMMIT;
    RAISE NOTICE 'purge_expired: % patrons purged%; kept: % owing, % with open loans or holds, % locked, % failed',
        n_purged, CASE WHEN dry_run THEN format(' (dry run: %s eligible)', n_eligible) ELSE '' END,
        n_balance, n_open, n_locked, n_error;
END $$;

CREATE PROCEDURE @extschema@.apply_retention(dry_run boolean DEFAULT false, batch_size integer DEFAULT 10000,
                                             INOUT result jsonb DEFAULT NULL)
LANGUAGE plpgsql AS $$
DECLARE
    r @extschema@.retention_rule;
    lb @extschema@.loan_binding;
    pcol name;
    leaf regclass;
    n bigint;
    total bigint := 0;
    per_rule jsonb := '{}';
    rule_rows bigint;
    run_id bigint;
    set_clause text;
    sever_filter text;
    p record;
BEGIN
    PERFORM @extschema@._require_admin('apply_retention');
    IF batch_size IS NULL OR batch_size < 1 THEN
        RAISE EXCEPTION 'apply_retention: batch_size must be a positive number of rows'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    dry_run := coalesce(dry_run, false);
    run_id := @extschema@._run_begin('retention', dry_run);
    COMMIT;
    FOR r IN SELECT * FROM @extschema@.retention_rule ORDER BY relation::text LOOP
        rule_rows := 0;
        IF r.action = 'sever' THEN
            SELECT * INTO lb FROM @extschema@.loan_binding l WHERE l.relation = r.relation;
            pcol := coalesce(lb.patron_column,
                             (SELECT patron_column FROM @extschema@.private_history_binding x WHERE x.relation = r.relation),
                             (SELECT patron_column FROM @extschema@.outbox_binding x WHERE x.relation = r.relation),
                             (SELECT patron_column FROM @extschema@.card_binding x WHERE x.relation = r.relation));
            set_clause := CASE WHEN lb.sever_with LIKE 'patron:%' THEN format('%I = %L', pcol, substr(lb.sever_with, 8))
                               ELSE format('%I = NULL', pcol) END;
            -- rows that still have a patron; in a loan relation, only closed
            -- ones (an open loan keeps its patron)
            IF lb.relation IS NOT NULL THEN
                p := @extschema@._loan_predicates(lb, 't');
                sever_filter := format('%s AND %s', p.identified, p.closed);
            ELSE
                sever_filter := format('t.%I IS NOT NULL', pcol);
            END IF;
        END IF;
        -- batches by TID, one leaf table at a time (TIDs are per table)
        FOR leaf IN SELECT x.relid FROM pg_catalog.pg_partition_tree(r.relation) x WHERE x.isleaf
                    UNION SELECT r.relation WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_partition_tree(r.relation) x WHERE x.level > 0)
                    UNION SELECT c.relation FROM @extschema@._related_relations(r.relation) c WHERE c.relationship = 'child'
        LOOP
            CONTINUE WHEN (SELECT relkind FROM pg_catalog.pg_class WHERE oid = leaf) <> 'r';
            LOOP
                IF dry_run THEN
                    EXECUTE format('SELECT count(*) FROM ONLY %s t WHERE t.%I < now() - $1 %s', leaf, r.timestamp_column,
                                   CASE WHEN r.action = 'sever' THEN 'AND ' || sever_filter ELSE '' END)
                        INTO n USING r.keep;
                ELSIF r.action = 'delete' THEN
                    EXECUTE format('DELETE FROM ONLY %1$s WHERE ctid = ANY (ARRAY(
                                        SELECT ctid FROM ONLY %1$s WHERE %2$I < now() - $1 LIMIT $2))',
                                   leaf, r.timestamp_column) USING r.keep, batch_size;
                    GET DIAGNOSTICS n = ROW_COUNT;
                ELSE
                    EXECUTE format('UPDATE ONLY %1$s SET %3$s WHERE ctid = ANY (ARRAY(
                                        SELECT t.ctid FROM ONLY %1$s t WHERE t.%2$I < now() - $1 AND %4$s LIMIT $2))',
                                   leaf, r.timestamp_column, set_clause, sever_filter)
                        USING r.keep, batch_size;
                    GET DIAGNOSTICS n = ROW_COUNT;
                END IF;
                rule_rows := rule_rows + n;
                COMMIT;
                EXIT WHEN dry_run OR n < batch_size;
            END LOOP;
        END LOOP;
        per_rule := per_rule || jsonb_build_object(r.relation::text, rule_rows);
        total := total + rule_rows;
    END LOOP;
    result := jsonb_build_object('dry_run', dry_run, 'rules', per_rule, 'rows', total);
    PERFORM @extschema@._run_end(run_id, result);
    COMMIT;
END $$;

-- Retry the rows severing left pending (a lock, a foreign key, an ILS
-- trigger ...): gone or severed rows leave the list.
CREATE FUNCTION @extschema@._retry_pending() RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE r record; outcome text; n_done bigint := 0; n_left bigint := 0;
BEGIN
    FOR r IN SELECT * FROM @extschema@.sever_pending ORDER BY first_seen LIMIT 10000 LOOP
        DELETE FROM @extschema@.sever_pending p
         WHERE p.binding = r.binding AND p.row_relid = r.row_relid AND p.row_tid = r.row_tid;
        IF to_regclass(r.binding::regclass::text) IS NULL OR to_regclass(r.row_relid::regclass::text) IS NULL THEN
            CONTINUE;
        END IF;
        -- the last borrower of its item keeps its patron
        CONTINUE WHEN EXISTS (SELECT FROM @extschema@.last_borrower lb
                               WHERE lb.binding = r.binding AND lb.row_relid = r.row_relid AND lb.row_tid = r.row_tid);
        outcome := @extschema@._sever_one(r.binding::regclass, r.row_relid::regclass, r.row_tid);
        IF outcome = 'pending' THEN
            n_left := n_left + 1;
        ELSE
            n_done := n_done + 1;
        END IF;
    END LOOP;
    RETURN jsonb_build_object('retried', n_done + n_left, 'resolved', n_done, 'still_pending', n_left);
END $$;

-- The three steps, each committing as it goes.  A run that dies half-way
-- keeps finished_at NULL; the next run marks it interrupted.
CREATE PROCEDURE @extschema@.run_maintenance(INOUT result jsonb DEFAULT NULL)
LANGUAGE plpgsql AS $$
DECLARE
    run_id bigint;
    pending jsonb;
    retention jsonb;
    purge jsonb;
BEGIN
    PERFORM @extschema@._require_admin('run_maintenance');
    run_id := @extschema@._run_begin('maintenance', false);
    UPDATE @extschema@.maintenance_runs SET error = 'interrupted'
     WHERE finished_at IS NULL AND error IS NULL AND id < run_id;
    COMMIT;
    pending := @extschema@._retry_pending();
    COMMIT;
    PERFORM @extschema@._audit_prune();
    COMMIT;
    CALL @extschema@.apply_retention(false, 10000, retention);
    -- nothing to purge until the patron table is bound
    IF EXISTS (SELECT FROM @extschema@.patron_binding) THEN
        CALL @extschema@.purge_expired(false, 500, purge);
    END IF;
    result := jsonb_build_object('pending', pending, 'retention', retention, 'purge', purge);
    PERFORM @extschema@._run_end(run_id, result);
    COMMIT;
END $$;

CREATE FUNCTION @extschema@.maintenance_now() RETURNS boolean
    LANGUAGE c AS 'MODULE_PATHNAME', 'pals_privacy_maintenance_now';

------------------------------------------------------------------------------
-- The patron session (src/session.c, docs/session.md).
------------------------------------------------------------------------------

CREATE TABLE @extschema@.patron_pins (
    patron      text PRIMARY KEY,
    salt        bytea NOT NULL,
    hash        bytea NOT NULL,      -- PBKDF2-HMAC-SHA256; the PIN itself is never stored
    iterations  integer NOT NULL,
    set_at      timestamptz NOT NULL DEFAULT now(),
    set_by      text NOT NULL
);
SELECT pg_catalog.pg_extension_config_dump('@extschema@.patron_pins', '');

CREATE FUNCTION @extschema@._pin_hash(pin text, salt bytea, iterations integer) RETURNS bytea
    LANGUAGE c STRICT AS 'MODULE_PATHNAME', 'pals_privacy_pin_hash';
CREATE FUNCTION @extschema@._random_salt() RETURNS bytea
    LANGUAGE c AS 'MODULE_PATHNAME', 'pals_privacy_random_salt';
CREATE FUNCTION @extschema@._reset_failures(card text) RETURNS void
    LANGUAGE c STRICT AS 'MODULE_PATHNAME', 'pals_privacy_reset_failures';

-- The cards of a patron, and the patron (and PIN) of a card: the card column
-- of the patron table, or of a bind_cards relation.
CREATE FUNCTION @extschema@._cards_of(patron text) RETURNS SETOF text
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE pb @extschema@.patron_binding; cb @extschema@.card_binding;
BEGIN
    SELECT * INTO pb FROM @extschema@.patron_binding;
    IF pb.card_column IS NOT NULL THEN
        RETURN QUERY EXECUTE format('SELECT %I::text FROM %s WHERE %I::text = $1', pb.card_column, pb.relation, pb.id_column)
            USING patron;
    END IF;
    FOR cb IN SELECT * FROM @extschema@.card_binding LOOP
        RETURN QUERY EXECUTE format('SELECT %I::text FROM %s WHERE %I::text = $1', cb.card_column, cb.relation, cb.patron_column)
            USING patron;
    END LOOP;
END $$;

CREATE FUNCTION @extschema@._card_pin(card text,
    OUT patron text, OUT salt bytea, OUT hash bytea, OUT iterations integer)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE pb @extschema@.patron_binding; cb @extschema@.card_binding;
BEGIN
    SELECT * INTO pb FROM @extschema@.patron_binding;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    IF pb.card_column IS NOT NULL THEN
        EXECUTE format('SELECT %I::text FROM %s WHERE %I::text = $1 LIMIT 1', pb.id_column, pb.relation, pb.card_column)
            INTO patron USING card;
    END IF;
    FOR cb IN SELECT * FROM @extschema@.card_binding LOOP
        EXIT WHEN patron IS NOT NULL;
        EXECUTE format('SELECT %I::text FROM %s WHERE %I::text = $1 LIMIT 1', cb.patron_column, cb.relation, cb.card_column)
            INTO patron USING card;
    END LOOP;
    IF patron IS NOT NULL THEN
        SELECT p.salt, p.hash, p.iterations INTO salt, hash, iterations
          FROM @extschema@.patron_pins p WHERE p.patron = _card_pin.patron;
    END IF;
END $$;

CREATE FUNCTION @extschema@.set_pin(patron text, pin text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE s bytea; n integer; c text;
BEGIN
    PERFORM @extschema@._require_args('set_pin', ARRAY['patron', 'pin'], ARRAY[patron, pin]);
    IF NOT (SELECT rolsuper FROM pg_roles WHERE rolname = session_user)
       AND @extschema@.class_of(session_user::regrole) NOT IN ('operational', 'staff') THEN
        RAISE EXCEPTION 'permission denied for set_pin'
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = format('Role %I is of privacy class %s; staff or the ILS set PINs.',
                                  session_user, @extschema@.class_of(session_user::regrole));
    END IF;
    IF length(pin) < 4 THEN
        RAISE EXCEPTION 'set_pin: a PIN has at least 4 characters' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    PERFORM @extschema@._require_patron('set_pin', patron);
    n := current_setting('pals_privacy.pin_iterations')::integer;
    s := @extschema@._random_salt();
    INSERT INTO @extschema@.patron_pins AS p (patron, salt, hash, iterations, set_by)
    VALUES (patron, s, @extschema@._pin_hash(pin, s, n), n, session_user)
    ON CONFLICT ON CONSTRAINT patron_pins_pkey DO UPDATE
       SET salt = EXCLUDED.salt, hash = EXCLUDED.hash, iterations = EXCLUDED.iterations,
           set_at = now(), set_by = EXCLUDED.set_by;
    FOR c IN SELECT @extschema@._cards_of(patron) LOOP
        PERFORM @extschema@._reset_failures(c);
    END LOOP;
    PERFORM @extschema@._audit('pin.set', jsonb_build_object('patron', patron));
END $$;

CREATE FUNCTION @extschema@.login(card text, pin text) RETURNS boolean
    LANGUAGE c STRICT SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    AS 'MODULE_PATHNAME', 'pals_privacy_login';
CREATE FUNCTION @extschema@.logout() RETURNS void
    LANGUAGE c AS 'MODULE_PATHNAME', 'pals_privacy_logout';
-- PARALLEL RESTRICTED: the session patron lives in this backend only.
CREATE FUNCTION @extschema@.session_patron() RETURNS text
    LANGUAGE c STABLE PARALLEL RESTRICTED AS 'MODULE_PATHNAME', 'pals_privacy_session_patron';

------------------------------------------------------------------------------
-- Consent (src/consent.c, docs/consent.md): per patron, purpose and channel.
------------------------------------------------------------------------------

CREATE TABLE @extschema@.consents (
    patron       text NOT NULL,
    purpose      text NOT NULL REFERENCES @extschema@.purposes (name),
    channel      text NOT NULL CHECK (channel IN ('email', 'phone', 'sms', 'mail')),
    granted      boolean NOT NULL,
    evidence     text,
    recorded_at  timestamptz NOT NULL DEFAULT now(),
    recorded_by  text NOT NULL,
    PRIMARY KEY (patron, purpose, channel)
);
CREATE TABLE @extschema@.consent_history (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    patron       text NOT NULL,
    purpose      text NOT NULL,
    channel      text NOT NULL,
    action       text NOT NULL CHECK (action IN ('grant', 'withdraw')),
    evidence     text,
    recorded_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    recorded_by  text NOT NULL
);
CREATE INDEX consent_history_patron ON @extschema@.consent_history (patron);
-- What a new patron starts with (library NULL: every library).
CREATE TABLE @extschema@.consent_defaults (
    library   text,
    purpose   text NOT NULL REFERENCES @extschema@.purposes (name),
    channel   text NOT NULL CHECK (channel IN ('email', 'phone', 'sms', 'mail')),
    builtin   boolean NOT NULL DEFAULT false,
    UNIQUE NULLS NOT DISTINCT (library, purpose, channel)
);
INSERT INTO @extschema@.consent_defaults (library, purpose, channel, builtin) VALUES (NULL, 'notices', 'email', true);
CREATE TABLE @extschema@.outbox_dropped (
    relation      regclass NOT NULL,
    purpose       text NOT NULL,
    channel       text NOT NULL,
    dropped       bigint NOT NULL,
    last_dropped  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (relation, purpose, channel)
);
SELECT pg_catalog.pg_extension_config_dump('@extschema@.consents', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.consent_history', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.consent_defaults', 'WHERE NOT builtin');

CREATE FUNCTION @extschema@.add_purpose(name text, description text, requires_evidence boolean DEFAULT false)
RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM @extschema@._require_admin('add_purpose');
    PERFORM @extschema@._require_args('add_purpose', ARRAY['name', 'description', 'requires_evidence'],
                                      ARRAY[name, description, requires_evidence::text]);
    IF name !~ '^[a-z][a-z0-9_]*$' THEN
        RAISE EXCEPTION 'add_purpose: % is not a valid purpose name', quote_literal(name)
            USING ERRCODE = 'invalid_parameter_value', HINT = 'Use lower-case letters, digits and underscores.';
    END IF;
    IF EXISTS (SELECT FROM @extschema@.purposes p WHERE p.name = add_purpose.name) THEN
        RAISE EXCEPTION 'add_purpose: purpose % already exists', quote_literal(name) USING ERRCODE = 'duplicate_object';
    END IF;
    INSERT INTO @extschema@.purposes (name, description, requires_evidence) VALUES (name, description, requires_evidence);
END $$;

-- Who records consent: staff and the ILS (judged by the session's login
-- role), administrators.  Patrons' own consent comes with the patron session.
CREATE FUNCTION @extschema@._consent_change(fn text, p_patron text, p_purpose text, p_channel text,
                                            grant_it boolean, p_evidence text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE needs_evidence boolean; was boolean;
BEGIN
    PERFORM @extschema@._require_args(fn, ARRAY['patron', 'purpose', 'channel'], ARRAY[p_patron, p_purpose, p_channel]);
    -- staff and the ILS record anyone's consent; a logged-in patron their own
    IF NOT (SELECT rolsuper FROM pg_roles WHERE rolname = session_user)
       AND @extschema@.class_of(session_user::regrole) NOT IN ('operational', 'staff')
       AND NOT (@extschema@.class_of(session_user::regrole) = 'patron'
                AND @extschema@.session_patron() IS NOT DISTINCT FROM p_patron AND p_patron IS NOT NULL) THEN
        RAISE EXCEPTION 'permission denied for %', fn
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = format('Role %I is of privacy class %s; staff or the ILS record consent, a logged-in patron their own.',
                                  session_user, @extschema@.class_of(session_user::regrole));
    END IF;
    SELECT requires_evidence INTO needs_evidence FROM @extschema@.purposes p WHERE p.name = p_purpose;
    IF needs_evidence IS NULL THEN
        RAISE EXCEPTION '%: unknown purpose %', fn, quote_literal(p_purpose) USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF p_channel NOT IN ('email', 'phone', 'sms', 'mail') THEN
        RAISE EXCEPTION '%: unknown channel %', fn, quote_literal(p_channel)
            USING ERRCODE = 'invalid_parameter_value', HINT = 'Use ''email'', ''phone'', ''sms'' or ''mail''.';
    END IF;
    IF grant_it AND needs_evidence AND coalesce(p_evidence, '') !~ '\S' THEN
        RAISE EXCEPTION '%: purpose % requires evidence of consent', fn, quote_literal(p_purpose)
            USING ERRCODE = 'invalid_parameter_value', HINT = 'Name the evidence, for example ''signed form of 2026-11-20''.';
    END IF;
    PERFORM @extschema@._require_patron(fn, p_patron);
    SELECT granted INTO was FROM @extschema@.consents c
     WHERE c.patron = p_patron AND c.purpose = p_purpose AND c.channel = p_channel
       FOR UPDATE;
    IF NOT grant_it AND was IS NOT TRUE THEN
        RETURN;     -- nothing to withdraw
    END IF;
    INSERT INTO @extschema@.consents AS c (patron, purpose, channel, granted, evidence, recorded_by)
    VALUES (p_patron, p_purpose, p_channel, grant_it, p_evidence, session_user)
    ON CONFLICT (patron, purpose, channel) DO UPDATE
       SET granted = EXCLUDED.granted, evidence = EXCLUDED.evidence, recorded_at = now(), recorded_by = session_user;
    INSERT INTO @extschema@.consent_history (patron, purpose, channel, action, evidence, recorded_by)
    VALUES (p_patron, p_purpose, p_channel, CASE WHEN grant_it THEN 'grant' ELSE 'withdraw' END, p_evidence, session_user);
    PERFORM @extschema@._audit(CASE WHEN grant_it THEN 'consent.grant' ELSE 'consent.withdraw' END,
        jsonb_build_object('patron', p_patron, 'purpose', p_purpose, 'channel', p_channel, 'evidence', p_evidence));
END $$;

CREATE FUNCTION @extschema@.grant_consent(patron text, purpose text, channel text, evidence text DEFAULT NULL)
RETURNS void LANGUAGE sql SET search_path = pg_catalog, pg_temp AS $$
    SELECT @extschema@._consent_change('grant_consent', patron, purpose, channel, true, evidence)
$$;
CREATE FUNCTION @extschema@.withdraw_consent(patron text, purpose text, channel text)
RETURNS void LANGUAGE sql SET search_path = pg_catalog, pg_temp AS $$
    SELECT @extschema@._consent_change('withdraw_consent', patron, purpose, channel, false, NULL)
$$;
-- A patron-class session (the role it acts as: SET ROLE, else the session
-- user) asks about its own logged-in patron only.
CREATE FUNCTION @extschema@.has_consent(patron text, purpose text, channel text) RETURNS boolean
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE acting name := coalesce(nullif(current_setting('role'), 'none'), session_user);
BEGIN
    IF @extschema@.class_of(acting::regrole) = 'patron'
       AND has_consent.patron IS DISTINCT FROM @extschema@.session_patron() THEN
        RAISE EXCEPTION 'permission denied for has_consent'
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = 'A patron session asks about the logged-in patron''s own consent only.';
    END IF;
    RETURN coalesce((SELECT granted FROM @extschema@.consents c
                      WHERE c.patron = has_consent.patron AND c.purpose = has_consent.purpose
                        AND c.channel = has_consent.channel), false);
END $$;

CREATE FUNCTION @extschema@._outbox_check() RETURNS trigger
    LANGUAGE c AS 'MODULE_PATHNAME', 'pals_privacy_outbox_check';
CREATE FUNCTION @extschema@._consents_changed() RETURNS trigger
    LANGUAGE c AS 'MODULE_PATHNAME', 'pals_privacy_consents_changed';
CREATE TRIGGER consents_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON @extschema@.consents
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@._consents_changed();

CREATE FUNCTION @extschema@._install_outbox_triggers(rel regclass) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE ob @extschema@.outbox_binding; t regclass;
BEGIN
    SELECT * INTO STRICT ob FROM @extschema@.outbox_binding b WHERE b.relation = rel;
    FOR t IN SELECT @extschema@._trigger_targets(rel) LOOP
        PERFORM @extschema@._drop_trigger(t, 'pals_privacy_outbox');
        EXECUTE format('CREATE TRIGGER pals_privacy_outbox BEFORE INSERT OR UPDATE OF %I, %I ON %s
                        FOR EACH ROW EXECUTE FUNCTION @extschema@._outbox_check()',
                       ob.patron_column, ob.channel_column, t);
    END LOOP;
END $$;

-- A new patron starts with the consents of consent_defaults for their library.
CREATE FUNCTION @extschema@._default_consents() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE pb @extschema@.patron_binding; id text; lib text; d record; n bigint;
BEGIN
    SELECT * INTO pb FROM @extschema@.patron_binding;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    id := to_jsonb(NEW) ->> pb.id_column;
    lib := CASE WHEN pb.library_column IS NOT NULL THEN to_jsonb(NEW) ->> pb.library_column END;
    FOR d IN SELECT DISTINCT purpose, channel FROM @extschema@.consent_defaults c
              WHERE c.library IS NULL OR c.library = lib LOOP
        INSERT INTO @extschema@.consents (patron, purpose, channel, granted, evidence, recorded_by)
        VALUES (id, d.purpose, d.channel, true, 'registration', session_user)
        ON CONFLICT DO NOTHING;
        GET DIAGNOSTICS n = ROW_COUNT;
        CONTINUE WHEN n = 0;    -- a consent on record already: history stays true to it
        INSERT INTO @extschema@.consent_history (patron, purpose, channel, action, evidence, recorded_by)
        VALUES (id, d.purpose, d.channel, 'grant', 'registration', session_user);
        PERFORM @extschema@._audit('consent.grant',
            jsonb_build_object('patron', id, 'purpose', d.purpose, 'channel', d.channel, 'evidence', 'registration'));
    END LOOP;
    RETURN NULL;
END $$;

------------------------------------------------------------------------------
-- The audit log (src/audit.c, docs/audit.md): append-only, hash-chained.
------------------------------------------------------------------------------

CREATE TABLE @extschema@.audit_log (
    id         bigint PRIMARY KEY,
    at         timestamptz NOT NULL,
    role       text NOT NULL,        -- the session (login) role
    class      text NOT NULL,        -- its privacy class
    event      text NOT NULL,
    details    jsonb,                -- never a PIN or a contact value
    prev_hash  bytea,
    hash       bytea NOT NULL
);
COMMENT ON TABLE @extschema@.audit_log IS 'Append-only audit log; each hash covers the entry and the previous hash';
SELECT pg_catalog.pg_extension_config_dump('@extschema@.audit_log', '');

CREATE FUNCTION @extschema@._audit_hash(prev bytea, content text) RETURNS bytea
    LANGUAGE c IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'pals_privacy_audit_hash';
CREATE FUNCTION @extschema@._audit(event text, details jsonb) RETURNS bigint
    LANGUAGE c SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    AS 'MODULE_PATHNAME', 'pals_privacy_audit_append';

-- The text each hash covers (the same as entry_content() in src/audit.c).
CREATE FUNCTION @extschema@._audit_content(e @extschema@.audit_log) RETURNS text
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT format('%s|%s|%s|%s|%s|%s', e.id, (extract(epoch FROM e.at) * 1000000)::bigint,
                  e.role, e.class, e.event, coalesce(e.details::text, ''))
$$;

-- Only a superuser may change or remove entries (and verify_audit() will
-- notice); nobody else can even read them but through the functions below.
CREATE FUNCTION @extschema@._audit_append_only() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
        RAISE EXCEPTION 'the audit log is append-only'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN CASE TG_OP WHEN 'DELETE' THEN OLD ELSE NEW END;
END $$;
CREATE TRIGGER append_only BEFORE UPDATE OR DELETE ON @extschema@.audit_log
    FOR EACH ROW EXECUTE FUNCTION @extschema@._audit_append_only();
CREATE TRIGGER append_only_truncate BEFORE TRUNCATE ON @extschema@.audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@._audit_append_only();

-- Auditors (by their login role) and superusers read the log.
CREATE FUNCTION @extschema@._require_auditor(fn text) RETURNS void
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF NOT (SELECT rolsuper FROM pg_roles WHERE rolname = session_user)
       AND @extschema@.class_of(session_user::regrole) <> 'auditor' THEN
        RAISE EXCEPTION 'permission denied for %', fn
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = format('Role %I is not of privacy class auditor.', session_user);
    END IF;
END $$;

CREATE FUNCTION @extschema@.verify_audit() RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE e @extschema@.audit_log; prev bytea; expected bigint;
BEGIN
    PERFORM @extschema@._require_auditor('verify_audit');
    FOR e IN SELECT * FROM @extschema@.audit_log ORDER BY id LOOP
        IF expected IS NULL AND e.event = 'audit.checkpoint' THEN
            -- retention removed what came before: the chain goes on from the
            -- hash this checkpoint carries (that of the last removed entry)
            prev := e.hash;
            expected := e.id + 1;
            CONTINUE;
        ELSIF expected IS NULL THEN
            IF e.id <> 1 THEN
                RETURN e.id;
            END IF;
            prev := e.prev_hash;
        ELSIF e.id <> expected OR e.prev_hash IS DISTINCT FROM prev THEN
            RETURN e.id;
        END IF;
        IF @extschema@._audit_hash(prev, @extschema@._audit_content(e)) <> e.hash THEN
            RETURN e.id;
        END IF;
        prev := e.hash;
        expected := e.id + 1;
    END LOOP;
    RETURN NULL;
END $$;

-- Retention: entries older than pals_privacy.audit_retention go; the last
-- removed one stays as a checkpoint (its id and hash kept, its content
-- replaced by what was removed), so the chain still verifies from there.
CREATE FUNCTION @extschema@._audit_prune() RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE keep interval; last_removed bigint; head bigint; n bigint;
BEGIN
    PERFORM @extschema@.current_class();   -- loads the library, which defines the setting
    keep := make_interval(mins => (SELECT setting::integer FROM pg_settings WHERE name = 'pals_privacy.audit_retention'));
    IF keep IS NULL OR keep = interval '0' THEN
        RETURN 0;
    END IF;
    SELECT max(id) INTO head FROM @extschema@.audit_log;
    SELECT max(id) INTO last_removed FROM @extschema@.audit_log WHERE at < now() - keep AND id < head;
    IF last_removed IS NULL THEN
        RETURN 0;
    END IF;
    PERFORM pg_advisory_xact_lock(8097872847766123876);   -- the appenders' lock ("pals_aud", src/audit.c)
    DELETE FROM @extschema@.audit_log WHERE id < last_removed;
    GET DIAGNOSTICS n = ROW_COUNT;
    UPDATE @extschema@.audit_log
       SET event = 'audit.checkpoint', prev_hash = NULL,
           details = jsonb_build_object('removed_through', last_removed, 'removed', n + 1,
                                        'older_than', now() - keep)
     WHERE id = last_removed AND event <> 'audit.checkpoint';
    RETURN n;
END $$;

CREATE FUNCTION @extschema@.audit_head(OUT id bigint, OUT hash text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM @extschema@._require_auditor('audit_head');
    SELECT a.id, encode(a.hash, 'hex') INTO id, hash FROM @extschema@.audit_log a ORDER BY a.id DESC LIMIT 1;
END $$;

CREATE FUNCTION @extschema@.audit_search(from_time timestamptz DEFAULT NULL, until_time timestamptz DEFAULT NULL,
                                         event_like text DEFAULT NULL, role_name text DEFAULT NULL)
RETURNS SETOF @extschema@.audit_log
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM @extschema@._require_auditor('audit_search');
    RETURN QUERY SELECT * FROM @extschema@.audit_log a
                  WHERE (from_time IS NULL OR a.at >= from_time) AND (until_time IS NULL OR a.at < until_time)
                    AND (event_like IS NULL OR a.event LIKE event_like) AND (role_name IS NULL OR a.role = role_name)
                  ORDER BY a.id;
END $$;

-- Every change to a binding or classification table is an audit entry.
CREATE FUNCTION @extschema@._audit_config_change() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM @extschema@._audit('binding.' || lower(TG_OP),
        jsonb_build_object('table', TG_TABLE_NAME,
                           'row', CASE TG_OP WHEN 'DELETE' THEN to_jsonb(OLD) ELSE to_jsonb(NEW) END));
    RETURN NULL;
END $$;
DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['patron_binding', 'card_binding', 'balance_binding',
                             'loan_binding', 'private_history_binding', 'contact_binding',
                             'outbox_binding', 'retention_rule', 'role_class', 'purposes']
    LOOP
        EXECUTE format('CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON @extschema@.%I
                        FOR EACH ROW EXECUTE FUNCTION @extschema@._audit_config_change()', t);
    END LOOP;
END $$;

-- Every finished maintenance run (counts only), and the head of the chain
-- to the server log, for comparison with a copy kept elsewhere.
CREATE FUNCTION @extschema@._audit_run() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE head_id bigint;
BEGIN
    head_id := @extschema@._audit('maintenance.' || NEW.kind,
                                  jsonb_build_object('run', NEW.id, 'dry_run', NEW.dry_run,
                                                     'counts', NEW.counts, 'error', NEW.error));
    IF NEW.kind = 'maintenance' THEN
        RAISE LOG 'pals_privacy: audit log head is entry % with hash %', head_id,
            (SELECT encode(hash, 'hex') FROM @extschema@.audit_log WHERE id = head_id);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER audit AFTER UPDATE OF finished_at ON @extschema@.maintenance_runs
    FOR EACH ROW WHEN (OLD.finished_at IS NULL AND NEW.finished_at IS NOT NULL)
    EXECUTE FUNCTION @extschema@._audit_run();

------------------------------------------------------------------------------
-- Legal orders: the only way to read identity the rules mask.
------------------------------------------------------------------------------

CREATE TABLE @extschema@.legal_orders (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    reference   text NOT NULL CHECK (reference <> ''),
    issued_by   text NOT NULL CHECK (issued_by <> ''),
    patron      text NOT NULL,
    expires     timestamptz NOT NULL,
    note        text,
    opened_at   timestamptz NOT NULL DEFAULT now(),
    opened_by   text NOT NULL,
    closed_at   timestamptz,
    closed_by   text
);
SELECT pg_catalog.pg_extension_config_dump('@extschema@.legal_orders', '');

CREATE FUNCTION @extschema@.open_legal_order(reference text, issued_by text, patron text,
                                             expires timestamptz, note text DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE order_id bigint;
BEGIN
    PERFORM @extschema@._require_auditor('open_legal_order');
    PERFORM @extschema@._require_args('open_legal_order', ARRAY['reference', 'issued_by', 'patron', 'expires'],
                                      ARRAY[reference, issued_by, patron, expires::text]);
    IF btrim(reference) = '' OR btrim(issued_by) = '' OR btrim(patron) = '' THEN
        RAISE EXCEPTION 'open_legal_order: the court reference, issuer and patron must not be empty'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF expires <= now() THEN
        RAISE EXCEPTION 'open_legal_order: the order would already have expired (%)', expires
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    PERFORM @extschema@._require_patron('open_legal_order', patron);
    INSERT INTO @extschema@.legal_orders (reference, issued_by, patron, expires, note, opened_by)
    VALUES (reference, issued_by, patron, expires, note, session_user) RETURNING id INTO order_id;
    PERFORM @extschema@._audit('legal_order.open',
        jsonb_build_object('order', order_id, 'reference', reference, 'issued_by', issued_by,
                           'expires', expires));
    RETURN order_id;
END $$;

CREATE FUNCTION @extschema@._legal_order(fn text, order_id bigint) RETURNS @extschema@.legal_orders
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE o @extschema@.legal_orders;
BEGIN
    PERFORM @extschema@._require_args(fn, ARRAY['order_id'], ARRAY[order_id::text]);
    SELECT * INTO o FROM @extschema@.legal_orders l WHERE l.id = order_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION '%: legal order % does not exist', fn, order_id USING ERRCODE = 'undefined_object';
    END IF;
    RETURN o;
END $$;

CREATE FUNCTION @extschema@.close_legal_order(order_id bigint) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE o @extschema@.legal_orders;
BEGIN
    PERFORM @extschema@._require_auditor('close_legal_order');
    o := @extschema@._legal_order('close_legal_order', order_id);
    IF o.closed_at IS NOT NULL THEN
        RAISE EXCEPTION 'close_legal_order: legal order % is already closed', order_id
            USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    UPDATE @extschema@.legal_orders l SET closed_at = now(), closed_by = session_user WHERE l.id = order_id;
    PERFORM @extschema@._audit('legal_order.close', jsonb_build_object('order', order_id));
END $$;

-- The patron's rows from every bound relation, under an open order; the
-- disclosure itself (relations and counts) goes to the audit log.
CREATE FUNCTION @extschema@.disclose_history(order_id bigint)
RETURNS TABLE (relation regclass, row_data jsonb)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    o @extschema@.legal_orders;
    b record;
    t text;
    n bigint;
    counts jsonb := '{}';
BEGIN
    PERFORM @extschema@._require_auditor('disclose_history');
    o := @extschema@._legal_order('disclose_history', order_id);
    IF o.closed_at IS NOT NULL OR o.expires <= now() THEN
        RAISE EXCEPTION 'disclose_history: legal order % is %', order_id,
                CASE WHEN o.closed_at IS NOT NULL THEN 'closed' ELSE 'expired' END
            USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    FOR b IN SELECT l.relation, l.patron_column FROM @extschema@.loan_binding l
             UNION ALL SELECT h.relation, h.patron_column FROM @extschema@.private_history_binding h
    LOOP
        t := @extschema@._column_type_name(b.relation, b.patron_column);
        RETURN QUERY EXECUTE format('SELECT %L::regclass, to_jsonb(x) FROM %s x WHERE x.%I = $1::%s',
                                    b.relation, b.relation, b.patron_column, t) USING o.patron;
        GET DIAGNOSTICS n = ROW_COUNT;
        counts := counts || jsonb_build_object(b.relation::text, n);
    END LOOP;
    RETURN QUERY SELECT 'pals_privacy.private_history'::regclass, to_jsonb(h) FROM @extschema@.private_history h
                  WHERE h.patron = o.patron;
    GET DIAGNOSTICS n = ROW_COUNT;
    counts := counts || jsonb_build_object('pals_privacy.private_history', n);
    PERFORM @extschema@._audit('legal_order.disclose', jsonb_build_object('order', order_id, 'rows', counts));
    -- The audit entry is part of this transaction; the server log line is not:
    -- a disclosure rolled back after its rows were read still leaves a trace.
    RAISE LOG 'pals_privacy: legal order % disclosed to role % (rows: %)', order_id, session_user, counts;
END $$;

------------------------------------------------------------------------------
-- Yearly acknowledgment of the policy by staff.
------------------------------------------------------------------------------

CREATE TABLE @extschema@.policy_acknowledgments (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    role             text NOT NULL,
    version          text NOT NULL CHECK (version <> ''),
    acknowledged_at  timestamptz NOT NULL DEFAULT clock_timestamp()
);
SELECT pg_catalog.pg_extension_config_dump('@extschema@.policy_acknowledgments', '');

CREATE FUNCTION @extschema@.acknowledge_policy(version text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM @extschema@._require_args('acknowledge_policy', ARRAY['version'], ARRAY[version]);
    INSERT INTO @extschema@.policy_acknowledgments (role, version) VALUES (session_user, version);
    PERFORM @extschema@._audit('policy.acknowledge', jsonb_build_object('version', version));
END $$;

CREATE VIEW @extschema@.acknowledgments AS
    SELECT DISTINCT ON (role) role, version, acknowledged_at
      FROM @extschema@.policy_acknowledgments
     ORDER BY role, id DESC;

------------------------------------------------------------------------------
-- Row security on bound tables (docs/redaction.md, "Integrity errors").
-- Every bound table, with its partitions and inheritance children, gets row
-- security with one policy that lets every row through: what a role reads is
-- the planner hook's business.  Seeing row security on, PostgreSQL leaves
-- stored values out of the DETAIL of integrity errors (unique, foreign key,
-- check, not null), even when PL/pgSQL catches them, and out of pg_stats.
-- Tables that had row security already keep theirs as it is.
------------------------------------------------------------------------------

-- Called by every bind and unbind call (not by a trigger on the binding
-- tables: a restore brings the tables' row security and policy back itself).
-- The policy marks the tables whose row security pals_privacy turned on.
CREATE FUNCTION @extschema@._sync_row_security() RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE t oid; bound oid[];
BEGIN
    WITH RECURSIVE b(rel) AS (
        SELECT x.relation::oid FROM @extschema@.bindings x WHERE x.kind <> 'retain'
        UNION
        SELECT i.inhrelid FROM pg_inherits i JOIN b ON i.inhparent = b.rel)
    SELECT coalesce(array_agg(c.oid), '{}') INTO bound
      FROM b JOIN pg_class c ON c.oid = b.rel WHERE c.relkind IN ('r', 'p');

    FOR t IN SELECT c.oid FROM pg_class c WHERE c.oid = ANY (bound) AND NOT c.relrowsecurity LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_policy WHERE polrelid = t AND polname = 'pals_privacy_redaction') THEN
            EXECUTE format('CREATE POLICY pals_privacy_redaction ON %s USING (true) WITH CHECK (true)', t::regclass);
        END IF;
        EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', t::regclass);
    END LOOP;

    FOR t IN SELECT polrelid FROM pg_policy
              WHERE polname = 'pals_privacy_redaction' AND polrelid <> ALL (bound) LOOP
        -- the policy first: the ALTER runs the DDL event trigger, which syncs again
        EXECUTE format('DROP POLICY pals_privacy_redaction ON %s', t::regclass);
        EXECUTE format('ALTER TABLE %s DISABLE ROW LEVEL SECURITY', t::regclass);
    END LOOP;
END $$;

------------------------------------------------------------------------------
-- Redaction (src/redact.c, docs/redaction.md): the functions the rewritten
-- queries of redacted roles call, so every role may execute them.
------------------------------------------------------------------------------

-- Is this row (the relation holding it, its tid) the item's last borrower?
CREATE FUNCTION @extschema@._last_borrower(binding oid, item text, row_relid oid, row_tid tid)
    RETURNS boolean LANGUAGE c STABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'pals_privacy_last_borrower';
-- Statistics (pg_stats, pg_stats_ext) of bound relations are hidden from redacted classes.
CREATE FUNCTION @extschema@._stats_visible(relation oid) RETURNS boolean
    LANGUAGE c STABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'pals_privacy_stats_visible';
CREATE FUNCTION @extschema@._stats_ext_visible(statistics oid) RETURNS boolean
    LANGUAGE c STABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'pals_privacy_stats_ext_visible';
-- Does the patron owe more than pals_privacy.collections_threshold? (collections class only)
CREATE FUNCTION @extschema@._collectible(patron text) RETURNS boolean
    LANGUAGE c STABLE STRICT PARALLEL RESTRICTED AS 'MODULE_PATHNAME', 'pals_privacy_collectible';
-- Has the session user acknowledged the policy within a year? (pals_privacy.require_acknowledgment)
CREATE FUNCTION @extschema@._acknowledged() RETURNS boolean
    LANGUAGE c STABLE PARALLEL RESTRICTED AS 'MODULE_PATHNAME', 'pals_privacy_acknowledged';
-- The minors the logged-in patron is guardian of (pals_privacy.guardian_access).
CREATE FUNCTION @extschema@._wards() RETURNS text[]
    LANGUAGE c STABLE PARALLEL RESTRICTED AS 'MODULE_PATHNAME', 'pals_privacy_wards';
-- Did the patron consent to the purpose on the channel? (contact fields under a purpose)
CREATE FUNCTION @extschema@._contact_visible(patron text, purpose text, channel text) RETURNS boolean
    LANGUAGE c STABLE STRICT PARALLEL RESTRICTED AS 'MODULE_PATHNAME', 'pals_privacy_contact_visible';

------------------------------------------------------------------------------
-- Privileges: configuration is for the extension owner and superusers.
------------------------------------------------------------------------------

DO $$
DECLARE f regprocedure;
BEGIN
    FOR f IN SELECT p.oid FROM pg_proc p JOIN pg_depend d ON d.objid = p.oid AND d.classid = 'pg_proc'::regclass
              WHERE d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'pals_privacy') AND d.deptype = 'e'
    LOOP
        EXECUTE format('REVOKE ALL ON ROUTINE %s FROM PUBLIC', f);
    END LOOP;
END $$;
GRANT EXECUTE ON FUNCTION @extschema@.current_class() TO PUBLIC;
-- checks only; they let a role that was granted EXECUTE on a binding call get the real error
GRANT EXECUTE ON FUNCTION @extschema@._require_admin(text) TO PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@._require_args(text, text[], anyarray) TO PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.class_of(regrole) TO PUBLIC;
GRANT SELECT ON @extschema@.bindings TO PUBLIC;
-- audit and legal-order functions check the caller's class themselves
GRANT EXECUTE ON FUNCTION @extschema@.verify_audit(), @extschema@.audit_head(),
    @extschema@.audit_search(timestamptz, timestamptz, text, text),
    @extschema@.open_legal_order(text, text, text, timestamptz, text),
    @extschema@.close_legal_order(bigint), @extschema@.disclose_history(bigint),
    @extschema@.acknowledge_policy(text) TO PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.set_pin(text, text), @extschema@.login(text, text),
    @extschema@.logout(), @extschema@.session_patron() TO PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.grant_consent(text, text, text, text),
    @extschema@.withdraw_consent(text, text, text), @extschema@.has_consent(text, text, text),
    @extschema@._consent_change(text, text, text, text, boolean, text) TO PUBLIC;
GRANT SELECT ON @extschema@.acknowledgments TO PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@._last_borrower(oid, text, oid, tid),
    @extschema@._stats_visible(oid), @extschema@._stats_ext_visible(oid),
    @extschema@._collectible(text), @extschema@._contact_visible(text, text, text),
    @extschema@._acknowledged(), @extschema@._wards() TO PUBLIC;
