-- bench/shapes_bind.sql: bind the tables of bench/shapes.sql (after demo/bind.sql, which binds
-- the patron table).  Both sever to the placeholder patron 0 and keep each item's last borrower.
\set ON_ERROR_STOP 1
\o /dev/null
SET client_min_messages = warning;
SELECT pals_privacy.bind_loans(
    relation => 'shapes.issues', patron_column => 'borrower', item_column => 'item',
    closed_columns => ARRAY['returned']::name[], settled_column => 'settled',
    sever_with => 'patron:0', keep_last_borrower => true);
SELECT pals_privacy.bind_loans(
    relation => 'shapes.text_issues', patron_column => 'borrower', item_column => 'barcode',
    closed_columns => ARRAY['returned']::name[], settled_column => 'settled',
    sever_with => 'patron:0', keep_last_borrower => true);
RESET client_min_messages;
\o
