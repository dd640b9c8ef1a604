-- Who records consent: staff and the ILS (judged by the session's login
-- role), administrators.  Patrons' own consent comes with the patron session.
CREATE OR REPLACE FUNCTION @extschema@._consent_change(fn text, p_patron text, p_purpose text, p_channel text,
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
    -- a login role narrowed to a purpose (classify_role(..., purpose => ...): its own
    -- classification, or else one of a role it is a member of, as for its reads) reads
    -- contact fields only of the patrons who consented: it does not record a consent
    -- itself, which would widen what it reads (withdrawing narrows: allowed)
    IF grant_it AND NOT (SELECT rolsuper FROM pg_roles WHERE rolname = session_user)
       AND coalesce((SELECT rc.purpose IS NOT NULL FROM @extschema@.role_class rc WHERE rc.role = session_user::regrole),
                    EXISTS (SELECT FROM @extschema@.role_class rc
                             WHERE rc.purpose IS NOT NULL AND pg_has_role(session_user, rc.role::oid, 'MEMBER'))) THEN
        RAISE EXCEPTION 'permission denied for %', fn
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = format('Role %I is narrowed to a purpose; recording a consent would widen the contact fields it reads.',
                                  session_user),
                  HINT = 'Record consent from a staff or ILS role without a purpose.';
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

REVOKE ALL ON FUNCTION @extschema@._consent_change(text,text,text,text,boolean,text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@._consent_change(text,text,text,text,boolean,text) TO PUBLIC;
