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
--     and a notice outbox.
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

-- The ILS's own routine to remove one patron (bound as purge_function in demo/bind.sql) ---------
-- Financial records are kept for the accounts but re-pointed to the anonymous patron; logs and
-- outgoing notices of the patron are deleted; contact details and reading history cascade.
-- Loans and holds are expected to have been severed already (pals_privacy does it before
-- calling this); if one still points to the patron, the foreign key makes the purge fail.
CREATE FUNCTION purge_patron(p_patron_id bigint) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF p_patron_id = 0 THEN
        RAISE EXCEPTION 'the anonymous placeholder patron cannot be purged';
    END IF;
    UPDATE demo.fines    SET patron_id = 0 WHERE patron_id = p_patron_id;
    UPDATE demo.payments SET patron_id = 0 WHERE patron_id = p_patron_id;
    DELETE FROM demo.internet_signups WHERE patron_id = p_patron_id;
    DELETE FROM demo.receipts         WHERE patron_id = p_patron_id;
    DELETE FROM demo.notice_outbox    WHERE patron_id = p_patron_id;
    DELETE FROM demo.patrons          WHERE id = p_patron_id;
END
$$;
COMMENT ON FUNCTION purge_patron(bigint) IS 'ILS purge routine: anonymise money rows, drop logs, delete the patron';

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
