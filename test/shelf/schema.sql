-- test/shelf/schema.sql: a third ILS shape ("Shelfmark"), written for these tests to differ from
-- the sample consortium (demo/), the Koha shape and the Evergreen shape: uuid patron keys and
-- text item keys; a loan table that is an inheritance parent with yearly children (rows routed
-- by a BEFORE INSERT trigger, so the parent itself stays empty and its primary key covers no
-- child), a declaratively partitioned archive of old loans with a NOT NULL patron; loans with
-- no item (interlibrary loans); soft-deleted patrons (a `deleted` flag, scrubbed by the ILS's
-- purge routine); a per-patron circulation tally kept by the ILS's trigger; a notice queue
-- whose text names patron and title; the ILS's audit of patron updates and of loan updates,
-- filled by its triggers; charges linked to loans by a separate link table (no foreign key:
-- the loans live in the children).
--
-- Run as the ILS's role, a SUPERUSER (the application connects as one role, as small
-- deployments do).  Nothing here knows about pals_privacy.

CREATE SCHEMA members;
CREATE SCHEMA stock;
CREATE SCHEMA circ;
CREATE SCHEMA msg;

CREATE TABLE members.member (
    member_key    uuid PRIMARY KEY,
    card_code     text UNIQUE,               -- NULL once the ILS forgot the member
    given_name    text,
    family_name   text NOT NULL,
    email         text,
    branch        text NOT NULL DEFAULT 'MAIN',
    born          date,
    valid_until   date NOT NULL,
    keeps_history boolean NOT NULL DEFAULT false,
    deleted       boolean NOT NULL DEFAULT false
);

-- the ILS's audit of member changes (old values), by its trigger
CREATE TABLE members.member_audit (
    audit_id    bigserial PRIMARY KEY,
    member_key  uuid NOT NULL,
    op          text NOT NULL,
    changed_at  timestamptz NOT NULL DEFAULT now(),
    old_card    text,
    old_name    text,
    old_email   text
);
CREATE INDEX member_audit_member ON members.member_audit (member_key);
CREATE FUNCTION members.audit_member() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO members.member_audit (member_key, op, old_card, old_name, old_email)
    VALUES (OLD.member_key, TG_OP, OLD.card_code, concat_ws(' ', OLD.given_name, OLD.family_name), OLD.email);
    RETURN NULL;
END $$;
CREATE TRIGGER member_audit AFTER UPDATE OR DELETE ON members.member
    FOR EACH ROW EXECUTE FUNCTION members.audit_member();

-- the ILS's "forget" routine: soft delete, scrubbing the row
CREATE FUNCTION members.forget(p uuid) RETURNS void LANGUAGE sql AS $$
    UPDATE members.member SET deleted = true, card_code = NULL, given_name = NULL, family_name = 'forgotten',
                              email = NULL, born = NULL, valid_until = current_date
     WHERE member_key = p;
$$;

CREATE TABLE stock.piece (
    piece_code text PRIMARY KEY,            -- the barcode
    title      text NOT NULL
);

-- loans: the parent (empty) and one child per year, routed by the ILS's trigger
CREATE TABLE circ.lending (
    lending_id   uuid PRIMARY KEY,
    member_key   uuid,                      -- NULL once anonymised
    piece_code   text,                      -- NULL: an interlibrary loan
    desk         text NOT NULL DEFAULT 'D1',
    lent_on      timestamptz NOT NULL,
    due_on       date,
    returned_on  timestamptz,
    charges_open numeric(8,2) NOT NULL DEFAULT 0
);
CREATE TABLE circ.lending_2024 (PRIMARY KEY (lending_id),
    FOREIGN KEY (member_key) REFERENCES members.member, FOREIGN KEY (piece_code) REFERENCES stock.piece,
    CHECK (lent_on >= '2024-01-01' AND lent_on < '2025-01-01')) INHERITS (circ.lending);
CREATE TABLE circ.lending_2025 (PRIMARY KEY (lending_id),
    FOREIGN KEY (member_key) REFERENCES members.member, FOREIGN KEY (piece_code) REFERENCES stock.piece,
    CHECK (lent_on >= '2025-01-01' AND lent_on < '2026-01-01')) INHERITS (circ.lending);
CREATE TABLE circ.lending_2026 (PRIMARY KEY (lending_id),
    FOREIGN KEY (member_key) REFERENCES members.member, FOREIGN KEY (piece_code) REFERENCES stock.piece,
    CHECK (lent_on >= '2026-01-01' AND lent_on < '2027-01-01')) INHERITS (circ.lending);
CREATE INDEX ON circ.lending_2024 (member_key);
CREATE INDEX ON circ.lending_2025 (member_key);
CREATE INDEX ON circ.lending_2026 (member_key);
CREATE INDEX ON circ.lending_2024 (piece_code);
CREATE INDEX ON circ.lending_2025 (piece_code);
CREATE INDEX ON circ.lending_2026 (piece_code);
CREATE FUNCTION circ.lending_route() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('INSERT INTO circ.%I SELECT ($1).*', 'lending_' || extract(year FROM NEW.lent_on AT TIME ZONE 'UTC'))
        USING NEW;
    RETURN NULL;
END $$;
CREATE TRIGGER lending_route BEFORE INSERT ON circ.lending FOR EACH ROW EXECUTE FUNCTION circ.lending_route();

