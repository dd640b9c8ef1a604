-- bench/shapes.sql: loan tables shaped unlike the sample consortium's, for bench/staff_shapes.sql.
--
--   psql -v scale=1 -f bench/shapes.sql       (after demo/schema.sql and demo/generate.sql)
--
-- Two loan-like tables next to schema demo, referencing demo.patrons:
--   shapes.issues          a plain table (recent loans, some open) with an inheritance child
--                          shapes.issues_archive (CREATE TABLE ... INHERITS) holding the deep past:
--                          bigint keys everywhere, `depth` closed, settled past loans per item
--                          (default 670: a popular item of a twenty-year-old consortium);
--   shapes.text_issues     the same history keyed by a text barcode instead of an item id.
-- Items 1..nhot (200 x scale) circulate here.  Deterministic (hashes, no random()).
-- bench/shapes_bind.sql binds both tables (severing to the placeholder patron 0).
\set ON_ERROR_STOP 1
\if :{?scale}
\else
\set scale 1
\endif
\if :{?depth}
\else
\set depth 670
\endif
SELECT greatest(20, round(200 * :scale))::bigint AS nhot,
       (SELECT max(id) FROM demo.patrons) AS npat \gset

CREATE SCHEMA shapes;
CREATE TABLE shapes.issues (
    id        bigint NOT NULL,
    borrower  bigint NOT NULL REFERENCES demo.patrons (id),
    item      bigint NOT NULL,
    branch    integer NOT NULL,
    issued    timestamptz NOT NULL,
    due       timestamptz NOT NULL,
    returned  timestamptz,
    settled   timestamptz
);
-- an inheritance child (not a partition): keys, foreign keys and indexes are its own
CREATE TABLE shapes.issues_archive () INHERITS (shapes.issues);
ALTER TABLE shapes.issues_archive ADD FOREIGN KEY (borrower) REFERENCES demo.patrons (id);
CREATE TABLE shapes.text_issues (
    id        bigint PRIMARY KEY,
    borrower  bigint NOT NULL REFERENCES demo.patrons (id),
    barcode   text NOT NULL,
    branch    integer NOT NULL,
    issued    timestamptz NOT NULL,
    returned  timestamptz,
    settled   timestamptz
);

-- the deep past: depth loans per item, one every 10 days back from 2025-06-01, closed and settled
INSERT INTO shapes.issues_archive (id, borrower, item, branch, issued, due, returned, settled)
SELECT i * 100000 + g, 1 + (hashint8(i * 7919 + g) & 2147483647) % :npat, i, 1 + i % 10,
       d, d + interval '21 days', d + interval '9 days', d + interval '9 days'
  FROM generate_series(1, :nhot) i
 CROSS JOIN generate_series(1, :depth) g
 CROSS JOIN LATERAL (SELECT timestamptz '2025-06-01 00:00+00' - g * interval '10 days' AS d) x;
-- the recent past in the parent: 12 loans per item since 2025-06-01; the newest one is open for a
-- third of the items, and one closed loan in 10 still owes a fine (unsettled)
INSERT INTO shapes.issues (id, borrower, item, branch, issued, due, returned, settled)
SELECT i * 100000 + 90000 + g, 1 + (hashint8(i * 104729 + g) & 2147483647) % :npat, i, 1 + i % 10,
       d, d + interval '21 days',
       CASE WHEN g = 12 AND i % 3 = 0 THEN NULL ELSE d + interval '9 days' END,
       CASE WHEN g = 12 AND i % 3 = 0 THEN NULL WHEN (i + g) % 10 = 0 THEN NULL ELSE d + interval '9 days' END
  FROM generate_series(1, :nhot) i
 CROSS JOIN generate_series(1, 12) g
 CROSS JOIN LATERAL (SELECT timestamptz '2025-06-01 00:00+00' + g * interval '14 days' AS d) x;
INSERT INTO shapes.text_issues (id, borrower, barcode, branch, issued, returned, settled)
SELECT id, borrower, 'B' || lpad(item::text, 10, '0'), branch, issued, returned, settled
  FROM shapes.issues;            -- parent and child: the same history, one table

ALTER TABLE ONLY shapes.issues ADD PRIMARY KEY (id);
ALTER TABLE shapes.issues_archive ADD PRIMARY KEY (id);
CREATE INDEX ON ONLY shapes.issues (item, issued);
CREATE INDEX ON ONLY shapes.issues (borrower);
CREATE INDEX ON shapes.issues_archive (item, issued);
CREATE INDEX ON shapes.issues_archive (borrower);
CREATE INDEX ON shapes.text_issues (barcode, issued);
CREATE INDEX ON shapes.text_issues (borrower);
CREATE INDEX ON shapes.text_issues (issued);

GRANT USAGE ON SCHEMA shapes TO ils_app, branch_staff, report_user;
GRANT SELECT ON ALL TABLES IN SCHEMA shapes TO ils_app, branch_staff, report_user;
GRANT INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA shapes TO ils_app;
ANALYZE shapes.issues, shapes.issues_archive, shapes.text_issues;
