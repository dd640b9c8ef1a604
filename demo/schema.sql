-- demo/schema.sql: the sample consortium, a small integrated library system (ILS).
--
-- This is deliberately an *ordinary* ILS schema, written the way an ILS vendor would, without any
-- knowledge of pals_privacy: the extension is bound to it afterwards (demo/bind.sql) without
-- renaming or adding anything.  It exercises what real schemas contain:
--   * NOT NULL patron columns with foreign keys (loans, holds) and an anonymous placeholder
--     patron (id 0, 'ANONYMOUS') that severed rows are re-pointed to;
--   * a loans table partitioned by year (plus a default partition), whose primary key must
--     therefore include the partition key: (id, checked_out_at);
--   * renewal chains: a renewal closes the old loan and opens a new row that references it with a
--     real composite foreign key (renews_loan_id, renews_checked_out_at) -> loans (id, checked_out_at);
--   * a soft-delete flag on patrons, an opt-in reading-history flag, a balance VIEW,
--     contact details in a separate table, short-lived logs (internet sign-ups, receipts),
--     and a notice outbox;
--   * the shapes real ILSs have besides (docs/fitting-your-ils.md): notices referencing a loan
--     with a rendered text naming patron and item, kept by a BEFORE DELETE trigger while a bill
--     is open; a billable-transaction inheritance parent whose children are device loans (closed
--     by a condition: lost and paid) and miscellaneous charges; a per-transaction summary kept
--     by an ILS trigger; the ILS's own audit history of patron and address rows, filled by
--     trigger; a purge routine that soft-deletes.
--
-- Semantics of loans.fines_settled_at ("settled column"):
--   * NULL while the loan is open (returned_at IS NULL);
--   * on return without a fine: set to returned_at (same transaction);
--   * on return with a fine (a row in demo.fines for this loan): stays NULL while the fine is owed,
--     and is set to the payment time when the fine is paid or waived.
--   So "closed and settled" = returned_at IS NOT NULL AND fines_settled_at IS NOT NULL, and a
--   closed row with fines_settled_at IS NULL is exactly a returned loan with an unpaid fine.
--
-- Usage: psql -v ON_ERROR_STOP=1 -f demo/schema.sql   (drops and recreates schema demo)

\set ON_ERROR_STOP 1
SET client_min_messages = warning;
DROP SCHEMA IF EXISTS demo CASCADE;
CREATE SCHEMA demo;
COMMENT ON SCHEMA demo IS 'Sample library consortium (ILS) used by the pals_privacy demo, tests and benchmarks';
SET search_path = demo, pg_catalog;

-- Member libraries of the consortium ------------------------------------------------------------
CREATE TABLE libraries (
    id          integer PRIMARY KEY,
    code        text NOT NULL UNIQUE,
    name        text NOT NULL,
    city        text NOT NULL
);

-- Patrons (cardholders) -------------------------------------------------------------------------
CREATE TABLE patrons (
    id            bigint PRIMARY KEY,
    library_id    integer NOT NULL REFERENCES libraries (id),
    name          text NOT NULL,
    card_number   text NOT NULL UNIQUE,          -- 14-digit barcode on the card (no PIN here)
    birth_date    date,
    registered_on date NOT NULL DEFAULT current_date,
    expires_on    date NOT NULL,
    keep_history  boolean NOT NULL DEFAULT false, -- patron opted in to keeping reading history
    deleted       boolean NOT NULL DEFAULT false  -- soft delete (the ILS hides, never deletes)
);
COMMENT ON TABLE patrons IS 'Cardholders. Row id 0 is the ANONYMOUS placeholder that severed loans and holds point to.';
COMMENT ON COLUMN patrons.keep_history IS 'Opt-in: the patron asked the library to keep their borrowing history';
COMMENT ON COLUMN patrons.deleted IS 'Soft-delete flag set by the ILS instead of DELETE';
CREATE INDEX patrons_library_idx ON patrons (library_id);
CREATE INDEX patrons_expires_idx ON patrons (expires_on);
CREATE INDEX patrons_name_idx ON patrons (lower(name));

