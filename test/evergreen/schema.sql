-- test/evergreen/schema.sql: an Evergreen-shaped ILS schema, written for these tests from the
-- shape of Evergreen's public schema (schemas actor, asset, biblio, action, money,
-- action_trigger, auditor; names, types, keys and what the ILS's own triggers and routines do).
-- No Evergreen code or data is copied: this is a small schema of our own with the same shapes:
--   - money.billable_xact is the inheritance parent of action.circulation and money.grocery
--     (bigint ids from one sequence);
--   - action.circulation: a renewal is a new row whose parent_circ is the renewed one (which gets
--     checkin_time, stop_fines 'RENEW' and xact_finish); a lost, claimed-returned or long-overdue
--     loan that is paid gets xact_finish with checkin_time NULL;
--   - action.aged_circulation: the ILS's BEFORE DELETE trigger archives a deleted circulation
--     without its patron but with the patron's post code, home library, profile and birth year,
--     and keeps (RETURN NULL) a circulation that still has a renewal;
--   - money.materialized_billable_xact_summary: one row per transaction (circulation or grocery),
--     with its patron, kept by the ILS's triggers on the transactions, billings and payments;
--   - action_trigger.event: notices, target = the circulation's (or the hold's) id, and the
--     rendered text in action_trigger.event_output;
--   - auditor.actor_usr_history / actor_usr_address_history: the old row of every UPDATE or
--     DELETE of a patron or an address, written by the ILS's triggers;
--   - actor.usr_delete(src, dest): the ILS's purge, which scrubs the patron row and keeps it
--     (deleted = true, expire_date = now());
--   - action.usr_circ_history: the reading history the ILS keeps for patrons who opted in (a
--     row of actor.usr_setting), written by its trigger on circulations.
--
-- Run as the ILS's own role: it owns every schema and table, as on a real installation.
-- Nothing here knows about pals_privacy.

CREATE SCHEMA actor;
CREATE SCHEMA asset;
CREATE SCHEMA biblio;
CREATE SCHEMA action;
CREATE SCHEMA money;
CREATE SCHEMA action_trigger;
CREATE SCHEMA auditor;

CREATE TABLE actor.org_unit (
    id        int PRIMARY KEY,
    shortname text NOT NULL UNIQUE,
    name      text NOT NULL
);

CREATE TABLE actor.usr (
    id                serial PRIMARY KEY,
    card              int,                       -- the current actor.card (its id, not its barcode)
    profile           int NOT NULL DEFAULT 2,    -- 2 patron, 3 staff, 9 anonymous
    usrname           text NOT NULL UNIQUE,
    email             text,
    passwd            text,
    prefix            text,
    first_given_name  text NOT NULL,
    second_given_name text,
    family_name       text NOT NULL,
    suffix            text,
    day_phone         text,
    ident_value       text,
    dob               date,
    home_ou           int NOT NULL REFERENCES actor.org_unit,
    mailing_address   int,
    billing_address   int,
    active            boolean NOT NULL DEFAULT true,
    barred            boolean NOT NULL DEFAULT false,
    deleted           boolean NOT NULL DEFAULT false,
    juvenile          boolean NOT NULL DEFAULT false,
    alert_message     text,
    create_date       timestamptz NOT NULL DEFAULT now(),
    expire_date       timestamptz NOT NULL,
    last_update_time  timestamptz
);
CREATE INDEX actor_usr_family_name_idx ON actor.usr (family_name);

CREATE TABLE actor.card (
    id      serial PRIMARY KEY,
    usr     int NOT NULL REFERENCES actor.usr DEFERRABLE INITIALLY DEFERRED,
    barcode text NOT NULL UNIQUE,
    active  boolean NOT NULL DEFAULT true
);
CREATE INDEX actor_card_usr_idx ON actor.card (usr);

