-- A number of the report, tagged with the row it comes from.
CREATE OR REPLACE FUNCTION @extschema@._report_num(rows jsonb, s text, r text, m text, tag text DEFAULT 'span',
                                        attrs text DEFAULT '') RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT format('<%s%s data-section="%s" data-relation="%s" data-measure="%s">%s</%s>',
                  tag, attrs, @extschema@._html(s), @extschema@._html(coalesce(r, '')), @extschema@._html(m),
                  coalesce((SELECT e ->> 'value' FROM jsonb_array_elements(rows) e
                             WHERE e ->> 'section' = s AND (e ->> 'relation') IS NOT DISTINCT FROM r
                               AND e ->> 'measure' = m LIMIT 1), '–'),
                  tag)
$$;

REVOKE ALL ON FUNCTION @extschema@._report_num(jsonb,text,text,text,text,text) FROM PUBLIC;