-- Contact details, one row per patron ----------------------------------------------------------
CREATE TABLE addresses (
    patron_id   bigint PRIMARY KEY REFERENCES patrons (id) ON DELETE CASCADE,
    email       text,
    phone       text,       -- voice calls
    sms         text,       -- mobile number for text messages
    postal      text        -- mailing address
);

-- Catalogue -------------------------------------------------------------------------------------
CREATE TABLE titles (
    id          bigint PRIMARY KEY,
    title       text NOT NULL,
    author      text,
    isbn        text,
    pub_year    integer
);
CREATE INDEX titles_title_idx ON titles (lower(title));
CREATE INDEX titles_author_idx ON titles (lower(author));

CREATE TABLE items (
    id          bigint PRIMARY KEY,
    title_id    bigint NOT NULL REFERENCES titles (id),
    library_id  integer NOT NULL REFERENCES libraries (id),
    barcode     text NOT NULL UNIQUE,
    call_number text,
    status      text NOT NULL DEFAULT 'available'
        CHECK (status IN ('available', 'on_loan', 'lost', 'damaged', 'withdrawn'))
);
CREATE INDEX items_title_idx ON items (title_id);
CREATE INDEX items_library_idx ON items (library_id);

-- Loans: partitioned by year of checkout -------------------------------------------------------
CREATE SEQUENCE loans_id_seq AS bigint;
CREATE TABLE loans (
    id                    bigint NOT NULL DEFAULT nextval('demo.loans_id_seq'),
    patron_id             bigint NOT NULL REFERENCES patrons (id),
    item_id               bigint NOT NULL REFERENCES items (id),
    library_id            integer NOT NULL REFERENCES libraries (id),   -- checkout library
    checked_out_at        timestamptz NOT NULL,
    due_at                timestamptz NOT NULL,
    returned_at           timestamptz,          -- NULL = open loan; non-NULL = closed
    fines_settled_at      timestamptz,          -- see header: NULL on a closed loan = fine still owed
    renewal_count         integer NOT NULL DEFAULT 0,
    renews_loan_id        bigint,               -- the loan this row renews (with renews_checked_out_at)
    renews_checked_out_at timestamptz,
    PRIMARY KEY (id, checked_out_at),
    FOREIGN KEY (renews_loan_id, renews_checked_out_at) REFERENCES loans (id, checked_out_at),
    CHECK ((renews_loan_id IS NULL) = (renews_checked_out_at IS NULL)),
    CHECK (returned_at IS NULL OR returned_at >= checked_out_at),
    CHECK (fines_settled_at IS NULL OR returned_at IS NOT NULL)
) PARTITION BY RANGE (checked_out_at);
ALTER SEQUENCE loans_id_seq OWNED BY loans.id;
COMMENT ON TABLE loans IS 'Circulation: one row per checkout. Partitioned by year of checked_out_at. A renewal closes the old row and inserts a new row referencing it (renews_loan_id, renews_checked_out_at): the composite FK is needed because the primary key of a partitioned table must contain the partition key.';
COMMENT ON COLUMN loans.fines_settled_at IS 'NULL while open; = returned_at when returned without fine; NULL after return while a fine on this loan is owed; payment time once paid';

CREATE TABLE loans_2025 PARTITION OF loans FOR VALUES FROM ('2025-01-01 00:00:00+00') TO ('2026-01-01 00:00:00+00');
CREATE TABLE loans_2026 PARTITION OF loans FOR VALUES FROM ('2026-01-01 00:00:00+00') TO ('2027-01-01 00:00:00+00');
CREATE TABLE loans_2027 PARTITION OF loans FOR VALUES FROM ('2027-01-01 00:00:00+00') TO ('2028-01-01 00:00:00+00');
CREATE TABLE loans_default PARTITION OF loans DEFAULT;

