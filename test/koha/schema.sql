-- test/koha/schema.sql: a Koha-shaped ILS schema, written for these tests from the shape of
-- Koha's own tables (names, types, keys and what the ILS does with them), with its own
-- routines doing what Koha's Perl does in the database: a return moves the loan from issues to
-- old_issues, a filled or cancelled hold moves from reserves to old_reserves, a patron's delete
-- moves the row to deletedborrowers, and every circulation writes statistics and action_logs.
--
-- Run as the ILS's own role (the one Koha's installer connects as): it owns schema koha and
-- every table, as on a real installation.  Nothing here knows about pals_privacy.

CREATE SCHEMA koha;

CREATE TABLE koha.branches (
    branchcode varchar(10) PRIMARY KEY,
    branchname text NOT NULL
);

CREATE TABLE koha.biblio (
    biblionumber serial PRIMARY KEY,
    title        text,
    author       text
);

CREATE TABLE koha.items (
    itemnumber       serial PRIMARY KEY,
    biblionumber     int NOT NULL REFERENCES koha.biblio ON DELETE CASCADE,
    barcode          varchar(20) UNIQUE,
    homebranch       varchar(10) REFERENCES koha.branches,
    holdingbranch    varchar(10) REFERENCES koha.branches,
    onloan           date,
    datelastborrowed date,
    datelastseen     date,
    issues           smallint NOT NULL DEFAULT 0,
    itemlost         smallint NOT NULL DEFAULT 0
);

