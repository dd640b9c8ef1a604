-- pals_privacy 0.1.0 -> 0.2.0, hand-written part 1 of 2: what CREATE OR
-- REPLACE cannot do, run BEFORE the files of the tables new since 0.1.0
-- (new.list) and every function, view and trigger file of sql/ (see
-- sql/README.md, "Upgrades and releases").  Every statement here
-- runs once, on a 0.1.0 database; test/t/060_upgrade.pl checks that the
-- result equals a fresh 0.2.0 install, catalog line for catalog line.

------------------------------------------------------------------------------
-- Functions whose arguments or results changed: dropped here, created again
-- by their files (bind_patrons: keep_history_column and name_columns moved
-- behind new arguments; bind_loans: closed_when and settled_when (issue 14);
-- sever_backlog: a procedure with new arguments).
------------------------------------------------------------------------------
DROP FUNCTION @extschema@.bind_patrons(regclass, name, name, name, name, name, regprocedure, name, name[]);
DROP FUNCTION @extschema@.bind_loans(regclass, name, name, name[], name, text, boolean, text);
DROP PROCEDURE @extschema@.sever_backlog(integer, boolean);

------------------------------------------------------------------------------
-- New columns (at the end of each table, where a fresh install puts them).
------------------------------------------------------------------------------
-- Every PIN stored before 0.2.0 was set with set_pin(), by staff or the ILS:
-- it becomes a one-time PIN too (issue 13, item 12).
ALTER TABLE @extschema@.patron_pins ADD COLUMN must_change boolean NOT NULL DEFAULT true;
COMMENT ON COLUMN @extschema@.patron_pins.must_change IS
    'A one-time PIN set by staff: login() with it only lets the patron change it';

ALTER TABLE @extschema@.maintenance_runs ADD COLUMN started_by text;
COMMENT ON COLUMN @extschema@.maintenance_runs.started_by IS
    'application_name of the session that started the run, else its backend type (the worker: pals_privacy maintenance)';

ALTER TABLE @extschema@.loan_binding ADD COLUMN closed_when text;
ALTER TABLE @extschema@.loan_binding ADD COLUMN settled_when text;
COMMENT ON COLUMN @extschema@.loan_binding.closed_when IS
    'Condition over the row: closed when it holds and a closed column is set (NULL: when a closed column is set)';
COMMENT ON COLUMN @extschema@.loan_binding.settled_when IS
    'Condition over the row: settled when it holds (NULL: settled_column is set, or always)';
ALTER TABLE @extschema@.loan_binding ADD COLUMN more_patron_columns name[] CHECK (cardinality(more_patron_columns) BETWEEN 1 AND 8);
COMMENT ON COLUMN @extschema@.loan_binding.more_patron_columns IS
    'Further columns naming a patron (a hold''s requestor): severed, masked and purged with patron_column (NULL: none)';
ALTER TABLE @extschema@.loan_binding ADD COLUMN hide_columns name[];
COMMENT ON COLUMN @extschema@.loan_binding.hide_columns IS
    'Columns a row shares with other rows of its patron (a visit''s checkout time, the workstation): read only where the row''s patron is (NULL: none)';
ALTER TABLE @extschema@.loan_binding ADD COLUMN last_borrower_group regclass;
COMMENT ON COLUMN @extschema@.loan_binding.last_borrower_group IS
    'The loan binding whose last borrowers this one shares (the first bound of a group over the same items, an archive and its loans): one last borrower per item across the group (NULL: its own)';
-- A closed time where the row's patron is not read reads coarsened (issue 14,
-- shelf_shape's charge-time join): the bindings of 0.1.0 to the day, in the
-- TimeZone of the session that upgrades.
ALTER TABLE @extschema@.loan_binding ADD COLUMN closed_precision text NOT NULL DEFAULT 'day'
    CHECK (closed_precision IN ('hour', 'day', 'week', 'month', 'year'));