CREATE INDEX loans_item_idx ON loans (item_id, checked_out_at);
CREATE INDEX loans_patron_idx ON loans (patron_id);
CREATE INDEX loans_open_idx ON loans (item_id) WHERE returned_at IS NULL;          -- "is it on loan?"
CREATE INDEX loans_open_patron_idx ON loans (patron_id, due_at) WHERE returned_at IS NULL;
CREATE INDEX loans_unsettled_idx ON loans (patron_id) WHERE returned_at IS NOT NULL AND fines_settled_at IS NULL;
CREATE INDEX loans_renews_idx ON loans (renews_loan_id) WHERE renews_loan_id IS NOT NULL;
CREATE INDEX loans_checked_out_idx ON loans (checked_out_at);              -- reports by period
-- at most one open loan per item (per partition: a unique index on a partitioned table must
-- contain the partition key, so this is per year; the ILS checks across years itself)
CREATE UNIQUE INDEX loans_2025_one_open ON loans_2025 (item_id) WHERE returned_at IS NULL;
CREATE UNIQUE INDEX loans_2026_one_open ON loans_2026 (item_id) WHERE returned_at IS NULL;
CREATE UNIQUE INDEX loans_2027_one_open ON loans_2027 (item_id) WHERE returned_at IS NULL;

-- Holds (title-level requests) -----------------------------------------------------------------
CREATE TABLE holds (
    id                bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    patron_id         bigint NOT NULL REFERENCES patrons (id),
    title_id          bigint NOT NULL REFERENCES titles (id),
    item_id           bigint REFERENCES items (id),        -- the copy trapped for the patron, if any
    pickup_library_id integer NOT NULL REFERENCES libraries (id),
    placed_at         timestamptz NOT NULL,
    fulfilled_at      timestamptz,     -- closed: picked up
    cancelled_at      timestamptz,     -- closed: cancelled or expired
    CHECK (fulfilled_at IS NULL OR cancelled_at IS NULL)
);
COMMENT ON TABLE holds IS 'Title-level holds. A hold is closed when fulfilled_at or cancelled_at is set.';
CREATE INDEX holds_patron_idx ON holds (patron_id);
CREATE INDEX holds_title_open_idx ON holds (title_id, placed_at) WHERE fulfilled_at IS NULL AND cancelled_at IS NULL;
CREATE INDEX holds_item_idx ON holds (item_id) WHERE item_id IS NOT NULL;

-- Money ---------------------------------------------------------------------------------------
CREATE TABLE fines (
    id                    bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    patron_id             bigint NOT NULL REFERENCES patrons (id),
    loan_id               bigint,
    loan_checked_out_at   timestamptz,
    amount                numeric(10,2) NOT NULL CHECK (amount > 0),
    reason                text NOT NULL DEFAULT 'overdue',
    created_at            timestamptz NOT NULL,
    FOREIGN KEY (loan_id, loan_checked_out_at) REFERENCES loans (id, checked_out_at)
);
CREATE INDEX fines_patron_idx ON fines (patron_id);
CREATE INDEX fines_loan_idx ON fines (loan_id, loan_checked_out_at);

CREATE TABLE payments (
    id          bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    patron_id   bigint NOT NULL REFERENCES patrons (id),
    amount      numeric(10,2) NOT NULL CHECK (amount > 0),
    method      text NOT NULL DEFAULT 'cash',
    paid_at     timestamptz NOT NULL
);
CREATE INDEX payments_patron_idx ON payments (patron_id);

CREATE VIEW balances AS
SELECT patron_id, sum(amount)::numeric(12,2) AS owed
FROM (SELECT patron_id, amount FROM demo.fines
      UNION ALL
      SELECT patron_id, -amount FROM demo.payments) m
GROUP BY patron_id;
COMMENT ON VIEW balances IS 'Amount owed per patron (fines minus payments); patrons without rows owe nothing';