CREATE TABLE actor.usr_address (
    id           serial PRIMARY KEY,
    usr          int NOT NULL REFERENCES actor.usr DEFERRABLE INITIALLY DEFERRED,
    address_type text NOT NULL DEFAULT 'MAILING',
    street1      text NOT NULL,
    street2      text,
    city         text NOT NULL,
    county       text,
    state        text,
    country      text NOT NULL DEFAULT 'US',
    post_code    text NOT NULL,
    valid        boolean NOT NULL DEFAULT true
);
CREATE INDEX actor_usr_address_usr_idx ON actor.usr_address (usr);

-- user settings: 'history.circ.retention_start' is the patron's opt-in to a reading history
CREATE TABLE actor.usr_setting (
    id    bigserial PRIMARY KEY,
    usr   int NOT NULL REFERENCES actor.usr DEFERRABLE INITIALLY DEFERRED,
    name  text NOT NULL,
    value text NOT NULL,
    UNIQUE (usr, name)
);

CREATE TABLE biblio.record_entry (
    id     bigserial PRIMARY KEY,
    title  text NOT NULL,
    author text
);

CREATE TABLE asset.copy (
    id       bigserial PRIMARY KEY,
    record   bigint NOT NULL REFERENCES biblio.record_entry,
    barcode  text NOT NULL UNIQUE,
    circ_lib int NOT NULL REFERENCES actor.org_unit,
    status   int NOT NULL DEFAULT 0,            -- 0 available, 1 checked out, 3 lost
    deleted  boolean NOT NULL DEFAULT false
);

------------------------------------------------------------------------------
-- Money: the billable-transaction parent and its children
------------------------------------------------------------------------------
CREATE TABLE money.billable_xact (
    id          bigserial PRIMARY KEY,
    usr         int NOT NULL,
    xact_start  timestamptz NOT NULL DEFAULT now(),
    xact_finish timestamptz,
    unrecovered boolean
);
CREATE INDEX m_b_x_usr_idx ON money.billable_xact (usr);

CREATE TABLE action.circulation (
    target_copy       bigint NOT NULL REFERENCES asset.copy DEFERRABLE INITIALLY DEFERRED,
    circ_lib          int NOT NULL,
    circ_staff        int NOT NULL,
    checkin_staff     int,
    checkin_lib       int,
    renewal_remaining int NOT NULL DEFAULT 2 CHECK (renewal_remaining >= 0),
    due_date          timestamptz,
    stop_fines_time   timestamptz,
    checkin_time      timestamptz,
    checkin_scan_time timestamptz,
    create_time       timestamptz NOT NULL DEFAULT now(),
    duration          interval,
    recurring_fine    numeric(6,2),
    max_fine          numeric(6,2),
    desk_renewal      boolean NOT NULL DEFAULT false,
    opac_renewal      boolean NOT NULL DEFAULT false,
    stop_fines        text CHECK (stop_fines IN ('CHECKIN', 'CLAIMSRETURNED', 'LOST', 'MAXFINES', 'RENEW',
                                                 'LONGOVERDUE', 'CLAIMSNEVERCHECKEDOUT')),
    parent_circ       bigint,
    workstation       int                   -- the desk's workstation (Evergreen: actor.workstation)
) INHERITS (money.billable_xact);
ALTER TABLE action.circulation ADD PRIMARY KEY (id);
ALTER TABLE action.circulation ADD CONSTRAINT circulation_usr_fkey FOREIGN KEY (usr) REFERENCES actor.usr (id)
    DEFERRABLE INITIALLY DEFERRED;
ALTER TABLE action.circulation ADD CONSTRAINT circulation_parent_circ_fkey FOREIGN KEY (parent_circ)
    REFERENCES action.circulation (id) DEFERRABLE INITIALLY DEFERRED;
CREATE UNIQUE INDEX circ_parent_idx ON action.circulation (parent_circ) WHERE parent_circ IS NOT NULL;
CREATE INDEX circ_open_xacts_idx ON action.circulation (usr) WHERE xact_finish IS NULL;
CREATE INDEX circ_target_copy_idx ON action.circulation (target_copy);
CREATE INDEX circ_checkin_time ON action.circulation (checkin_time) WHERE checkin_time IS NOT NULL;

