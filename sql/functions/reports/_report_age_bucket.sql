CREATE OR REPLACE FUNCTION @extschema@._report_age_bucket(closed_at timestamptz) RETURNS integer
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT CASE WHEN closed_at IS NULL OR closed_at = 'infinity' OR closed_at = '-infinity' THEN 8
                WHEN now() - closed_at < interval '1 day' THEN 1
                WHEN now() - closed_at < interval '7 days' THEN 2
                WHEN now() - closed_at < interval '30 days' THEN 3
                WHEN now() - closed_at < interval '90 days' THEN 4
                WHEN now() - closed_at < interval '365 days' THEN 5
                WHEN now() - closed_at < interval '730 days' THEN 6
                ELSE 7 END
$$;

REVOKE ALL ON FUNCTION @extschema@._report_age_bucket(timestamp with time zone) FROM PUBLIC;
