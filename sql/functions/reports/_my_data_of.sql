-- The patron's rows in every relation bound with a patron column (copies and
-- account records included; a loan relation's rows that name the patron only
-- in one of more_patron_columns, under that column), and in the
-- extension's own tables.  Not here, on purpose: legal orders and the audit
-- entries about them (a patron is not told of an order concerning them), the
-- pseudonymous statistics (linking them to a patron is what they exist to
-- prevent), and relations bound only by retain() (no patron column is known:
-- listed under not_searched).  Rows are ordered by their JSON value, so two
-- calls over the same data return the same document.
CREATE OR REPLACE FUNCTION @extschema@._my_data_of(patron text) RETURNS jsonb
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    b record;
    found_rows jsonb;
    relations jsonb := '[]';
    own jsonb;
    t text;
    cols name[];
    others text;
    earlier text;
BEGIN
    FOR b IN
        SELECT s.relation, s.patron_column, s.hide_column, array_agg(DISTINCT s.kind ORDER BY s.kind) AS kinds
          FROM (SELECT p.relation, p.id_column AS patron_column, NULL::name AS hide_column, 'patrons' AS kind
                  FROM @extschema@.patron_binding p
                UNION ALL SELECT c.relation, c.patron_column, NULL, 'cards' FROM @extschema@.card_binding c
                UNION ALL SELECT c.relation, c.patron_column, NULL, 'balance' FROM @extschema@.balance_binding c
                UNION ALL SELECT c.relation, c.patron_column, NULL, 'loans' FROM @extschema@.loan_binding c
                -- rows that name the patron only in one of more_patron_columns (the
                -- requestor of a hold placed for someone else): listed under that column
                UNION ALL SELECT c.relation, m.col, NULL, 'loans' FROM @extschema@.loan_binding c,
                                 unnest(c.more_patron_columns) m(col)
                UNION ALL SELECT c.relation, c.patron_column, NULL, 'private_history' FROM @extschema@.private_history_binding c
                UNION ALL SELECT c.relation, c.patron_column, NULL, 'contact' FROM @extschema@.contact_binding c
                UNION ALL SELECT c.relation, c.patron_column, NULL, 'outbox' FROM @extschema@.outbox_binding c
                -- copies of a loan's identity that keep a patron (a per-transaction summary, a
                -- fine) and the rest of the account (payments, charges): the patron's rows too
                UNION ALL SELECT c.relation, c.patron_column, NULL, 'copy' FROM @extschema@.copy_binding c
                 WHERE c.patron_column IS NOT NULL
                UNION ALL SELECT c.relation, c.patron_column, NULL, 'accounts' FROM @extschema@.account_binding c
                -- a guardianship row names two patrons: each side sees its own, not the other's id
                UNION ALL SELECT g.relation, g.minor_column, g.guardian_column, 'guardians (as minor)'
                  FROM @extschema@.guardian_binding g
                UNION ALL SELECT g.relation, g.guardian_column, g.minor_column, 'guardians (as guardian)'
                  FROM @extschema@.guardian_binding g) s
         GROUP BY s.relation, s.patron_column, s.hide_column
         ORDER BY s.relation::text, s.patron_column, s.hide_column NULLS FIRST
    LOOP
        -- a view of the ILS's is not read as the owner in a session with temporary objects
        PERFORM @extschema@._owner_code_guard(b.relation, format('my_data() reading %s', b.relation));
        t := @extschema@._column_type_name(b.relation, b.patron_column);
        -- a loan row found by one of more_patron_columns: listed once, under the
        -- first of its patron columns that names the patron, and without the
        -- ids of the other patrons it names (the patron of a hold they placed)
        others := '';
        earlier := '';
        cols := (SELECT l.patron_column || coalesce(l.more_patron_columns, '{}') FROM @extschema@.loan_binding l
                  WHERE l.relation = b.relation AND b.patron_column = ANY (l.more_patron_columns));
        FOR i IN 1 .. coalesce(cardinality(cols), 0) LOOP
            CONTINUE WHEN cols[i] = b.patron_column;
            others := others || format(' - CASE WHEN x.%I IS DISTINCT FROM $1::%s THEN %L ELSE '''' END', cols[i], t, cols[i]);
            IF i < array_position(cols, b.patron_column) THEN
                earlier := earlier || format(' AND x.%I IS DISTINCT FROM $1::%s', cols[i], t);
            END IF;
        END LOOP;
        -- a view is read as its owner (src/view_owner.c)
        found_rows := @extschema@._read_as_owner(b.relation, format(
            'SELECT coalesce(jsonb_agg(r ORDER BY r), ''[]'') FROM (SELECT to_jsonb(x)%s%s AS r FROM %s x WHERE x.%I = $1::%s%s) s',
            CASE WHEN b.hide_column IS NULL THEN '' ELSE format(' - %L', b.hide_column) END,
            others, b.relation, b.patron_column, t, earlier), patron);
        relations := relations || jsonb_build_array(jsonb_build_object(
            'relation', b.relation::text, 'kinds', to_jsonb(b.kinds), 'patron_column', b.patron_column,
            'rows', found_rows));
    END LOOP;

    own := jsonb_build_object(
        'private_history', (SELECT coalesce(jsonb_agg(to_jsonb(h) ORDER BY h.id), '[]')
                              FROM @extschema@.private_history h WHERE h.patron = _my_data_of.patron),
        'consents', (SELECT coalesce(jsonb_agg(to_jsonb(c) ORDER BY c.purpose, c.channel), '[]')
                       FROM @extschema@.consents c WHERE c.patron = _my_data_of.patron),
        'consent_history', (SELECT coalesce(jsonb_agg(to_jsonb(c) ORDER BY c.id), '[]')
                              FROM @extschema@.consent_history c WHERE c.patron = _my_data_of.patron),
        -- the PIN's date only: its salt and hash are of no use to anyone but an attacker
        'pin', (SELECT jsonb_build_object('set_at', p.set_at, 'iterations', p.iterations)
                  FROM @extschema@.patron_pins p WHERE p.patron = _my_data_of.patron),
        'audit', (SELECT coalesce(jsonb_agg(jsonb_build_object('at', a.at, 'event', a.event, 'details', a.details)
                                            ORDER BY a.id), '[]')
                    FROM @extschema@.audit_log a
                   WHERE a.details ->> 'patron' = _my_data_of.patron
                     AND a.event NOT LIKE 'legal\_order%'));

    RETURN jsonb_build_object(
        'patron', patron,
        'generated_at', now(),
        'relations', relations,
        'pals_privacy', own,
        'not_searched', (SELECT coalesce(jsonb_agg(jsonb_build_object(
                                    'relation', r.relation::text,
                                    'why', 'bound by retain() only: the binding names no patron column')
                                 ORDER BY r.relation::text), '[]')
                           FROM @extschema@.retention_rule r
                          WHERE NOT EXISTS (SELECT FROM @extschema@.bindings x
                                             WHERE x.relation = r.relation AND x.kind <> 'retain')));
END $$;

REVOKE ALL ON FUNCTION @extschema@._my_data_of(text) FROM PUBLIC;