CREATE TABLE money.grocery (
    billing_location int NOT NULL,
    note             text
) INHERITS (money.billable_xact);
ALTER TABLE money.grocery ADD PRIMARY KEY (id);
CREATE INDEX m_g_usr_idx ON money.grocery (usr);

CREATE TABLE money.billing (
    id           bigserial PRIMARY KEY,
    xact         bigint NOT NULL,              -- a billable_xact's id (no key: the parent's children hold it)
    billing_ts   timestamptz NOT NULL DEFAULT now(),
    voided       boolean NOT NULL DEFAULT false,
    amount       numeric(6,2) NOT NULL,
    billing_type text NOT NULL,
    note         text
);
CREATE INDEX m_b_xact_idx ON money.billing (xact);

CREATE TABLE money.payment (
    id           bigserial PRIMARY KEY,
    xact         bigint NOT NULL,
    payment_ts   timestamptz NOT NULL DEFAULT now(),
    voided       boolean NOT NULL DEFAULT false,
    amount       numeric(6,2) NOT NULL,
    payment_type text NOT NULL DEFAULT 'cash_payment',
    note         text
);
CREATE INDEX m_p_xact_idx ON money.payment (xact);

-- one row per transaction, with its patron, kept by the ILS's triggers
CREATE TABLE money.materialized_billable_xact_summary (
    id                bigint PRIMARY KEY,
    usr               int,
    xact_start        timestamptz,
    xact_finish       timestamptz,
    total_paid        numeric(6,2) NOT NULL DEFAULT 0,
    last_payment_ts   timestamptz,
    total_owed        numeric(6,2) NOT NULL DEFAULT 0,
    last_billing_ts   timestamptz,
    last_billing_type text,
    balance_owed      numeric(6,2) NOT NULL DEFAULT 0,
    xact_type         text NOT NULL
);
CREATE INDEX money_mat_summary_usr_idx ON money.materialized_billable_xact_summary (usr);

-- a patron's balance, as the ILS reads it
CREATE VIEW money.usr_summary AS
    SELECT usr, sum(total_paid) AS total_paid, sum(total_owed) AS total_owed, sum(balance_owed) AS balance_owed
      FROM money.materialized_billable_xact_summary GROUP BY usr;

CREATE FUNCTION money.mat_summary_create() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO money.materialized_billable_xact_summary (id, usr, xact_start, xact_finish, xact_type)
    VALUES (NEW.id, NEW.usr, NEW.xact_start, NEW.xact_finish, CASE TG_TABLE_NAME WHEN 'circulation' THEN 'circulation' ELSE 'grocery' END);
    RETURN NEW;
END $$;
CREATE FUNCTION money.mat_summary_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE money.materialized_billable_xact_summary
       SET usr = NEW.usr, xact_start = NEW.xact_start, xact_finish = NEW.xact_finish
     WHERE id = NEW.id;
    RETURN NEW;
END $$;
CREATE FUNCTION money.mat_summary_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM money.materialized_billable_xact_summary WHERE id = OLD.id;
    RETURN OLD;
END $$;
CREATE TRIGGER mat_summary_create_tgr AFTER INSERT ON action.circulation FOR EACH ROW EXECUTE FUNCTION money.mat_summary_create();
CREATE TRIGGER mat_summary_change_tgr AFTER UPDATE OF usr, xact_start, xact_finish ON action.circulation
    FOR EACH ROW EXECUTE FUNCTION money.mat_summary_update();
CREATE TRIGGER mat_summary_remove_tgr AFTER DELETE ON action.circulation FOR EACH ROW EXECUTE FUNCTION money.mat_summary_delete();
CREATE TRIGGER mat_summary_create_tgr AFTER INSERT ON money.grocery FOR EACH ROW EXECUTE FUNCTION money.mat_summary_create();
CREATE TRIGGER mat_summary_change_tgr AFTER UPDATE OF usr, xact_start, xact_finish ON money.grocery
    FOR EACH ROW EXECUTE FUNCTION money.mat_summary_update();
