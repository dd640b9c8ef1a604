-- The age bracket of a birth date at a time ('unknown' without one).  The
-- record itself is written by one INSERT that src/pseudonym.c prepares per
-- loan binding (the patron's birth date and library read by the patron
-- table's id).
CREATE OR REPLACE FUNCTION @extschema@._age_bracket(birth date, at timestamptz) RETURNS text
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

REVOKE ALL ON FUNCTION @extschema@._age_bracket(date,timestamp with time zone) FROM PUBLIC;
