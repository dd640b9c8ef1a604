------------------------------------------------------------------------------
-- Statistics without identity (issue 19, docs/statistics.md).  When a loan
-- binding collects statistics, every row severed through the severing
-- mechanism (a return, the backlog, a pending sever retried) first leaves a
-- pseudonymous record: a keyed pseudonym of the patron (HMAC-SHA256 under
-- the current period's secret key, src/pseudonym.c), the patron's age
-- bracket and home library, the item and the closed date coarsened.  Keys
-- rotate every pals_privacy.pseudonym_period and ended periods' keys are
-- destroyed.  Only the statistics class reads the records; only the
-- extension owner reads the keys.
------------------------------------------------------------------------------

-- The statistics class: reads no row of any bound relation, reads the
-- pseudonymous records (pals_privacy.loan_statistics) and unbound tables it
-- is granted (the library catalogue).
ALTER TABLE @extschema@.role_class DROP CONSTRAINT IF EXISTS role_class_class_check;
ALTER TABLE @extschema@.role_class ADD CONSTRAINT role_class_class_check
    CHECK (class IN ('operational', 'staff', 'patron', 'collections', 'auditor', 'statistics'));

CREATE OR REPLACE FUNCTION @extschema@.classify_role(role regrole, class text, purpose text DEFAULT NULL)
RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE fn constant text := 'classify_role';
BEGIN
    PERFORM @extschema@._require_admin(fn);
    PERFORM @extschema@._require_args(fn, ARRAY['role', 'class'], ARRAY[role::text, class]);
    IF class NOT IN ('operational', 'staff', 'patron', 'collections', 'auditor', 'statistics') THEN
        RAISE EXCEPTION '%: unknown privacy class %', fn, quote_literal(class)
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Use operational, staff, patron, collections, auditor or statistics.';
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

-- Which loan bindings collect statistics, and how coarse their dates are.
CREATE TABLE @extschema@.statistics_binding (
    relation     regclass PRIMARY KEY,    -- a loan binding
    granularity  text NOT NULL DEFAULT 'month'
                 CHECK (granularity IN ('day', 'week', 'month', 'quarter', 'year')),
    bound_at     timestamptz NOT NULL DEFAULT now(),
    bound_by     name NOT NULL DEFAULT current_user
);
SELECT pg_catalog.pg_extension_config_dump('@extschema@.statistics_binding', '');
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON @extschema@.statistics_binding
    FOR EACH ROW EXECUTE FUNCTION @extschema@._audit_config_change();
-- every backend's cache of this table is dropped when it changes (src/pseudonym.c)
CREATE FUNCTION @extschema@._statistics_binding_changed() RETURNS trigger
    LANGUAGE c AS 'MODULE_PATHNAME', 'pals_privacy_statistics_binding_changed';
CREATE TRIGGER statistics_binding_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
    ON @extschema@.statistics_binding FOR EACH STATEMENT
    EXECUTE FUNCTION @extschema@._statistics_binding_changed();

-- A loan binding removed (unbind) takes its statistics option with it, so
-- that binding the relation again never resumes records unasked.
CREATE FUNCTION @extschema@._statistics_unbound() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    DELETE FROM @extschema@.statistics_binding s WHERE s.relation = OLD.relation;
    RETURN NULL;
END $$;
CREATE TRIGGER statistics_unbound AFTER DELETE ON @extschema@.loan_binding
    FOR EACH ROW EXECUTE FUNCTION @extschema@._statistics_unbound();

-- The pseudonymous records.  No id, no timestamp finer than the binding's
-- granularity: nothing orders them like the returns they come from.
CREATE TABLE @extschema@.pseudonymous_loans (
    relation     regclass NOT NULL,       -- the loan binding
    period       timestamptz NOT NULL,    -- start of the key period the pseudonym belongs to
    pseudonym    text NOT NULL,           -- hex HMAC-SHA256(period key, patron id)
    age_bracket  text NOT NULL,           -- at the time the loan closed; 'unknown' without a birth date
    library      text,                    -- the patron's home library (bind_patrons library_column)
    item         text,
    closed_on    date NOT NULL            -- the closed date, truncated to the granularity
);
CREATE INDEX pseudonymous_loans_period ON @extschema@.pseudonymous_loans (period, relation);
REVOKE ALL ON @extschema@.pseudonymous_loans FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('@extschema@.pseudonymous_loans', '');

-- The keys, one per period.  Only the extension owner can read this table
-- (and superusers, who are exempt from everything).  It is NOT dumped by
-- pg_dump: a restored database starts a new key, and no dump carries a key.
-- An ended period's key is overwritten with NULL (destroyed_at set) by the
-- first use of the keys after the period ended, by rotate_pseudonym_key()
-- and by every read of the statistics.
CREATE TABLE @extschema@.pseudonym_keys (
    period_start  timestamptz PRIMARY KEY,
    period_end    timestamptz NOT NULL,
    key           bytea,                  -- 32 random bytes (OpenSSL); NULL once destroyed
    created_at    timestamptz NOT NULL DEFAULT now(),
    destroyed_at  timestamptz,
    CHECK (period_end > period_start),
    CHECK ((key IS NULL) = (destroyed_at IS NOT NULL))
);
REVOKE ALL ON @extschema@.pseudonym_keys FROM PUBLIC;
-- a backend keeps the current key in its memory until the table changes (a
-- new period, a rotation, a destruction) or the period ends
CREATE TRIGGER pseudonym_keys_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
    ON @extschema@.pseudonym_keys FOR EACH STATEMENT
    EXECUTE FUNCTION @extschema@._statistics_binding_changed();

CREATE FUNCTION @extschema@._random_key() RETURNS bytea
    LANGUAGE c AS 'MODULE_PATHNAME', 'pals_privacy_random_key';
CREATE FUNCTION @extschema@._pseudonym_period() RETURNS text
    LANGUAGE c STABLE AS 'MODULE_PATHNAME', 'pals_privacy_pseudonym_period';

-- Destroy the keys of ended periods.  Returns how many were destroyed.
CREATE FUNCTION @extschema@._destroy_ended_keys() RETURNS integer
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE n integer := 0; p record;
BEGIN
    FOR p IN UPDATE @extschema@.pseudonym_keys k SET key = NULL, destroyed_at = clock_timestamp()
              WHERE k.key IS NOT NULL AND k.period_end <= clock_timestamp()
              RETURNING k.period_start, k.period_end LOOP
        PERFORM @extschema@._audit('pseudonym_key.destroy',
            jsonb_build_object('period_start', p.period_start, 'period_end', p.period_end));
        n := n + 1;
    END LOOP;
    RETURN n;
END $$;

-- The current period's key, made if there is none (C calls this as the
-- extension owner; nobody else may execute it).
CREATE FUNCTION @extschema@._current_pseudonym_key(OUT period_start timestamptz, OUT period_end timestamptz,
                                                    OUT key bytea)
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_column
DECLARE
    unit text := @extschema@._pseudonym_period();
    t timestamptz := clock_timestamp();     -- periods are wall-clock time, not the transaction's
    s timestamptz;
    e timestamptz;