CREATE TRIGGER mat_summary_remove_tgr AFTER DELETE ON money.grocery FOR EACH ROW EXECUTE FUNCTION money.mat_summary_delete();

-- billings and payments recompute their transaction's summary
CREATE FUNCTION money.materialized_summary_recompute() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE x bigint := CASE WHEN TG_OP = 'DELETE' THEN OLD.xact ELSE NEW.xact END;
BEGIN
    UPDATE money.materialized_billable_xact_summary s
       SET total_owed = b.owed, last_billing_ts = b.last_ts, last_billing_type = b.last_type,
           total_paid = p.paid, last_payment_ts = p.last_ts, balance_owed = b.owed - p.paid
      FROM (SELECT coalesce(sum(amount) FILTER (WHERE NOT voided), 0) AS owed, max(billing_ts) AS last_ts,
                   (array_agg(billing_type ORDER BY billing_ts DESC))[1] AS last_type
              FROM money.billing WHERE xact = x) b,
           (SELECT coalesce(sum(amount) FILTER (WHERE NOT voided), 0) AS paid, max(payment_ts) AS last_ts
              FROM money.payment WHERE xact = x) p
     WHERE s.id = x;
    RETURN NULL;
END $$;
CREATE TRIGGER mat_summary_billing_tgr AFTER INSERT OR UPDATE OR DELETE ON money.billing
    FOR EACH ROW EXECUTE FUNCTION money.materialized_summary_recompute();
CREATE TRIGGER mat_summary_payment_tgr AFTER INSERT OR UPDATE OR DELETE ON money.payment
    FOR EACH ROW EXECUTE FUNCTION money.materialized_summary_recompute();

------------------------------------------------------------------------------
-- The archive of deleted circulations, without the patron
------------------------------------------------------------------------------
CREATE TABLE action.aged_circulation (
    id              bigint PRIMARY KEY,
    usr_post_code   text,
    usr_home_ou     int,
    usr_profile     int,
    usr_birth_year  int,
    copy_bib_record bigint,
    copy_circ_lib   int,
    xact_start      timestamptz,
    xact_finish     timestamptz,
    target_copy     bigint NOT NULL,
    circ_lib        int,
    due_date        timestamptz,
    checkin_time    timestamptz,
    stop_fines      text,
    parent_circ     bigint
);
CREATE INDEX aged_circ_copy_idx ON action.aged_circulation (target_copy);

CREATE FUNCTION action.age_circ_on_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- a circulation that was renewed is archived with its renewals, later
    PERFORM 1 FROM action.circulation WHERE parent_circ = OLD.id;
    IF FOUND THEN
        RETURN NULL;
    END IF;
    INSERT INTO action.aged_circulation
    SELECT OLD.id, a.post_code, u.home_ou, u.profile, extract(year FROM u.dob)::int, c.record, c.circ_lib,
           OLD.xact_start, OLD.xact_finish, OLD.target_copy, OLD.circ_lib, OLD.due_date, OLD.checkin_time,
           OLD.stop_fines, OLD.parent_circ
      FROM actor.usr u LEFT JOIN actor.usr_address a ON a.id = u.mailing_address
      LEFT JOIN asset.copy c ON c.id = OLD.target_copy
     WHERE u.id = OLD.usr;
    RETURN OLD;
END $$;
CREATE TRIGGER action_circulation_aging_tgr BEFORE DELETE ON action.circulation
    FOR EACH ROW EXECUTE FUNCTION action.age_circ_on_delete();

