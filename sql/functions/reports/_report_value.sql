CREATE OR REPLACE FUNCTION @extschema@._report_value(rows jsonb, s text, r text, m text) RETURNS numeric
LANGUAGE sql IMMUTABLE AS $$
    SELECT coalesce((SELECT (e ->> 'value')::numeric FROM jsonb_array_elements(rows) e
                      WHERE e ->> 'section' = s AND (e ->> 'relation') IS NOT DISTINCT FROM r
                        AND e ->> 'measure' = m LIMIT 1), 0)
$$;

REVOKE ALL ON FUNCTION @extschema@._report_value(jsonb,text,text,text) FROM PUBLIC;