BEGIN
    SELECT k.period_start, k.period_end, k.key INTO period_start, period_end, key FROM @extschema@.pseudonym_keys k
     WHERE k.key IS NOT NULL AND k.period_start <= t AND t < k.period_end;
    IF FOUND THEN
        RETURN;
    END IF;
    PERFORM @extschema@._destroy_ended_keys();
    -- calendar periods (UTC); a period rotated early starts when the rotation happened
    e := date_trunc(unit, t, 'UTC') + CASE unit WHEN 'quarter' THEN interval '3 months' ELSE ('1 ' || unit)::interval END;
    s := greatest(date_trunc(unit, t, 'UTC'),
                  (SELECT max(k.period_end) FROM @extschema@.pseudonym_keys k WHERE k.period_end <= t));
    INSERT INTO @extschema@.pseudonym_keys AS k (period_start, period_end, key)
    VALUES (s, e, @extschema@._random_key())
    ON CONFLICT ON CONSTRAINT pseudonym_keys_pkey DO NOTHING;
    IF FOUND THEN
        PERFORM @extschema@._audit('pseudonym_key.create', jsonb_build_object('period_start', s, 'period_end', e));
    END IF;
    SELECT k.period_start, k.period_end, k.key INTO STRICT period_start, period_end, key FROM @extschema@.pseudonym_keys k
     WHERE k.period_start = s AND k.key IS NOT NULL;