-- every circulation, archived or not (the ILS's reports read it)
CREATE VIEW action.all_circulation AS
    SELECT id, usr, xact_start, xact_finish, target_copy, due_date, checkin_time, stop_fines, parent_circ
      FROM action.circulation
    UNION ALL
    SELECT id, NULL::int, xact_start, xact_finish, target_copy, due_date, checkin_time, stop_fines, parent_circ
      FROM action.aged_circulation;

-- the ILS's own purge of old circulations: closed and finished, older than the age given,
-- but each copy's latest one
CREATE FUNCTION action.purge_circulations(p_age interval) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE n bigint;
BEGIN
    DELETE FROM action.circulation c
     WHERE c.xact_finish < now() - p_age AND c.checkin_time IS NOT NULL
       AND c.id <> (SELECT l.id FROM action.circulation l WHERE l.target_copy = c.target_copy AND l.checkin_time IS NOT NULL
                     ORDER BY l.checkin_time DESC LIMIT 1);
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END $$;

------------------------------------------------------------------------------
-- Holds: current_copy is NULL until a copy is captured (title holds)
------------------------------------------------------------------------------
CREATE TABLE action.hold_request (
    id               serial PRIMARY KEY,
    usr              int NOT NULL REFERENCES actor.usr DEFERRABLE INITIALLY DEFERRED,
    requestor        int NOT NULL REFERENCES actor.usr DEFERRABLE INITIALLY DEFERRED,   -- who placed it
    hold_type        text NOT NULL CHECK (hold_type IN ('T', 'V', 'C', 'M')),
    target           bigint NOT NULL,          -- the record for T, the copy for C
    current_copy     bigint REFERENCES asset.copy ON DELETE SET NULL DEFERRABLE INITIALLY DEFERRED,
    request_time     timestamptz NOT NULL DEFAULT now(),
    capture_time     timestamptz,
    fulfillment_time timestamptz,
    cancel_time      timestamptz,
    cancel_cause     int,
    cancel_note      text,
    expire_time      timestamptz,
    pickup_lib       int NOT NULL,
    frozen           boolean NOT NULL DEFAULT false
);
CREATE INDEX hold_request_usr_idx ON action.hold_request (usr);
CREATE INDEX hold_request_current_copy_idx ON action.hold_request (current_copy);

------------------------------------------------------------------------------
-- Notices: events on a target (a circulation's id, or a hold's), rendered
------------------------------------------------------------------------------
CREATE TABLE action_trigger.event_definition (
    id   int PRIMARY KEY,
    hook text NOT NULL,          -- 'checkout.due', 'lost', 'hold.available'
    name text NOT NULL
);
CREATE TABLE action_trigger.event_output (
    id          bigserial PRIMARY KEY,
    create_time timestamptz NOT NULL DEFAULT now(),
    is_error    boolean NOT NULL DEFAULT false,
    data        text NOT NULL
);
CREATE TABLE action_trigger.event (
    id              bigserial PRIMARY KEY,
    target          bigint NOT NULL,
    event_def       int NOT NULL REFERENCES action_trigger.event_definition,
    add_time        timestamptz NOT NULL DEFAULT now(),
    run_time        timestamptz NOT NULL,
    complete_time   timestamptz,
    state           text NOT NULL DEFAULT 'pending',
    template_output bigint REFERENCES action_trigger.event_output
);
CREATE INDEX atev_target_def_idx ON action_trigger.event (target, event_def);

------------------------------------------------------------------------------
-- The opt-in reading history the ILS keeps
------------------------------------------------------------------------------
CREATE TABLE action.usr_circ_history (
    id           bigserial PRIMARY KEY,
    usr          int NOT NULL REFERENCES actor.usr DEFERRABLE INITIALLY DEFERRED,
    xact_start   timestamptz NOT NULL,
    target_copy  bigint NOT NULL,
    due_date     timestamptz,
    checkin_time timestamptz,
    source_circ  bigint
);
CREATE INDEX action_usr_circ_history_usr_idx ON action.usr_circ_history (usr);
CREATE FUNCTION action.maintain_usr_circ_history() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM actor.usr_setting WHERE usr = NEW.usr AND name = 'history.circ.retention_start') THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'INSERT' THEN
        INSERT INTO action.usr_circ_history (usr, xact_start, target_copy, due_date, checkin_time, source_circ)
        VALUES (NEW.usr, NEW.xact_start, NEW.target_copy, NEW.due_date, NEW.checkin_time, NEW.id);
    ELSE
        UPDATE action.usr_circ_history SET checkin_time = NEW.checkin_time, due_date = NEW.due_date
         WHERE source_circ = NEW.id;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER maintain_usr_circ_history_tgr AFTER INSERT OR UPDATE OF checkin_time, due_date ON action.circulation
    FOR EACH ROW EXECUTE FUNCTION action.maintain_usr_circ_history();