-- the archive of old loans: declaratively partitioned by return, patron NOT NULL (the ILS puts
-- its anonymous member in rows that had none)
CREATE TABLE circ.lending_archive (
    lending_id  uuid NOT NULL,
    member_key  uuid NOT NULL REFERENCES members.member,
    piece_code  text REFERENCES stock.piece,
    lent_on     timestamptz NOT NULL,
    returned_on timestamptz NOT NULL,
    PRIMARY KEY (lending_id, returned_on)
) PARTITION BY RANGE (returned_on);
CREATE TABLE circ.lending_archive_2023 PARTITION OF circ.lending_archive FOR VALUES FROM ('2023-01-01') TO ('2024-01-01');
CREATE TABLE circ.lending_archive_2024 PARTITION OF circ.lending_archive FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE TABLE circ.lending_archive_rest PARTITION OF circ.lending_archive DEFAULT;
CREATE INDEX ON circ.lending_archive (member_key);
CREATE INDEX ON circ.lending_archive (piece_code);
-- the ILS's yearly job: loans returned and paid before the cutoff go to the archive
CREATE FUNCTION circ.archive_before(cutoff timestamptz) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE n bigint;
BEGIN
    INSERT INTO circ.lending_archive (lending_id, member_key, piece_code, lent_on, returned_on)
    SELECT lending_id, coalesce(member_key, '00000000-0000-0000-0000-000000000000'), piece_code, lent_on, returned_on
      FROM circ.lending WHERE returned_on < cutoff AND charges_open = 0;
    DELETE FROM circ.lending WHERE returned_on < cutoff AND charges_open = 0;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END $$;

-- the per-member circulation tally, kept by the ILS's trigger on every checkout
CREATE TABLE circ.member_tally (
    member_key      uuid PRIMARY KEY REFERENCES members.member,
    loans_count     int NOT NULL DEFAULT 0,
    last_lending_id uuid,
    last_piece      text,
    last_lent_on    timestamptz
);
CREATE INDEX ON circ.member_tally (last_lending_id);
CREATE FUNCTION circ.tally_checkout() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.member_key IS NOT NULL THEN
        INSERT INTO circ.member_tally AS t (member_key, loans_count, last_lending_id, last_piece, last_lent_on)
        VALUES (NEW.member_key, 1, NEW.lending_id, NEW.piece_code, NEW.lent_on)
        ON CONFLICT (member_key) DO UPDATE SET loans_count = t.loans_count + 1, last_lending_id = NEW.lending_id,
                                               last_piece = NEW.piece_code, last_lent_on = NEW.lent_on;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER tally AFTER INSERT ON circ.lending_2024 FOR EACH ROW EXECUTE FUNCTION circ.tally_checkout();
CREATE TRIGGER tally AFTER INSERT ON circ.lending_2025 FOR EACH ROW EXECUTE FUNCTION circ.tally_checkout();
CREATE TRIGGER tally AFTER INSERT ON circ.lending_2026 FOR EACH ROW EXECUTE FUNCTION circ.tally_checkout();

-- the ILS's audit of loan changes (who a loan named before), by its trigger
CREATE TABLE circ.lending_changes (
    change_id  bigserial PRIMARY KEY,
    lending_id uuid NOT NULL,
    old_member uuid,
    new_member uuid,
    piece_code text,
    changed_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ON circ.lending_changes (old_member);
CREATE FUNCTION circ.log_lending_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.member_key IS DISTINCT FROM NEW.member_key THEN
        INSERT INTO circ.lending_changes (lending_id, old_member, new_member, piece_code)
        VALUES (OLD.lending_id, OLD.member_key, NEW.member_key, OLD.piece_code);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER lending_changes AFTER UPDATE ON circ.lending_2024 FOR EACH ROW EXECUTE FUNCTION circ.log_lending_change();
CREATE TRIGGER lending_changes AFTER UPDATE ON circ.lending_2025 FOR EACH ROW EXECUTE FUNCTION circ.log_lending_change();
CREATE TRIGGER lending_changes AFTER UPDATE ON circ.lending_2026 FOR EACH ROW EXECUTE FUNCTION circ.log_lending_change();

-- charges (overdue fines, lost items, card fees) and the link of a charge to its loan
CREATE TABLE circ.charge (
    charge_id  bigserial PRIMARY KEY,
    member_key uuid NOT NULL REFERENCES members.member,
    kind       text NOT NULL,
    amount     numeric(8,2) NOT NULL,
    charged_at timestamptz NOT NULL,
    paid_at    timestamptz
);
CREATE INDEX ON circ.charge (member_key);
CREATE TABLE circ.charge_lending (
    charge_id  bigint PRIMARY KEY REFERENCES circ.charge ON DELETE CASCADE,
    lending_id uuid                          -- no foreign key: the loans live in the children
);
CREATE INDEX ON circ.charge_lending (lending_id);

-- the notice queue: rendered texts naming member and title
CREATE TABLE msg.outgoing (
    msg_id     bigserial PRIMARY KEY,
    member_key uuid REFERENCES members.member,
    lending_id uuid,                         -- the loan a notice is about, if any
    channel    text NOT NULL DEFAULT 'email',
    body       text NOT NULL,
    queued_at  timestamptz NOT NULL DEFAULT now(),
    sent_at    timestamptz
);
CREATE INDEX ON msg.outgoing (lending_id);
CREATE INDEX ON msg.outgoing (member_key);