-- (the existing rows take the session's zone from the default, as ADD COLUMN fills them: no
-- UPDATE, which the binding tables' audit trigger would record)
ALTER TABLE @extschema@.loan_binding ADD COLUMN closed_zone text NOT NULL DEFAULT current_setting('TimeZone');
ALTER TABLE @extschema@.loan_binding ALTER COLUMN closed_zone SET DEFAULT 'UTC';
COMMENT ON COLUMN @extschema@.loan_binding.closed_precision IS
    'A closed time on a row whose patron a class below operational does not read (severed, hidden) reads truncated to this: hour, day (default), week, month or year';
COMMENT ON COLUMN @extschema@.loan_binding.closed_zone IS
    'The time zone closed_precision truncates in (the TimeZone of the session that bound it), whatever the reader''s TimeZone';

-- A tracker entry chosen against the dates (a back-dated close by the desk)
-- survives a rebuild (issue 14): no entry of 0.1.0 was chosen so.
ALTER TABLE @extschema@.last_borrower ADD COLUMN pinned oid;

-- The reading-history opt-in as a condition (a smallint privacy flag, ...; issue 14).
ALTER TABLE @extschema@.patron_binding ADD COLUMN keep_history_when text;

-- The audit log's entries name the encoding their hash covers (issue 18):
-- every entry of 0.1.0 was hashed over fields joined with '|' (format 1) and
-- keeps verifying so, unchanged; entries from now on use format 2.
ALTER TABLE @extschema@.audit_log ADD COLUMN content_format smallint NOT NULL DEFAULT 1
    CONSTRAINT audit_log_content_format_check CHECK (content_format IN (1, 2));
ALTER TABLE @extschema@.audit_log ALTER COLUMN content_format SET DEFAULT 2;
COMMENT ON COLUMN @extschema@.audit_log.content_format IS
    'How the hash encodes the entry: 1, fields joined with | (entries written before 0.2.0); 2, length-prefixed fields (docs/audit.md)';

-- Entries are chained when their transaction commits (issue 14): open
-- transactions hold provisional ids, which a unique index would make wait
-- for each other.
ALTER TABLE @extschema@.audit_log DROP CONSTRAINT audit_log_pkey;
CREATE INDEX audit_log_id ON @extschema@.audit_log (id);

-- The statistics class (issue 14).
ALTER TABLE @extschema@.role_class DROP CONSTRAINT role_class_class_check;
ALTER TABLE @extschema@.role_class ADD CONSTRAINT role_class_class_check
    CHECK (class IN ('operational', 'staff', 'patron', 'collections', 'auditor', 'statistics'));

------------------------------------------------------------------------------
-- Dump and restore (issue 15): tables that carry state, and the identity
-- sequences of the extension's tables, are now dumped by pg_dump.
------------------------------------------------------------------------------
SELECT pg_catalog.pg_extension_config_dump('@extschema@.maintenance_runs', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.backlog_progress', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.outbox_dropped', '');
SELECT pg_catalog.pg_extension_config_dump(pg_catalog.pg_get_serial_sequence('@extschema@.private_history', 'id'), '');
SELECT pg_catalog.pg_extension_config_dump(pg_catalog.pg_get_serial_sequence('@extschema@.consent_history', 'id'), '');
SELECT pg_catalog.pg_extension_config_dump(pg_catalog.pg_get_serial_sequence('@extschema@.maintenance_runs', 'id'), '');
SELECT pg_catalog.pg_extension_config_dump(pg_catalog.pg_get_serial_sequence('@extschema@.legal_orders', 'id'), '');
SELECT pg_catalog.pg_extension_config_dump(pg_catalog.pg_get_serial_sequence('@extschema@.policy_acknowledgments', 'id'), '');

-- sever_backlog walks each relation in physical order (issue 17): where it
-- goes on, and the rows it read.  A run of 0.1.0 left in progress starts
-- again from the beginning (idempotent).
ALTER TABLE @extschema@.backlog_progress ADD COLUMN last_relid oid, ADD COLUMN last_tid tid,
    ADD COLUMN rows_scanned bigint NOT NULL DEFAULT 0, ADD COLUMN last_filenode oid;