------------------------------------------------------------------------------
-- The audit history of patrons and addresses
------------------------------------------------------------------------------
CREATE TABLE auditor.actor_usr_history (
    audit_id     bigserial PRIMARY KEY,
    audit_time   timestamptz NOT NULL DEFAULT now(),
    audit_action char(1) NOT NULL,
    audit_user   text NOT NULL DEFAULT current_user,
    LIKE actor.usr
);
CREATE INDEX aud_actor_usr_hist_id_idx ON auditor.actor_usr_history (id);
CREATE TABLE auditor.actor_usr_address_history (
    audit_id     bigserial PRIMARY KEY,
    audit_time   timestamptz NOT NULL DEFAULT now(),
    audit_action char(1) NOT NULL,
    audit_user   text NOT NULL DEFAULT current_user,
    LIKE actor.usr_address
);
CREATE INDEX aud_actor_usr_address_hist_usr_idx ON auditor.actor_usr_address_history (usr);

CREATE FUNCTION auditor.audit_actor_usr_func() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO auditor.actor_usr_history SELECT nextval('auditor.actor_usr_history_audit_id_seq'), now(),
           substr(TG_OP, 1, 1), current_user, OLD.*;
    RETURN NULL;
END $$;
CREATE TRIGGER audit_actor_usr_update_trigger AFTER UPDATE OR DELETE ON actor.usr
    FOR EACH ROW EXECUTE FUNCTION auditor.audit_actor_usr_func();
CREATE FUNCTION auditor.audit_actor_usr_address_func() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO auditor.actor_usr_address_history SELECT nextval('auditor.actor_usr_address_history_audit_id_seq'), now(),
           substr(TG_OP, 1, 1), current_user, OLD.*;
    RETURN NULL;
END $$;
CREATE TRIGGER audit_actor_usr_address_update_trigger AFTER UPDATE OR DELETE ON actor.usr_address
    FOR EACH ROW EXECUTE FUNCTION auditor.audit_actor_usr_address_func();

------------------------------------------------------------------------------
-- The ILS's routines (they run as the caller)
------------------------------------------------------------------------------

-- a checkout; a renewal is a checkout whose parent is the renewed circulation
CREATE FUNCTION action.checkout(p_usr int, p_barcode text, p_at timestamptz, p_parent bigint DEFAULT NULL,
                                p_workstation int DEFAULT NULL) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE cp asset.copy; id bigint;
BEGIN
    SELECT * INTO STRICT cp FROM asset.copy WHERE barcode = p_barcode;
    INSERT INTO action.circulation (usr, xact_start, target_copy, circ_lib, circ_staff, due_date, duration,
                                    recurring_fine, max_fine, parent_circ, desk_renewal, workstation)
    VALUES (p_usr, p_at, cp.id, cp.circ_lib, 5, p_at + interval '14 days', interval '14 days', 0.25, 5.00,
            p_parent, p_parent IS NOT NULL, coalesce(p_workstation, 10 * cp.circ_lib + 1))
    RETURNING action.circulation.id INTO id;
    UPDATE asset.copy SET status = 1 WHERE asset.copy.id = cp.id;
    RETURN id;
END $$;

