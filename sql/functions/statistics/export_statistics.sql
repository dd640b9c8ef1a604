-- Counts of loans and distinct pseudonymous patrons per key period, for
-- every combination of age bracket and library (NULL = all), with every
-- group of fewer than pals_privacy.min_group_size patrons suppressed, and
-- enough other groups suppressed with them that no suppressed count can be
-- recovered by subtraction from a total of its row or column.
CREATE OR REPLACE FUNCTION @extschema@.export_statistics(period_from timestamptz DEFAULT NULL, period_to timestamptz DEFAULT NULL,
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

GRANT EXECUTE ON FUNCTION @extschema@.export_statistics(timestamp with time zone,timestamp with time zone,regclass) TO PUBLIC;