END $$;

-- The age bracket of a birth date at a time ('unknown' without one).  The
-- record itself is written by one INSERT that src/pseudonym.c prepares per
-- loan binding (the patron's birth date and library read by the patron
-- table's id).
CREATE FUNCTION @extschema@._age_bracket(birth date, at timestamptz) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN a IS NULL OR a < 0 THEN 'unknown'
                WHEN a < 13 THEN '0-12'
                WHEN a < 18 THEN '13-17'
                WHEN a < 25 THEN '18-24'
                WHEN a < 45 THEN '25-44'
                WHEN a < 65 THEN '45-64'
                ELSE '65+' END
      FROM (SELECT extract(year FROM pg_catalog.age((at AT TIME ZONE 'UTC')::date, birth))::integer AS a) x
$$;

-- Turn statistics on (or change the granularity) for a loan binding, or off.
CREATE FUNCTION @extschema@.collect_statistics(relation regclass, granularity text DEFAULT 'month')
RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE fn constant text := 'collect_statistics';
BEGIN
    PERFORM @extschema@._require_admin(fn);
    PERFORM @extschema@._require_args(fn, ARRAY['relation', 'granularity'], ARRAY[relation::text, granularity]);
    IF NOT EXISTS (SELECT FROM @extschema@.loan_binding b WHERE b.relation = collect_statistics.relation) THEN
        RAISE EXCEPTION '%: "%" is not bound with bind_loans()', fn, relation
            USING ERRCODE = 'undefined_object', HINT = 'Statistics are an option of a loan binding: bind it first.';
    END IF;
    IF granularity NOT IN ('day', 'week', 'month', 'quarter', 'year') THEN
        RAISE EXCEPTION '%: unknown granularity %', fn, quote_literal(granularity)
            USING ERRCODE = 'invalid_parameter_value', HINT = 'Use day, week, month, quarter or year.';
    END IF;
    INSERT INTO @extschema@.statistics_binding AS s (relation, granularity) VALUES (relation, granularity)
    ON CONFLICT ON CONSTRAINT statistics_binding_pkey DO UPDATE
       SET granularity = EXCLUDED.granularity, bound_at = now(), bound_by = current_user;
END $$;

CREATE FUNCTION @extschema@.stop_statistics(relation regclass)
RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM @extschema@._require_admin('stop_statistics');
    DELETE FROM @extschema@.statistics_binding s WHERE s.relation = stop_statistics.relation;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'stop_statistics: "%" does not collect statistics', relation USING ERRCODE = 'undefined_object';
    END IF;
END $$;

-- End the current key period now (a key that may have leaked, or a test):
-- its key is destroyed at once; the next record starts a new period.
CREATE FUNCTION @extschema@.rotate_pseudonym_key() RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM @extschema@._require_admin('rotate_pseudonym_key');
    UPDATE @extschema@.pseudonym_keys k SET period_end = greatest(clock_timestamp(), k.period_start + interval '1 microsecond')
     WHERE k.key IS NOT NULL AND k.period_end > clock_timestamp();
    -- the ended period's key goes now, not at the next use
    UPDATE @extschema@.pseudonym_keys k SET key = NULL, destroyed_at = clock_timestamp()
     WHERE k.key IS NOT NULL;
    PERFORM @extschema@._audit('pseudonym_key.rotate', '{}');
END $$;

-- What the statistics class reads: the records, nothing else of the
-- extension.  Other roles read no row (superusers read all).
CREATE VIEW @extschema@.loan_statistics WITH (security_barrier) AS
    SELECT s.relation, s.period, s.pseudonym, s.age_bracket, s.library, s.item, s.closed_on
      FROM @extschema@.pseudonymous_loans s
     WHERE @extschema@.current_class() = 'statistics'
        OR (SELECT r.rolsuper FROM pg_catalog.pg_roles r WHERE r.rolname = current_user);
COMMENT ON VIEW @extschema@.loan_statistics IS
    'Pseudonymous loan records (statistics class and superusers only); see docs/statistics.md';
GRANT SELECT ON @extschema@.loan_statistics TO PUBLIC;

-- Counts of loans and distinct pseudonymous patrons per key period, for
-- every combination of age bracket and library (NULL = all), with every
-- group of fewer than pals_privacy.min_group_size patrons suppressed, and
-- enough other groups suppressed with them that no suppressed count can be
-- recovered by subtraction from a total of its row or column.
CREATE FUNCTION @extschema@.export_statistics(period_from timestamptz DEFAULT NULL, period_to timestamptz DEFAULT NULL,
                                              relation regclass DEFAULT NULL)
RETURNS TABLE (period timestamptz, age_bracket text, library text, loans bigint, patrons bigint, suppressed boolean)
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp SET client_min_messages = warning AS $$
#variable_conflict use_column
DECLARE
    k integer;
    changed boolean;
    rounds integer := 0;
BEGIN
    IF @extschema@.current_class() <> 'statistics'
       AND NOT (SELECT r.rolsuper FROM pg_catalog.pg_roles r WHERE r.rolname = current_user) THEN
        RAISE EXCEPTION 'permission denied for export_statistics'
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = format('Role %I is of privacy class %s.', current_user, @extschema@.current_class()),
                  HINT = 'Statistics are read by roles of class statistics: pals_privacy.classify_role(role, ''statistics'').';
    END IF;
    k := current_setting('pals_privacy.min_group_size')::integer;
    DROP TABLE IF EXISTS pg_temp.pals_export;
    CREATE TEMP TABLE pals_export ON COMMIT DROP AS
        SELECT s.period, s.age_bracket, s.library, count(*) AS loans, count(DISTINCT s.pseudonym) AS patrons,
               GROUPING(s.age_bracket) = 1 AS all_ages, GROUPING(s.library) = 1 AS all_libraries,
               false AS suppressed
          FROM @extschema@.loan_statistics s
         WHERE (period_from IS NULL OR s.period >= period_from) AND (period_to IS NULL OR s.period <= period_to)
           AND (export_statistics.relation IS NULL OR s.relation = export_statistics.relation)
         GROUP BY GROUPING SETS ((s.period, s.age_bracket, s.library), (s.period, s.age_bracket),
                                 (s.period, s.library), (s.period));
    -- primary suppression: fewer than k patrons
    UPDATE pg_temp.pals_export SET suppressed = true WHERE patrons < k;
    -- complementary suppression: a row or column of cells whose total is published must
    -- not have exactly one suppressed cell; suppress its smallest other cell too
    LOOP
        changed := false;
        rounds := rounds + 1;
        WITH lone AS (    -- (period, age bracket) rows over libraries
            SELECT c.period, c.age_bracket FROM pg_temp.pals_export c
             WHERE NOT c.all_ages AND NOT c.all_libraries
             GROUP BY 1, 2 HAVING count(*) FILTER (WHERE c.suppressed) = 1 AND count(*) > 1),
        pick AS (
            SELECT DISTINCT ON (c.period, c.age_bracket) c.period, c.age_bracket, c.library
              FROM pg_temp.pals_export c JOIN lone USING (period, age_bracket)
             WHERE NOT c.all_ages AND NOT c.all_libraries AND NOT c.suppressed
             ORDER BY c.period, c.age_bracket, c.patrons, c.library)
        UPDATE pg_temp.pals_export c SET suppressed = true FROM pick
         WHERE c.period = pick.period AND c.age_bracket = pick.age_bracket
           AND c.library IS NOT DISTINCT FROM pick.library AND NOT c.all_ages AND NOT c.all_libraries;
        changed := changed OR FOUND;
        WITH lone AS (    -- (period, library) columns over age brackets
            SELECT c.period, c.library FROM pg_temp.pals_export c
             WHERE NOT c.all_ages AND NOT c.all_libraries
             GROUP BY 1, 2 HAVING count(*) FILTER (WHERE c.suppressed) = 1 AND count(*) > 1),
        pick AS (
            SELECT DISTINCT ON (c.period, c.library) c.period, c.library, c.age_bracket
              FROM pg_temp.pals_export c JOIN lone ON lone.period = c.period AND lone.library IS NOT DISTINCT FROM c.library
             WHERE NOT c.all_ages AND NOT c.all_libraries AND NOT c.suppressed
             ORDER BY c.period, c.library, c.patrons, c.age_bracket)
        UPDATE pg_temp.pals_export c SET suppressed = true FROM pick
         WHERE c.period = pick.period AND c.library IS NOT DISTINCT FROM pick.library
           AND c.age_bracket = pick.age_bracket AND NOT c.all_ages AND NOT c.all_libraries;
        changed := changed OR FOUND;
        -- the margins themselves: one suppressed age-bracket total (or library total) in a period
        WITH lone AS (
            SELECT c.period, c.all_ages FROM pg_temp.pals_export c
             WHERE c.all_ages <> c.all_libraries
             GROUP BY 1, 2 HAVING count(*) FILTER (WHERE c.suppressed) = 1 AND count(*) > 1),
        pick AS (
            SELECT DISTINCT ON (c.period, c.all_ages) c.period, c.all_ages, c.age_bracket, c.library
              FROM pg_temp.pals_export c JOIN lone USING (period, all_ages)
             WHERE c.all_ages <> c.all_libraries AND NOT c.suppressed
             ORDER BY c.period, c.all_ages, c.patrons, c.age_bracket, c.library)
        UPDATE pg_temp.pals_export c SET suppressed = true FROM pick
         WHERE c.period = pick.period AND c.all_ages = pick.all_ages AND c.all_ages <> c.all_libraries
           AND c.age_bracket IS NOT DISTINCT FROM pick.age_bracket AND c.library IS NOT DISTINCT FROM pick.library;
        changed := changed OR FOUND;
        EXIT WHEN NOT changed OR rounds > 100;
    END LOOP;
    RETURN QUERY
        SELECT c.period, c.age_bracket, c.library,
               CASE WHEN c.suppressed THEN NULL ELSE c.loans END,
               CASE WHEN c.suppressed THEN NULL ELSE c.patrons END, c.suppressed
          FROM pg_temp.pals_export c
         ORDER BY c.period, c.all_ages DESC, c.all_libraries DESC, c.age_bracket, c.library;
END $$;
COMMENT ON FUNCTION @extschema@.export_statistics(timestamptz, timestamptz, regclass) IS
    'Loans and patrons per period, age bracket and library, groups under pals_privacy.min_group_size patrons suppressed';

REVOKE ALL ON FUNCTION @extschema@._random_key(), @extschema@._pseudonym_period(),
    @extschema@._destroy_ended_keys(), @extschema@._current_pseudonym_key(),
    @extschema@._age_bracket(date, timestamptz),
    @extschema@._statistics_binding_changed(), @extschema@._statistics_unbound(),
    @extschema@.collect_statistics(regclass, text), @extschema@.stop_statistics(regclass),
    @extschema@.rotate_pseudonym_key() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.export_statistics(timestamptz, timestamptz, regclass) TO PUBLIC;