-- a checkin: the open circulation of the copy gets its checkin; finished when nothing is owed
CREATE FUNCTION action.checkin(p_barcode text, p_at timestamptz) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE cp asset.copy; c action.circulation;
BEGIN
    SELECT * INTO STRICT cp FROM asset.copy WHERE barcode = p_barcode;
    SELECT * INTO STRICT c FROM action.circulation WHERE target_copy = cp.id AND checkin_time IS NULL AND xact_finish IS NULL;
    UPDATE action.circulation
       SET checkin_time = p_at, checkin_scan_time = p_at, checkin_staff = 5, checkin_lib = cp.circ_lib,
           stop_fines = coalesce(stop_fines, 'CHECKIN'), stop_fines_time = coalesce(stop_fines_time, p_at),
           xact_finish = CASE WHEN coalesce((SELECT balance_owed FROM money.materialized_billable_xact_summary s
                                              WHERE s.id = c.id), 0) = 0 THEN p_at END
     WHERE action.circulation.id = c.id;
    UPDATE asset.copy SET status = 0 WHERE asset.copy.id = cp.id;
    RETURN c.id;
END $$;

-- a renewal: the circulation is closed as renewed, a new one continues it
CREATE FUNCTION action.renew(p_barcode text, p_at timestamptz) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE cp asset.copy; c action.circulation;
BEGIN
    SELECT * INTO STRICT cp FROM asset.copy WHERE barcode = p_barcode;
    SELECT * INTO STRICT c FROM action.circulation WHERE target_copy = cp.id AND checkin_time IS NULL AND xact_finish IS NULL;
    UPDATE action.circulation SET checkin_time = p_at, stop_fines = 'RENEW', stop_fines_time = p_at, xact_finish = p_at
     WHERE action.circulation.id = c.id;
    RETURN action.checkout(c.usr, p_barcode, p_at, c.id);
END $$;

-- a payment that clears a transaction finishes it (a lost, claimed-returned or long-overdue
-- circulation too, whose checkin_time stays NULL)
CREATE FUNCTION money.pay(p_xact bigint, p_amount numeric, p_at timestamptz) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO money.payment (xact, payment_ts, amount) VALUES (p_xact, p_at, p_amount);
    IF (SELECT balance_owed FROM money.materialized_billable_xact_summary WHERE id = p_xact) = 0 THEN
        UPDATE action.circulation SET xact_finish = p_at
         WHERE id = p_xact AND xact_finish IS NULL AND (checkin_time IS NOT NULL OR stop_fines IN ('LOST', 'CLAIMSRETURNED', 'LONGOVERDUE'));
        UPDATE money.grocery SET xact_finish = p_at WHERE id = p_xact AND xact_finish IS NULL;
    END IF;
END $$;

-- actor.usr_purge_data: remove a patron's data; what must stay (transactions) goes to dest_usr
CREATE FUNCTION actor.usr_purge_data(src_usr int, dest_usr int) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM actor.usr_setting WHERE usr = src_usr;
    DELETE FROM action.usr_circ_history WHERE usr = src_usr;
    UPDATE actor.usr SET card = NULL, mailing_address = NULL, billing_address = NULL WHERE id = src_usr;
    DELETE FROM actor.card WHERE usr = src_usr;
    DELETE FROM actor.usr_address WHERE usr = src_usr;
    DELETE FROM action.hold_request WHERE usr = src_usr AND (fulfillment_time IS NOT NULL OR cancel_time IS NOT NULL);
    IF dest_usr IS NOT NULL THEN
        UPDATE money.billable_xact SET usr = dest_usr WHERE usr = src_usr;
    END IF;
END $$;

-- actor.usr_delete: purge the patron's data and scrub the row, which stays (deleted, expired now)
CREATE FUNCTION actor.usr_delete(src_usr int, dest_usr int) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM actor.usr_purge_data(src_usr, dest_usr);
    UPDATE actor.usr
       SET active = false, card = NULL, mailing_address = NULL, billing_address = NULL,
           usrname = id || '-PURGED-' || to_char(now(), 'YYYYMMDD'), family_name = 'PURGED', first_given_name = 'PURGED',
           second_given_name = NULL, prefix = NULL, suffix = NULL, email = NULL, passwd = md5(random()::text),
           day_phone = NULL, ident_value = NULL, dob = NULL, alert_message = NULL,
           expire_date = now(), deleted = true, last_update_time = now()
     WHERE id = src_usr;
END $$;