-- privacy: 0 keep my reading history for ever, 1 default (the library's rules), 2 never keep it
CREATE TABLE koha.borrowers (
    borrowernumber serial PRIMARY KEY,
    cardnumber     varchar(32) UNIQUE,
    surname        text,
    firstname      text,
    email          text,
    smsalertnumber varchar(50),
    address        text,
    branchcode     varchar(10) NOT NULL REFERENCES koha.branches,
    categorycode   varchar(10) NOT NULL DEFAULT 'PT',
    dateofbirth    date,
    dateenrolled   date,
    dateexpiry     date,
    privacy        smallint NOT NULL DEFAULT 1,
    lastseen       timestamp,
    userid         varchar(75) UNIQUE
);
CREATE INDEX borrowers_surname ON koha.borrowers (surname);

-- Koha keeps a deleted patron's row here (Koha::Patron->delete moves it): no keys at all
CREATE TABLE koha.deletedborrowers (LIKE koha.borrowers);
CREATE INDEX deletedborrowers_borrowernumber ON koha.deletedborrowers (borrowernumber);

-- One issue_id sequence for issues and old_issues: a loan keeps its id when it moves
CREATE SEQUENCE koha.issue_id_seq;
CREATE TABLE koha.issues (
    issue_id        int PRIMARY KEY DEFAULT nextval('koha.issue_id_seq'),
    borrowernumber  int REFERENCES koha.borrowers ON DELETE RESTRICT ON UPDATE CASCADE,
    itemnumber      int UNIQUE REFERENCES koha.items ON DELETE RESTRICT ON UPDATE CASCADE,
    date_due        timestamp,
    branchcode      varchar(10),
    returndate      timestamp,
    lastreneweddate timestamp,
    renewals        smallint NOT NULL DEFAULT 0,
    issuedate       timestamp,
    note            text,
    "timestamp"     timestamp NOT NULL DEFAULT now()
);
CREATE INDEX issues_borrowernumber ON koha.issues (borrowernumber);
CREATE TABLE koha.old_issues (
    issue_id        int PRIMARY KEY,
    borrowernumber  int REFERENCES koha.borrowers ON DELETE SET NULL ON UPDATE SET NULL,
    itemnumber      int REFERENCES koha.items ON DELETE SET NULL ON UPDATE SET NULL,
    date_due        timestamp,
    branchcode      varchar(10),
    returndate      timestamp,
    lastreneweddate timestamp,
    renewals        smallint NOT NULL DEFAULT 0,
    issuedate       timestamp,
    note            text,
    "timestamp"     timestamp NOT NULL DEFAULT now()
);
CREATE INDEX old_issues_borrowernumber ON koha.old_issues (borrowernumber);
CREATE INDEX old_issues_itemnumber ON koha.old_issues (itemnumber);

-- Holds: itemnumber is NULL for a title-level hold until an item is trapped; found is
-- 'W' waiting, 'T' in transit, 'F' filled; a cancelled hold has its cancellationdate
CREATE SEQUENCE koha.reserve_id_seq;
CREATE TABLE koha.reserves (
    reserve_id       int PRIMARY KEY DEFAULT nextval('koha.reserve_id_seq'),
    borrowernumber   int NOT NULL REFERENCES koha.borrowers ON DELETE CASCADE ON UPDATE CASCADE,
    reservedate      date,
    biblionumber     int NOT NULL REFERENCES koha.biblio ON DELETE CASCADE,
    itemnumber       int REFERENCES koha.items ON DELETE CASCADE,
    branchcode       varchar(10) REFERENCES koha.branches,
    cancellationdate date,
    priority         smallint NOT NULL DEFAULT 0,
    found            varchar(1),
    "timestamp"      timestamp NOT NULL DEFAULT now(),
    waitingdate      date,
    expirationdate   date,
    reservenotes     text
);
CREATE INDEX reserves_borrowernumber ON koha.reserves (borrowernumber);
CREATE INDEX reserves_itemnumber ON koha.reserves (itemnumber);
CREATE TABLE koha.old_reserves (
    reserve_id       int PRIMARY KEY,
    borrowernumber   int REFERENCES koha.borrowers ON DELETE SET NULL ON UPDATE SET NULL,
    reservedate      date,
    biblionumber     int REFERENCES koha.biblio ON DELETE SET NULL,
    itemnumber       int REFERENCES koha.items ON DELETE SET NULL,
    branchcode       varchar(10),
    cancellationdate date,
    priority         smallint NOT NULL DEFAULT 0,
    found            varchar(1),
    "timestamp"      timestamp NOT NULL DEFAULT now(),
    waitingdate      date,
    expirationdate   date,
    reservenotes     text
);
CREATE INDEX old_reserves_borrowernumber ON koha.old_reserves (borrowernumber);
CREATE INDEX old_reserves_itemnumber ON koha.old_reserves (itemnumber);

-- Fines and payments; an overdue fine names its loan (issue_id, no foreign key: the loan moves
-- between two tables) and its item; description is the title and due date, as Koha writes it
CREATE TABLE koha.accountlines (
    accountlines_id   serial PRIMARY KEY,
    issue_id          int,
    borrowernumber    int REFERENCES koha.borrowers ON DELETE SET NULL ON UPDATE CASCADE,
    itemnumber        int REFERENCES koha.items ON DELETE SET NULL ON UPDATE SET NULL,
    date              timestamp,
    amount            numeric(28,6),
    description       text,
    debit_type_code   varchar(64),
    credit_type_code  varchar(80),
    status            varchar(16),
    amountoutstanding numeric(28,6),
    "timestamp"       timestamp NOT NULL DEFAULT now(),
    note              text,
    manager_id        int
);
CREATE INDEX accountlines_borrowernumber ON koha.accountlines (borrowernumber);
CREATE INDEX accountlines_issue_id ON koha.accountlines (issue_id);

-- The circulation log the ILS writes on every issue and return (Koha's statistics has no key)
CREATE TABLE koha.statistics (
    datetime       timestamp,
    branch         varchar(10),
    value          numeric(28,4),
    type           varchar(16),
    other          text,
    itemnumber     int,
    itemtype       varchar(10),
    borrowernumber int,
    categorycode   varchar(10),
    interface      varchar(30)
);
CREATE INDEX statistics_datetime ON koha.statistics (datetime);
CREATE INDEX statistics_borrowernumber ON koha.statistics (borrowernumber);
CREATE INDEX statistics_itemnumber ON koha.statistics (itemnumber);

-- The generic audit log: for CIRCULATION and MEMBERS, object is the borrowernumber (info the
-- itemnumber, or the patron's data); for CATALOGUING, object is the itemnumber
CREATE TABLE koha.action_logs (
    action_id   serial PRIMARY KEY,
    "timestamp" timestamp NOT NULL DEFAULT now(),
    "user"      int NOT NULL DEFAULT 0,
    module      text,
    action      text,
    object      int,
    info        text,
    interface   varchar(30)
);
CREATE INDEX action_logs_object ON koha.action_logs (object);

-- Notices, rendered: the content names the patron and the title
CREATE TABLE koha.message_queue (
    message_id             serial PRIMARY KEY,
    borrowernumber         int REFERENCES koha.borrowers ON DELETE CASCADE ON UPDATE CASCADE,
    subject                text,
    content                text,
    letter_code            varchar(64),
    message_transport_type varchar(20) NOT NULL,
    status                 varchar(16) NOT NULL DEFAULT 'pending',
    time_queued            timestamp,
    updated_on             timestamp NOT NULL DEFAULT now(),
    to_address             text
);
CREATE INDEX message_queue_borrowernumber ON koha.message_queue (borrowernumber);

-- Interlibrary loans: the lender's order id names the item borrowed (text; NULL until ordered)
CREATE TABLE koha.illrequests (
    illrequest_id  serial PRIMARY KEY,
    borrowernumber int REFERENCES koha.borrowers ON DELETE CASCADE ON UPDATE CASCADE,
    biblio_id      int,
    branchcode     varchar(50) NOT NULL,
    status         varchar(50),
    placed         date,
    completed      date,
    orderid        varchar(50),
    backend        varchar(20)
);
CREATE INDEX illrequests_borrowernumber ON koha.illrequests (borrowernumber);

------------------------------------------------------------------------------
-- What Koha's Perl does, as routines of the ILS (they run as the caller)
------------------------------------------------------------------------------

-- C4::Circulation::AddIssue
CREATE FUNCTION koha.add_issue(p_borrowernumber int, p_barcode text, p_at timestamp) RETURNS int
LANGUAGE plpgsql AS $$
DECLARE it koha.items; b koha.borrowers; id int;
BEGIN
    SELECT * INTO STRICT it FROM koha.items WHERE barcode = p_barcode;
    SELECT * INTO STRICT b FROM koha.borrowers WHERE borrowernumber = p_borrowernumber;
    INSERT INTO koha.issues (borrowernumber, itemnumber, date_due, branchcode, issuedate)
    VALUES (p_borrowernumber, it.itemnumber, p_at + interval '14 days', it.holdingbranch, p_at)
    RETURNING issue_id INTO id;
    UPDATE koha.items SET onloan = (p_at + interval '14 days')::date, datelastborrowed = p_at::date,
                          issues = issues + 1 WHERE itemnumber = it.itemnumber;
    INSERT INTO koha.statistics (datetime, branch, type, itemnumber, borrowernumber, categorycode, interface)
    VALUES (p_at, it.holdingbranch, 'issue', it.itemnumber, p_borrowernumber, b.categorycode, 'intranet');
    INSERT INTO koha.action_logs ("timestamp", module, action, object, info, interface)
    VALUES (p_at, 'CIRCULATION', 'ISSUE', p_borrowernumber, it.itemnumber::text, 'intranet');
    UPDATE koha.borrowers SET lastseen = p_at WHERE borrowernumber = p_borrowernumber;
    RETURN id;
END $$;

-- C4::Circulation::AddReturn / MarkIssueReturned: the loan gets its return date, moves to
-- old_issues, and (privacy 2, "never keep") is anonymised at once to the AnonymousPatron
CREATE FUNCTION koha.add_return(p_barcode text, p_at timestamp) RETURNS int
LANGUAGE plpgsql AS $$
DECLARE it koha.items; iss koha.issues; b koha.borrowers;
BEGIN
    SELECT * INTO STRICT it FROM koha.items WHERE barcode = p_barcode;
    UPDATE koha.issues SET returndate = p_at, "timestamp" = p_at WHERE itemnumber = it.itemnumber RETURNING * INTO STRICT iss;
    INSERT INTO koha.old_issues SELECT * FROM koha.issues WHERE issue_id = iss.issue_id;
    DELETE FROM koha.issues WHERE issue_id = iss.issue_id;
    SELECT * INTO b FROM koha.borrowers WHERE borrowernumber = iss.borrowernumber;
    IF b.privacy = 2 THEN
        UPDATE koha.old_issues SET borrowernumber = 1 WHERE issue_id = iss.issue_id;
    END IF;
    UPDATE koha.items SET onloan = NULL, datelastseen = p_at::date WHERE itemnumber = it.itemnumber;
    UPDATE koha.accountlines SET status = 'RETURNED' WHERE issue_id = iss.issue_id AND status = 'UNRETURNED';
    INSERT INTO koha.statistics (datetime, branch, type, itemnumber, borrowernumber, categorycode, interface)
    VALUES (p_at, it.holdingbranch, 'return', it.itemnumber, iss.borrowernumber, b.categorycode, 'intranet');
    INSERT INTO koha.action_logs ("timestamp", module, action, object, info, interface)
    VALUES (p_at, 'CIRCULATION', 'RETURN', iss.borrowernumber, it.itemnumber::text, 'intranet');
    RETURN iss.issue_id;
END $$;

-- Koha::Hold->_move_to_old after a fill or a cancellation
CREATE FUNCTION koha.fill_hold(p_reserve_id int, p_at timestamp) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE koha.reserves SET found = 'F', "timestamp" = p_at WHERE reserve_id = p_reserve_id;
    INSERT INTO koha.old_reserves SELECT * FROM koha.reserves WHERE reserve_id = p_reserve_id;
    DELETE FROM koha.reserves WHERE reserve_id = p_reserve_id;
END $$;
CREATE FUNCTION koha.cancel_hold(p_reserve_id int, p_at timestamp) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE koha.reserves SET cancellationdate = p_at::date, "timestamp" = p_at WHERE reserve_id = p_reserve_id;
    INSERT INTO koha.old_reserves SELECT * FROM koha.reserves WHERE reserve_id = p_reserve_id;
    DELETE FROM koha.reserves WHERE reserve_id = p_reserve_id;
END $$;

-- Koha::Patron->delete: logged (with the patron's data, as Koha's MEMBERS DELETE log does),
-- moved to deletedborrowers, then deleted (holds go by cascade, old loans lose the patron by
-- ON DELETE SET NULL, notices by cascade)
CREATE FUNCTION koha.delete_borrower(p_borrowernumber bigint) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO koha.action_logs (module, action, object, info, interface)
    SELECT 'MEMBERS', 'DELETE', borrowernumber, row_to_json(b)::text, 'cron' FROM koha.borrowers b
     WHERE borrowernumber = p_borrowernumber;
    INSERT INTO koha.deletedborrowers SELECT * FROM koha.borrowers WHERE borrowernumber = p_borrowernumber;
    DELETE FROM koha.borrowers WHERE borrowernumber = p_borrowernumber;
END $$;