-- Short-lived records ----------------------------------------------------------------------------
CREATE TABLE internet_signups (
    id            bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    patron_id     bigint NOT NULL REFERENCES patrons (id),
    library_id    integer NOT NULL REFERENCES libraries (id),
    workstation   text NOT NULL,
    signed_up_at  timestamptz NOT NULL
);
CREATE INDEX internet_signups_at_idx ON internet_signups (signed_up_at);
CREATE INDEX internet_signups_patron_idx ON internet_signups (patron_id);

CREATE TABLE receipts (
    id          bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    patron_id   bigint NOT NULL REFERENCES patrons (id),
    library_id  integer NOT NULL REFERENCES libraries (id),
    printed_at  timestamptz NOT NULL,
    body        text NOT NULL
);
CREATE INDEX receipts_printed_idx ON receipts (printed_at);
CREATE INDEX receipts_patron_idx ON receipts (patron_id);

-- Notices the ILS sends (picked up by a mailer) ---------------------------------------------------
CREATE TABLE notice_outbox (
    id          bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    patron_id   bigint NOT NULL REFERENCES patrons (id),
    channel     text NOT NULL CHECK (channel IN ('email', 'sms', 'phone', 'mail')),
    purpose     text NOT NULL DEFAULT 'notices',    -- 'notices' (overdue, hold ready) or 'newsletter'
    body        text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    sent_at     timestamptz
);
CREATE INDEX notice_outbox_unsent_idx ON notice_outbox (created_at) WHERE sent_at IS NULL;
CREATE INDEX notice_outbox_patron_idx ON notice_outbox (patron_id);

-- Notices and events about a loan (overdue, lost): they reference the loan and carry the patron and
-- a rendered text naming patron and item.  The ILS keeps 'lost' notices while the bill is open
-- (billing disputes): a BEFORE DELETE trigger of its own returns NULL for them.
CREATE TABLE loan_events (
    id                  bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    loan_id             bigint NOT NULL,
    loan_checked_out_at timestamptz NOT NULL,
    patron_id           bigint NOT NULL REFERENCES patrons (id),
    kind                text NOT NULL CHECK (kind IN ('courtesy', 'overdue', 'lost')),
    rendered            text NOT NULL,          -- the notice as sent: names patron and item
    created_at          timestamptz NOT NULL,
    bill_open           boolean NOT NULL DEFAULT false,
    FOREIGN KEY (loan_id, loan_checked_out_at) REFERENCES loans (id, checked_out_at)
);
CREATE INDEX loan_events_loan_idx ON loan_events (loan_id);
CREATE INDEX loan_events_patron_idx ON loan_events (patron_id);
CREATE FUNCTION keep_open_bill_events() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.kind = 'lost' AND OLD.bill_open THEN
        RETURN NULL;        -- kept: the bill is disputed until it is closed
    END IF;
    RETURN OLD;
END $$;
CREATE TRIGGER keep_open_bill_events BEFORE DELETE ON loan_events
    FOR EACH ROW EXECUTE FUNCTION keep_open_bill_events();

-- Devices lent for a few weeks (laptops, hotspots, e-readers) -------------------------------------
CREATE TABLE devices (
    id          bigint PRIMARY KEY,
    library_id  integer NOT NULL REFERENCES libraries (id),
    kind        text NOT NULL,
    barcode     text NOT NULL UNIQUE
);

