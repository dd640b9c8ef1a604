CREATE OR REPLACE FUNCTION @extschema@.compliance_report_html() RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_column
DECLARE
    rows jsonb;
    h text;
    failing bigint;
    checks bigint;
    rels text[];
    rel text;
    kinds constant text[] := ARRAY['last_borrower', 'unsettled', 'opted_in', 'pending', 'not_severed'];
    kind_labels constant text[] := ARRAY['last borrower (kept)', 'fines owed (kept)', 'opted in, in place (kept)',
                                         'sever pending (should be gone)', 'never severed (should be gone)'];
    kind_colors constant text[] := ARRAY['#4e79a7', '#f28e2b', '#76b7b2', '#e15759', '#8b0a1a'];
    labels constant text[] := @extschema@._report_age_labels();
    maxv numeric;
    v numeric;
    x numeric;
    y integer;
    w numeric;
    i integer;
    rec jsonb;
    svg text;
    tile text;
BEGIN
    PERFORM @extschema@._require_auditor('compliance_report_html');
    SELECT jsonb_agg(to_jsonb(r) ORDER BY n) INTO rows FROM @extschema@.compliance_report() WITH ORDINALITY r(section, relation, measure, value, ok, detail, n);
    SELECT count(*) FILTER (WHERE NOT (e ->> 'ok')::boolean), count(*) FILTER (WHERE e ->> 'ok' IS NOT NULL)
      INTO failing, checks
      FROM jsonb_array_elements(rows) e WHERE e ->> 'relation' IS DISTINCT FROM 'total';
    SELECT array_agg(DISTINCT e ->> 'relation' ORDER BY e ->> 'relation') INTO rels
      FROM jsonb_array_elements(rows) e WHERE e ->> 'section' = 'identified_closed' AND e ->> 'relation' <> 'total';
    rels := coalesce(rels, '{}') || CASE WHEN cardinality(rels) > 0 THEN ARRAY['total'] ELSE '{}' END;

    h := '<!DOCTYPE html>' || E'\n' || '<html lang="en"><head><meta charset="utf-8">'
      || '<title>pals_privacy compliance report</title><style>'
      || '@page{size:A4;margin:12mm}'
      || 'body{font:13px/1.35 "DejaVu Sans",Helvetica,Arial,sans-serif;color:#222;margin:18px auto;max-width:1000px}'
      || 'h1{font-size:21px;margin:0 0 2px}h2{font-size:15px;margin:16px 0 6px;border-bottom:1px solid #ccc;padding-bottom:2px}'
      || '.sub{color:#666;margin:0 0 10px}.badge{display:inline-block;padding:3px 10px;border-radius:10px;color:#fff;font-weight:bold}'
      || '.good{background:#2e7d32}.bad{background:#c62828}'
      || '.tiles{display:grid;grid-template-columns:repeat(4,1fr);gap:8px}'
      || '.tile{border:1px solid #ddd;border-left:6px solid #2e7d32;border-radius:4px;padding:6px 8px}'
      || '.tile.fail{border-left-color:#c62828;background:#fff5f5}.tile .n{font-size:22px;font-weight:bold;display:block}'
      || '.tile .l{color:#555;font-size:11.5px}'
      || 'table{border-collapse:collapse;width:100%;font-size:12px}td,th{border-bottom:1px solid #eee;padding:2px 6px;text-align:left}'
      || 'td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}.two{display:grid;grid-template-columns:1fr 1fr;gap:16px}'
      || '.fail-cell{color:#c62828;font-weight:bold}.foot{color:#777;font-size:11px;margin-top:14px}'
      || 'code{font-size:11px;word-break:break-all}'
      || '</style></head><body>';
    h := h || format('<h1>pals_privacy compliance report</h1><p class="sub">database <b>%s</b> · generated %s · extension %s · counts and ages only, never a patron''s identity</p>',
                     @extschema@._html(current_database()), to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI "UTC"'),
                     @extschema@._html((SELECT extversion FROM pg_catalog.pg_extension WHERE extname = 'pals_privacy')));
    h := h || format('<p><span class="badge %s" data-section="summary" data-relation="" data-measure="failing_checks">%s</span> <span class="sub">of %s checks failing</span></p>',
                     CASE WHEN failing = 0 THEN 'good' ELSE 'bad' END, failing, checks);

    -- Tiles: one per check (ok is not NULL), totals for per-binding checks.
    h := h || '<h2>Checks</h2><div class="tiles">';
    FOR rec IN SELECT x FROM jsonb_array_elements(rows) x
              WHERE x ->> 'ok' IS NOT NULL
                AND NOT (x ->> 'section' IN ('identified_closed') AND x ->> 'relation' <> 'total')
    LOOP
        tile := CASE (rec ->> 'section') || '/' || (rec ->> 'measure')
                    WHEN 'identified_closed/should_be_gone' THEN 'identified closed rows that should be gone'
                    WHEN 'expired_patrons/eligible_not_purged' THEN 'expired patrons owing and holding nothing, not purged'
                    WHEN 'retention/past_retention' THEN 'rows past retention: ' || (rec ->> 'relation')
                    WHEN 'audit/first_bad_entry' THEN 'audit chain: first bad entry (– = intact)'
                    WHEN 'acknowledgments/never_acknowledged' THEN 'staff login roles that never acknowledged the policy'
                    WHEN 'acknowledgments/overdue' THEN 'staff acknowledgments over a year old'
                    WHEN 'maintenance/runs_with_errors_30_days' THEN 'maintenance runs with errors, 30 days'
                    WHEN 'health/preloaded' THEN 'preloaded (1 = yes)'
                    WHEN 'health/worker_running' THEN 'maintenance workers running'
                    WHEN 'health/bindings_invalid' THEN 'bindings whose relation or column is gone'
                    WHEN 'health/backlog_not_done' THEN 'loan bindings with the backlog not finished'
                    WHEN 'health/severs_pending' THEN 'severs pending'
                    WHEN 'statistics/ended_keys_not_destroyed' THEN 'pseudonym keys of ended periods not yet destroyed'
                    ELSE replace(rec ->> 'measure', '_', ' ') END;
        h := h || format('<div class="tile%s">%s<span class="l">%s</span></div>',
                         CASE WHEN (rec ->> 'ok')::boolean THEN '' ELSE ' fail' END,
                         @extschema@._report_num(rows, rec ->> 'section', rec ->> 'relation', rec ->> 'measure', 'span', ' class="n"'),
                         @extschema@._html(tile));
    END LOOP;
    h := h || '</div>';

    -- Chart: why identified closed rows remain, one stacked bar per loan binding and the total.
    h := h || '<h2>Identified closed rows: why each one is still identified</h2>';
    IF cardinality(rels) = 0 THEN
        h := h || '<p>No loan binding.</p>';
    ELSE
        maxv := greatest(1, (SELECT max(@extschema@._report_value(rows, 'identified_closed', r, 'identified_closed')) FROM unnest(rels) r));
        svg := format('<svg xmlns="http://www.w3.org/2000/svg" width="960" height="%s" role="img" aria-label="identified closed rows by reason">',
                      30 + 30 * cardinality(rels));
        y := 8;
        FOREACH rel IN ARRAY rels LOOP
            svg := svg || format('<text x="0" y="%s" font-size="12">%s</text>', y + 15, @extschema@._html(rel));
            x := 170;
            FOR i IN 1 .. 5 LOOP
                v := @extschema@._report_value(rows, 'identified_closed', rel, kinds[i]);
                w := round(600 * v / maxv, 1);
                IF v > 0 THEN
                    svg := svg || format('<rect x="%s" y="%s" width="%s" height="22" fill="%s"><title>%s: %s</title></rect>',
                                         x, y, greatest(w, 1), kind_colors[i], kind_labels[i], v);
                END IF;
                x := x + greatest(w, CASE WHEN v > 0 THEN 1 ELSE 0 END);
            END LOOP;
            svg := svg || format('<text x="%s" y="%s" font-size="12" font-weight="bold" data-section="identified_closed" data-relation="%s" data-measure="identified_closed">%s</text>',
                                 x + 6, y + 15, @extschema@._html(rel),
                                 @extschema@._report_value(rows, 'identified_closed', rel, 'identified_closed'));
            y := y + 30;
        END LOOP;
        -- legend
        x := 0;
        FOR i IN 1 .. 5 LOOP
            svg := svg || format('<rect x="%s" y="%s" width="12" height="12" fill="%s"/><text x="%s" y="%s" font-size="11">%s</text>',
                                 x, y + 4, kind_colors[i], x + 16, y + 14, kind_labels[i]);
            x := x + 16 + 7 * length(kind_labels[i]) + 14;
        END LOOP;
        h := h || svg || '</svg>';
        -- the same numbers as a table
        h := h || '<table><tr><th>relation</th><th class="num">identified closed</th>';
        FOR i IN 1 .. 5 LOOP
            h := h || format('<th class="num">%s</th>', kind_labels[i]);
        END LOOP;
        h := h || '<th class="num">should be gone</th></tr>';
        FOREACH rel IN ARRAY rels LOOP
            h := h || format('<tr><td>%s</td>%s', @extschema@._html(rel),
                             @extschema@._report_num(rows, 'identified_closed', rel, 'identified_closed', 'td', ' class="num"'));
            FOR i IN 1 .. 5 LOOP
                h := h || @extschema@._report_num(rows, 'identified_closed', rel, kinds[i], 'td', ' class="num"');
            END LOOP;
            h := h || @extschema@._report_num(rows, 'identified_closed', rel, 'should_be_gone', 'td',
                          CASE WHEN @extschema@._report_value(rows, 'identified_closed', rel, 'should_be_gone') > 0
                               THEN ' class="num fail-cell"' ELSE ' class="num"' END) || '</tr>';
        END LOOP;
        h := h || '</table>';
        FOR rec IN SELECT x FROM jsonb_array_elements(rows) x
                  WHERE x ->> 'measure' = 'pending_reason' AND x ->> 'relation' = 'total' LOOP
            h := h || format('<p class="sub">pending sever, %s rows: %s</p>', rec ->> 'value', @extschema@._html(rec ->> 'detail'));
        END LOOP;
    END IF;

    -- Chart: ages of identified closed history (all loan bindings), and expired patrons kept.
    h := h || '<div class="two"><div><h2>Age of identified closed history</h2>';
    maxv := greatest(1, (SELECT max(@extschema@._report_value(rows, 'age', 'total', l)) FROM unnest(labels) l));
    svg := '<svg xmlns="http://www.w3.org/2000/svg" width="470" height="210" role="img" aria-label="age distribution">'
        || '<line x1="10" y1="170" x2="465" y2="170" stroke="#999"/>';
    FOR i IN 1 .. 8 LOOP
        v := @extschema@._report_value(rows, 'age', 'total', labels[i]);
        w := round(140 * v / maxv, 1);
        svg := svg || format('<rect x="%s" y="%s" width="44" height="%s" fill="%s"/>',
                             14 + (i - 1) * 56, 170 - w, w, CASE WHEN i = 8 THEN '#aaa' ELSE '#4e79a7' END)
                   || format('<text x="%s" y="%s" font-size="11" text-anchor="middle" data-section="age" data-relation="total" data-measure="%s">%s</text>',
                             36 + (i - 1) * 56, 164 - w, labels[i], v)
                   || format('<text x="%s" y="186" font-size="10" text-anchor="middle">%s</text>', 36 + (i - 1) * 56,
                             split_part(labels[i], ' ', 1))
                   || format('<text x="%s" y="198" font-size="10" text-anchor="middle">%s</text>', 36 + (i - 1) * 56,
                             substr(labels[i], length(split_part(labels[i], ' ', 1)) + 2));
    END LOOP;
    h := h || svg || '</svg></div>';

    h := h || '<div><h2>Expired patrons still there, by reason</h2>';
    IF NOT EXISTS (SELECT FROM jsonb_array_elements(rows) x WHERE x ->> 'section' = 'expired_patrons') THEN
        h := h || '<p>The patron table is not bound.</p>';
    ELSE
        SELECT x ->> 'relation' INTO rel FROM jsonb_array_elements(rows) x WHERE x ->> 'section' = 'expired_patrons' LIMIT 1;
        maxv := greatest(1, @extschema@._report_value(rows, 'expired_patrons', rel, 'expired_beyond_grace'));
        svg := '<svg xmlns="http://www.w3.org/2000/svg" width="470" height="130" role="img" aria-label="expired patrons by reason">';
        i := 0;
        FOR rec IN SELECT jsonb_build_object('m', m, 'l', l, 'c', c) FROM (VALUES
                     ('expired_beyond_grace', 'expired beyond grace', '#777'),
                     ('kept_owing', 'kept: owe money', '#f28e2b'),
                     ('kept_open_loan_or_hold', 'kept: open loan or hold', '#4e79a7'),
                     ('eligible_not_purged', 'eligible, not purged', '#e15759')) t(m, l, c) LOOP
            v := @extschema@._report_value(rows, 'expired_patrons', rel, rec ->> 'm');
            w := round(250 * v / maxv, 1);
            svg := svg || format('<text x="0" y="%s" font-size="11">%s</text>', 18 + i * 28, rec ->> 'l')
                       || format('<rect x="160" y="%s" width="%s" height="18" fill="%s"/>', 5 + i * 28, greatest(w, 1), rec ->> 'c')
                       || format('<text x="%s" y="%s" font-size="11" font-weight="bold" data-section="expired_patrons" data-relation="%s" data-measure="%s">%s</text>',
                                 166 + w, 18 + i * 28, @extschema@._html(rel), rec ->> 'm', v);
            i := i + 1;
        END LOOP;
        h := h || svg || '</svg>';
        h := h || format('<p class="sub">%s</p>', @extschema@._html((SELECT x ->> 'detail' FROM jsonb_array_elements(rows) x
                                                                      WHERE x ->> 'measure' = 'expired_beyond_grace' LIMIT 1)));
    END IF;
    h := h || '</div></div>';

    -- Tables: contact fields without consent; retention; maintenance; audit.
    h := h || '<div class="two"><div><h2>Contact fields without consent</h2><table><tr><th>relation</th><th>field, purpose</th><th class="num">rows</th></tr>';
    FOR rec IN SELECT x FROM jsonb_array_elements(rows) x WHERE x ->> 'section' = 'contact' LOOP
        h := h || format('<tr><td>%s</td><td>%s</td>%s</tr>', @extschema@._html(rec ->> 'relation'), @extschema@._html(rec ->> 'measure'),
                         @extschema@._report_num(rows, 'contact', rec ->> 'relation', rec ->> 'measure', 'td', ' class="num"'));
    END LOOP;
    h := h || '</table></div><div><h2>Retention rules</h2><table><tr><th>relation</th><th>rule</th><th class="num">rows past it</th></tr>';
    FOR rec IN SELECT x FROM jsonb_array_elements(rows) x WHERE x ->> 'section' = 'retention' LOOP
        h := h || format('<tr><td>%s</td><td>%s</td>%s</tr>', @extschema@._html(rec ->> 'relation'), @extschema@._html(rec ->> 'detail'),
                         @extschema@._report_num(rows, 'retention', rec ->> 'relation', 'past_retention', 'td',
                                                 CASE WHEN (rec ->> 'ok')::boolean THEN ' class="num"' ELSE ' class="num fail-cell"' END));
    END LOOP;
    h := h || '</table><h2>Maintenance</h2><table><tr><th>run</th><th class="num">hours ago</th><th>state</th></tr>';
    FOR rec IN SELECT x FROM jsonb_array_elements(rows) x WHERE x ->> 'section' = 'maintenance' AND x ->> 'measure' LIKE 'last\_%' LOOP
        h := h || format('<tr><td>%s</td>%s<td%s>%s</td></tr>',
                         @extschema@._html(replace(replace(rec ->> 'measure', '_hours_ago', ''), '_', ' ')),
                         @extschema@._report_num(rows, 'maintenance', NULL, rec ->> 'measure', 'td', ' class="num"'),
                         CASE WHEN (rec ->> 'ok')::boolean THEN '' ELSE ' class="fail-cell"' END, @extschema@._html(rec ->> 'detail'));
    END LOOP;
    h := h || '</table></div></div>';

    h := h || format('<h2>Audit log</h2><p>%s entries; the chain %s. Head entry %s, hash <code data-section="audit" data-relation="" data-measure="head_hash">%s</code> — compare it with the copy kept outside the database.</p>',
                     @extschema@._report_num(rows, 'audit', NULL, 'entries'),
                     CASE WHEN @extschema@._report_value(rows, 'audit', NULL, 'first_bad_entry') = 0
                          THEN 'verifies' ELSE 'is broken at entry ' || @extschema@._report_num(rows, 'audit', NULL, 'first_bad_entry') END,
                     @extschema@._report_num(rows, 'audit', NULL, 'head_entry'),
                     @extschema@._html((SELECT x ->> 'detail' FROM jsonb_array_elements(rows) x
                                         WHERE x ->> 'section' = 'audit' AND x ->> 'measure' = 'head_entry')));
    h := h || '<p class="foot">From <code>pals_privacy.compliance_report()</code>; every number here is one of its rows. '
           || 'Kept identified: an item''s last borrower (PALS Notice and Openness 9), rows with fines owed, history a patron asked to keep. '
           || 'Everything else closed should have lost its patron.</p></body></html>';
    RETURN h;
END $$;

COMMENT ON FUNCTION @extschema@.compliance_report_html() IS
    'compliance_report() as one self-contained HTML page with inline SVG charts; auditors and superusers only';

GRANT EXECUTE ON FUNCTION @extschema@.compliance_report_html() TO PUBLIC;