-- Billable transactions: an inheritance parent (the shape of Evergreen's money.billable_xact).
-- Its children are device loans (a second circulation table, closed by a condition: a device
-- lost and paid for is finished although never checked in) and miscellaneous charges.  A query
-- on the parent reads every child's patron.
CREATE SEQUENCE billable_xacts_id_seq AS bigint;
CREATE TABLE billable_xacts (
    id          bigint NOT NULL DEFAULT nextval('demo.billable_xacts_id_seq') PRIMARY KEY,
    patron_id   bigint NOT NULL REFERENCES patrons (id),
    xact_start  timestamptz NOT NULL,
    xact_finish timestamptz          -- set when nothing is owed on it any more
);
ALTER SEQUENCE billable_xacts_id_seq OWNED BY billable_xacts.id;
CREATE TABLE device_loans (
    device_id      bigint NOT NULL REFERENCES devices (id),
    due_at         timestamptz NOT NULL,
    checkin_time   timestamptz,      -- NULL while out, and for a device lost or claimed returned
    stop_reason    text CHECK (stop_reason IN ('LOST', 'CLAIMSRETURNED', 'LONGOVERDUE')),
    renews_xact_id bigint,
    PRIMARY KEY (id),
    FOREIGN KEY (patron_id) REFERENCES patrons (id),
    FOREIGN KEY (renews_xact_id) REFERENCES device_loans (id)
) INHERITS (billable_xacts);
CREATE INDEX device_loans_device_idx ON device_loans (device_id, xact_start);
CREATE INDEX device_loans_patron_idx ON device_loans (patron_id);
CREATE TABLE misc_charges (
    billing_type text NOT NULL,
    note         text,
    PRIMARY KEY (id),
    FOREIGN KEY (patron_id) REFERENCES patrons (id)
) INHERITS (billable_xacts);
CREATE INDEX misc_charges_patron_idx ON misc_charges (patron_id);
COMMENT ON TABLE device_loans IS 'Device loans: closed when checked in, or when lost or claimed returned and finished (paid); a renewal references the row it renews';

-- Per-transaction summary of device loans, kept by the ILS's own trigger (the shape of
-- Evergreen's materialized billable-transaction summary): a copy of the loan's patron and device.
CREATE TABLE xact_summaries (
    xact_id       bigint PRIMARY KEY REFERENCES device_loans (id),
    patron_id     bigint REFERENCES patrons (id),
    device_id     bigint NOT NULL REFERENCES devices (id),
    balance_owed  numeric(10,2) NOT NULL DEFAULT 0,
    last_event    text,
    last_event_at timestamptz
);
CREATE INDEX xact_summaries_patron_idx ON xact_summaries (patron_id);
CREATE FUNCTION sync_xact_summary() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO demo.xact_summaries AS s (xact_id, patron_id, device_id, last_event, last_event_at)
    VALUES (NEW.id, NEW.patron_id, NEW.device_id,
            CASE WHEN NEW.stop_reason IS NOT NULL THEN lower(NEW.stop_reason)
                 WHEN NEW.checkin_time IS NOT NULL THEN 'checkin' ELSE 'checkout' END,
            coalesce(NEW.xact_finish, NEW.checkin_time, NEW.xact_start))
    ON CONFLICT (xact_id) DO UPDATE
       SET patron_id = EXCLUDED.patron_id, last_event = EXCLUDED.last_event,
           last_event_at = EXCLUDED.last_event_at;
    RETURN NULL;
END $$;
CREATE TRIGGER sync_xact_summary AFTER INSERT OR UPDATE ON device_loans
    FOR EACH ROW EXECUTE FUNCTION sync_xact_summary();

-- The ILS's own audit history of patron records: its triggers write the old row of every
-- change to a patron or an address (the shape of Evergreen's auditor.actor_usr_history).
CREATE TABLE patron_history (
    audit_id     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    audit_time   timestamptz NOT NULL DEFAULT now(),
    audit_action char(1) NOT NULL,       -- U or D
    patron_id    bigint NOT NULL,         -- no foreign key: it outlives the patron
    name         text,
    card_number  text,
    birth_date   date,
    expires_on   date,
    email        text,
    phone        text,
    postal       text
);
CREATE INDEX patron_history_patron_idx ON patron_history (patron_id);
CREATE INDEX patron_history_time_idx ON patron_history (audit_time);
CREATE FUNCTION audit_patron() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO demo.patron_history (audit_action, patron_id, name, card_number, birth_date, expires_on)
    VALUES (left(TG_OP, 1), OLD.id, OLD.name, OLD.card_number, OLD.birth_date, OLD.expires_on);
    RETURN NULL;
END $$;
CREATE FUNCTION audit_address() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO demo.patron_history (audit_action, patron_id, email, phone, postal)
    VALUES (left(TG_OP, 1), OLD.patron_id, OLD.email, OLD.phone, OLD.postal);
    RETURN NULL;
END $$;
CREATE TRIGGER audit_patron AFTER UPDATE OR DELETE ON patrons FOR EACH ROW EXECUTE FUNCTION audit_patron();
CREATE TRIGGER audit_address AFTER UPDATE OR DELETE ON addresses FOR EACH ROW EXECUTE FUNCTION audit_address();

-- Opt-in reading history kept by the OPAC ("my reading list") -------------------------------------
CREATE TABLE reading_history (
    id          bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    patron_id   bigint NOT NULL REFERENCES patrons (id) ON DELETE CASCADE,
    title_id    bigint NOT NULL REFERENCES titles (id),
    read_at     timestamptz NOT NULL,
    rating      smallint CHECK (rating BETWEEN 1 AND 5),
    note        text
);
CREATE INDEX reading_history_patron_idx ON reading_history (patron_id, read_at);

-- The ILS's own routine to remove one patron (bound as purge_function in demo/bind.sql).  It
-- soft-deletes: the row stays (other modules reference it), scrubbed of identity, flagged deleted,
-- its card expired today.  Financial records are kept for the accounts but re-pointed to the
-- anonymous patron; logs, outgoing notices and contact details of the patron are deleted.
-- Loans and holds are expected to have been severed already (pals_privacy does it before
-- calling this); if one still points to the patron, it stays, and so does the patron's id.
-- Its own audit triggers (patron_history above) record the row it scrubs.
CREATE FUNCTION purge_patron(p_patron_id bigint) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF p_patron_id = 0 THEN
        RAISE EXCEPTION 'the anonymous placeholder patron cannot be purged';
    END IF;
    UPDATE demo.fines        SET patron_id = 0 WHERE patron_id = p_patron_id;
    UPDATE demo.payments     SET patron_id = 0 WHERE patron_id = p_patron_id;
    UPDATE demo.misc_charges SET patron_id = 0 WHERE patron_id = p_patron_id;
    DELETE FROM demo.internet_signups WHERE patron_id = p_patron_id;
    DELETE FROM demo.receipts         WHERE patron_id = p_patron_id;
    DELETE FROM demo.notice_outbox    WHERE patron_id = p_patron_id;
    DELETE FROM demo.addresses        WHERE patron_id = p_patron_id;
    DELETE FROM demo.reading_history  WHERE patron_id = p_patron_id;
    UPDATE demo.patrons
       SET name = 'PURGED', card_number = 'PURGED-' || id, birth_date = NULL,
           keep_history = false, deleted = true, expires_on = current_date
     WHERE id = p_patron_id;
END
$$;
COMMENT ON FUNCTION purge_patron(bigint) IS 'ILS purge routine: anonymise money rows, drop logs and contacts, soft-delete and scrub the patron';

-- Reference data that does not depend on scale ------------------------------------------------------
INSERT INTO libraries (id, code, name, city) VALUES
    (1, 'ALD', 'Alder Grove Public Library', 'Alder Grove'),
    (2, 'BRK', 'Brookfield Memorial Library', 'Brookfield'),
    (3, 'CDR', 'Cedar Falls Free Library', 'Cedar Falls'),
    (4, 'DUN', 'Dunmore Community Library', 'Dunmore'),
    (5, 'ELM', 'Elmira Heights Library', 'Elmira Heights');

-- The anonymous placeholder patron: never expires, never purged (severed rows point here).
INSERT INTO patrons (id, library_id, name, card_number, birth_date, registered_on, expires_on, keep_history, deleted)
VALUES (0, 1, 'ANONYMOUS', '00000000000000', NULL, '2000-01-01', 'infinity', false, false);

RESET search_path;
