-- Binding calls: every call's success case (checked in pals_privacy.bindings),
-- and every kind of bad input, each failing with its SQLSTATE and message and
-- changing nothing.
SET client_min_messages = warning;   -- before: "already exists" would depend on test order
CREATE EXTENSION IF NOT EXISTS pals_privacy;
SET intervalstyle = postgres;   -- pg_regress sets postgres_verbose

BEGIN;

-- A small ILS-like schema: bigint patron ids, a NOT NULL loans patron
-- column with a foreign key, a partitioned table, an inheritance parent and
-- child, views, a text-keyed table.
CREATE SCHEMA lib;
CREATE TABLE lib.patrons (
    id            bigint PRIMARY KEY,
    card          text UNIQUE,
    name          text NOT NULL,
    email         text,
    phone         text,
    home_library  integer,
    born          date,
    expires       date NOT NULL,
    keep_history  boolean NOT NULL DEFAULT false,
    renew_at      time
);
INSERT INTO lib.patrons (id, card, name, expires) VALUES
    (0, 'ANON', 'anonymous placeholder', 'infinity'),
    (1, '21000000001', 'Ada', '2030-01-01');
CREATE TABLE lib.other_patrons (id bigint PRIMARY KEY, expires date NOT NULL);
CREATE VIEW lib.patron_view AS SELECT id, expires FROM lib.patrons;
CREATE FUNCTION lib.purge_patron(bigint) RETURNS void LANGUAGE sql AS 'DELETE FROM lib.patrons WHERE id = $1';
CREATE FUNCTION lib.purge_two(bigint, bigint) RETURNS void LANGUAGE sql AS 'SELECT';
CREATE FUNCTION lib.purge_date(date) RETURNS void LANGUAGE sql AS 'SELECT';

CREATE TABLE lib.cards (
    card_no      text PRIMARY KEY,
    old_card_no  text,
    patron_id    bigint NOT NULL REFERENCES lib.patrons,
    issued       timestamptz
);
-- text-keyed: cannot hold bigint patron ids
CREATE TABLE lib.web_accounts (login text PRIMARY KEY, patron_key text, created timestamptz);

CREATE TABLE lib.fines (
    id         serial PRIMARY KEY,
    patron_id  bigint REFERENCES lib.patrons,
    amount     numeric(8,2) NOT NULL,
    note       text
);
CREATE VIEW lib.balances AS
    SELECT patron_id, sum(amount) AS owed, count(*) AS n_fines FROM lib.fines GROUP BY patron_id;

CREATE TABLE lib.loans (
    id             bigserial PRIMARY KEY,
    patron_id      bigint NOT NULL REFERENCES lib.patrons,
    item_id        integer NOT NULL,
    renewal_of     bigint REFERENCES lib.loans,
    checked_out    timestamptz NOT NULL DEFAULT now(),
    returned       timestamptz,
    lost           timestamptz,
    returned_date  date,
    paid           timestamptz
);
CREATE VIEW lib.open_loans AS SELECT * FROM lib.loans WHERE returned IS NULL;

CREATE TABLE lib.holds (
    patron_id  bigint REFERENCES lib.patrons,
    item_id    bigint NOT NULL,
    placed     timestamptz NOT NULL,
    filled     timestamptz,
    cancelled  timestamptz
) PARTITION BY RANGE (placed);
CREATE TABLE lib.holds_2024 PARTITION OF lib.holds FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');

CREATE TABLE lib.bookings (
    patron_id  bigint NOT NULL,
    item_id    integer NOT NULL,
    starts     timestamptz NOT NULL,
    ended      timestamptz
);
CREATE TABLE lib.bookings_old (archived boolean) INHERITS (lib.bookings);

CREATE TABLE lib.reading_log (patron_id bigint, shared_with bigint, title text, read_at timestamptz);
CREATE TABLE lib.notices (id serial, patron_id integer, channel text, body text, queued timestamptz);
CREATE TABLE lib.signups (id serial, patron_id bigint, signed_up timestamptz NOT NULL, terminal text);
CREATE TABLE lib.visits (visited timestamptz NOT NULL, branch text, opened time);

-- The bindings, as text, without the time and author of each.
CREATE FUNCTION pg_temp.bindings_state() RETURNS text LANGUAGE sql AS $$
    SELECT coalesce(string_agg(format('%s|%s|%s|%s', kind, relation, column_name, settings), E'\n'
                               ORDER BY kind, relation::text, column_name), '(none)')
      FROM pals_privacy.bindings
$$;
-- A call that must fail with the given SQLSTATE and message, changing nothing.
CREATE FUNCTION pg_temp.fails(call text, code text, message text, description text)
RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE before text := pg_temp.bindings_state();
BEGIN
    RETURN NEXT throws_ok(call, code, message, description);
    RETURN NEXT is(pg_temp.bindings_state(), before, description || ': bindings unchanged');
END $$;
-- The outcome of a call ("SQLSTATE: message", or "no error"), always undone:
-- for calls that wrongly succeed, so that they do not upset the tests after.
CREATE FUNCTION pg_temp.outcome(call text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE result text;
BEGIN
    BEGIN
        BEGIN
            EXECUTE call;
            result := 'no error';
        EXCEPTION WHEN OTHERS THEN
            result := SQLSTATE || ': ' || SQLERRM;
        END;
        RAISE EXCEPTION 'undo' USING ERRCODE = 'P0004';
    EXCEPTION WHEN assert_failure THEN
        NULL;
    END;
    RETURN result;
END $$;
-- The settings of one binding.
CREATE FUNCTION pg_temp.settings(k text, rel regclass, col name) RETURNS jsonb LANGUAGE sql AS $$
    SELECT settings FROM pals_privacy.bindings
     WHERE kind = k AND relation = rel AND column_name IS NOT DISTINCT FROM col
$$;

SELECT plan(361);

SELECT is(pg_temp.bindings_state(), '(none)', 'no bindings at the start');

------------------------------------------------------------------------------
-- Before the patron table is bound (55000), and unbind of an unbound relation
------------------------------------------------------------------------------
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_cards('lib.cards', 'card_no', 'patron_id')$$,
    '55000', 'bind_cards: the patron table is not bound yet', 'bind_cards before bind_patrons');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_balance('lib.balances', 'patron_id', 'owed')$$,
    '55000', 'bind_balance: the patron table is not bound yet', 'bind_balance before bind_patrons');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_loans('lib.holds', 'patron_id', 'item_id', '{filled,cancelled}')$$,
    '55000', 'bind_loans: the patron table is not bound yet', 'bind_loans before bind_patrons');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_private_history('lib.reading_log', 'patron_id')$$,
    '55000', 'bind_private_history: the patron table is not bound yet', 'bind_private_history before bind_patrons');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_contact('lib.patrons', 'email', 'id', 'email')$$,
    '55000', 'bind_contact: the patron table is not bound yet', 'bind_contact before bind_patrons');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_outbox('lib.notices', 'patron_id', 'channel', 'notices')$$,
    '55000', 'bind_outbox: the patron table is not bound yet', 'bind_outbox before bind_patrons');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.retain('lib.signups', 'signed_up', '3 days', 'sever')$$,
    '55000', 'retain: action ''sever'' needs to know the patron column of "lib.signups"',
    'retain with action sever on an unbound relation');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.unbind('lib.patrons')$$,
    '42704', 'unbind: "lib.patrons" is not bound', 'unbind of an unbound relation');

------------------------------------------------------------------------------
-- bind_patrons
------------------------------------------------------------------------------
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_patrons('lib.nope', 'id', 'expires')$$,
    '42P01', 'relation "lib.nope" does not exist', 'bind_patrons: nonexistent relation');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_patrons('lib.patrons', 'nope', 'expires')$$,
    '42703', 'bind_patrons: column "nope" of relation "lib.patrons" does not exist', 'bind_patrons: nonexistent id column');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_patrons('lib.patrons', 'id', 'nope')$$,
    '42703', 'bind_patrons: column "nope" of relation "lib.patrons" does not exist', 'bind_patrons: nonexistent expires column');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_patrons('lib.patrons', 'id', 'expires', card_column => 'nope')$$,
    '42703', 'bind_patrons: column "nope" of relation "lib.patrons" does not exist', 'bind_patrons: nonexistent card column');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_patrons('lib.patrons', 'id', 'expires', library_column => 'nope')$$,
    '42703', 'bind_patrons: column "nope" of relation "lib.patrons" does not exist', 'bind_patrons: nonexistent library column');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_patrons('lib.patrons', 'expires', 'expires')$$,
    '42804', 'bind_patrons: column "expires" of relation "lib.patrons" has type date, which cannot be the patron id column',
    'bind_patrons: id column of the wrong type');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_patrons('lib.patrons', 'id', 'name')$$,
    '42804', 'bind_patrons: column "name" of relation "lib.patrons" has type text, which cannot be the card expiry column',
    'bind_patrons: expires column of the wrong type');
SELECT is(pg_temp.outcome($$SELECT pals_privacy.bind_patrons('lib.patrons', 'id', 'renew_at')$$),
    '42804: bind_patrons: column "renew_at" of relation "lib.patrons" has type time without time zone, which cannot be the card expiry column',
    'bind_patrons: a time of day is not a date or timestamp');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_patrons('lib.patrons', 'id', 'expires', card_column => 'keep_history')$$,
    '42804', 'bind_patrons: column "keep_history" of relation "lib.patrons" has type boolean, which cannot be the card number column',
    'bind_patrons: card column of the wrong type');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_patrons('lib.patrons', 'id', 'expires', birth_date_column => 'name')$$,
    '42804', 'bind_patrons: column "name" of relation "lib.patrons" has type text, which cannot be the birth date column',
    'bind_patrons: birth date column of the wrong type');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_patrons('lib.patrons', 'id', 'expires', keep_history_column => 'name')$$,
    '42804', 'bind_patrons: column "name" of relation "lib.patrons" has type text, which cannot be the reading-history opt-in column',
    'bind_patrons: keep_history column of the wrong type');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_patrons('lib.patrons', 'id', 'expires', purge_function => 'lib.purge_two(bigint, bigint)')$$,
    '42P13', 'bind_patrons: purge function lib.purge_two(bigint,bigint) must be a function of one argument, the patron id',
    'bind_patrons: purge function of two arguments');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_patrons('lib.patrons', 'id', 'expires', purge_function => 'lib.purge_date(date)')$$,
    '42804', 'bind_patrons: purge function lib.purge_date(date) does not take a bigint patron id',
    'bind_patrons: purge function of the wrong argument type');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_patrons('lib.patron_view', 'id', 'expires')$$,
    '42809', 'bind_patrons: "lib.patron_view" is a view', 'bind_patrons: a view where a table is needed');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_patrons('pg_catalog.pg_authid', 'oid', 'rolvaliduntil')$$,
    '42809', 'bind_patrons: "pg_authid" belongs to the system or to pals_privacy itself', 'bind_patrons: a system catalog');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_patrons('pals_privacy.patron_binding', 'id_column', 'bound_at')$$,
    '42809', 'bind_patrons: "pals_privacy.patron_binding" belongs to the system or to pals_privacy itself',
    'bind_patrons: a table of the extension');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_patrons(NULL, 'id', 'expires')$$,
    '22004', 'bind_patrons: argument "relation" must not be NULL', 'bind_patrons: NULL relation');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_patrons('lib.patrons', NULL, 'expires')$$,
    '22004', 'bind_patrons: argument "id_column" must not be NULL', 'bind_patrons: NULL id_column');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_patrons('lib.patrons', 'id', NULL)$$,
    '22004', 'bind_patrons: argument "expires_column" must not be NULL', 'bind_patrons: NULL expires_column');

SELECT lives_ok($$SELECT pals_privacy.bind_patrons('lib.patrons', 'id', 'expires', card_column => 'card',
                    library_column => 'home_library', birth_date_column => 'born',
                    purge_function => 'lib.purge_patron(bigint)', keep_history_column => 'keep_history')$$,
    'bind_patrons with every option');
SELECT is(pg_temp.settings('patrons', 'lib.patrons', NULL),
    '{"id_column": "id", "expires_column": "expires", "card_column": "card", "library_column": "home_library",
      "birth_date_column": "born", "purge_function": "lib.purge_patron(bigint)", "keep_history_column": "keep_history"}'::jsonb,
    'bind_patrons: the binding is listed with its settings');
SELECT is((SELECT bound_by FROM pals_privacy.bindings WHERE kind = 'patrons'), current_user, 'bind_patrons: bound_by is recorded');
SELECT lives_ok($$SELECT pals_privacy.bind_patrons('lib.patrons', 'id', 'expires', card_column => 'card',
                    library_column => 'home_library', birth_date_column => 'born',
                    purge_function => 'lib.purge_patron(bigint)', keep_history_column => 'keep_history')$$,
    'bind_patrons: identical rebinding succeeds');
SELECT is((SELECT count(*) FROM pals_privacy.bindings), 1::bigint, 'bind_patrons: identical rebinding is a no-op');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_patrons('lib.patrons', 'id', 'expires')$$,
    '42710', 'bind_patrons: "lib.patrons" is already bound with different settings', 'bind_patrons: rebinding with different settings');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_patrons('lib.other_patrons', 'id', 'expires')$$,
    '42710', 'bind_patrons: the patron table is already bound to "lib.patrons"', 'bind_patrons: a second patron table');

------------------------------------------------------------------------------
-- bind_cards
------------------------------------------------------------------------------
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_cards('lib.nope', 'card_no', 'patron_id')$$,
    '42P01', 'relation "lib.nope" does not exist', 'bind_cards: nonexistent relation');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_cards('lib.cards', 'nope', 'patron_id')$$,
    '42703', 'bind_cards: column "nope" of relation "lib.cards" does not exist', 'bind_cards: nonexistent card column');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_cards('lib.cards', 'card_no', 'nope')$$,
    '42703', 'bind_cards: column "nope" of relation "lib.cards" does not exist', 'bind_cards: nonexistent patron column');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_cards('lib.cards', 'issued', 'patron_id')$$,
    '42804', 'bind_cards: column "issued" of relation "lib.cards" has type timestamp with time zone, which cannot be the card number column',
    'bind_cards: card column of the wrong type');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_cards('lib.web_accounts', 'login', 'patron_key')$$,
    '42804', 'bind_cards: column "patron_key" of relation "lib.web_accounts" has type text, but patron ids (lib.patrons.id) are bigint',
    'bind_cards: text patron column for bigint patron ids');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_cards('lib.balances', 'owed', 'patron_id')$$,
    '42809', 'bind_cards: "lib.balances" is a view', 'bind_cards: a view where a table is needed');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_cards(NULL, 'card_no', 'patron_id')$$,
    '22004', 'bind_cards: argument "relation" must not be NULL', 'bind_cards: NULL relation');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_cards('lib.cards', NULL, 'patron_id')$$,
    '22004', 'bind_cards: argument "card_column" must not be NULL', 'bind_cards: NULL card_column');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_cards('lib.cards', 'card_no', NULL)$$,
    '22004', 'bind_cards: argument "patron_column" must not be NULL', 'bind_cards: NULL patron_column');

SELECT lives_ok($$SELECT pals_privacy.bind_cards('lib.cards', 'card_no', 'patron_id')$$, 'bind_cards');
SELECT is(pg_temp.settings('cards', 'lib.cards', 'card_no'),
    '{"card_column": "card_no", "patron_column": "patron_id"}'::jsonb, 'bind_cards: the binding is listed');
SELECT lives_ok($$SELECT pals_privacy.bind_cards('lib.cards', 'card_no', 'patron_id')$$, 'bind_cards: identical rebinding succeeds');
SELECT is((SELECT count(*) FROM pals_privacy.bindings WHERE kind = 'cards'), 1::bigint, 'bind_cards: identical rebinding is a no-op');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_cards('lib.cards', 'old_card_no', 'patron_id')$$,
    '42710', 'bind_cards: "lib.cards" is already bound with different settings', 'bind_cards: rebinding with different settings');

------------------------------------------------------------------------------
-- bind_balance (a view is accepted)
------------------------------------------------------------------------------
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_balance('lib.nope', 'patron_id', 'owed')$$,
    '42P01', 'relation "lib.nope" does not exist', 'bind_balance: nonexistent relation');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_balance('lib.balances', 'nope', 'owed')$$,
    '42703', 'bind_balance: column "nope" of relation "lib.balances" does not exist', 'bind_balance: nonexistent patron column');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_balance('lib.balances', 'patron_id', 'nope')$$,
    '42703', 'bind_balance: column "nope" of relation "lib.balances" does not exist', 'bind_balance: nonexistent amount column');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_balance('lib.fines', 'patron_id', 'note')$$,
    '42804', 'bind_balance: column "note" of relation "lib.fines" has type text, which cannot be the amount column',
    'bind_balance: amount column of the wrong type');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_balance('lib.fines', 'note', 'amount')$$,
    '42804', 'bind_balance: column "note" of relation "lib.fines" has type text, but patron ids (lib.patrons.id) are bigint',
    'bind_balance: patron column of the wrong type');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_balance('lib.fines_id_seq', 'last_value', 'last_value')$$,
    '42809', 'bind_balance: "lib.fines_id_seq" is a sequence', 'bind_balance: a sequence');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_balance(NULL, 'patron_id', 'owed')$$,
    '22004', 'bind_balance: argument "relation" must not be NULL', 'bind_balance: NULL relation');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_balance('lib.balances', NULL, 'owed')$$,
    '22004', 'bind_balance: argument "patron_column" must not be NULL', 'bind_balance: NULL patron_column');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_balance('lib.balances', 'patron_id', NULL)$$,
    '22004', 'bind_balance: argument "amount_column" must not be NULL', 'bind_balance: NULL amount_column');

SELECT lives_ok($$SELECT pals_privacy.bind_balance('lib.balances', 'patron_id', 'owed')$$, 'bind_balance accepts a view');
SELECT is(pg_temp.settings('balance', 'lib.balances', 'owed'),
    '{"patron_column": "patron_id", "amount_column": "owed"}'::jsonb, 'bind_balance: the binding is listed');
SELECT lives_ok($$SELECT pals_privacy.bind_balance('lib.balances', 'patron_id', 'owed')$$, 'bind_balance: identical rebinding succeeds');
SELECT is((SELECT count(*) FROM pals_privacy.bindings WHERE kind = 'balance'), 1::bigint, 'bind_balance: identical rebinding is a no-op');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_balance('lib.balances', 'patron_id', 'n_fines')$$,
    '42710', 'bind_balance: "lib.balances" is already bound with different settings', 'bind_balance: rebinding with different settings');

------------------------------------------------------------------------------
-- bind_loans
------------------------------------------------------------------------------
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_loans('lib.nope', 'patron_id', 'item_id', '{returned}')$$,
    '42P01', 'relation "lib.nope" does not exist', 'bind_loans: nonexistent relation');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_loans('lib.loans', 'nope', 'item_id', '{returned}', sever_with => 'patron:0')$$,
    '42703', 'bind_loans: column "nope" of relation "lib.loans" does not exist', 'bind_loans: nonexistent patron column');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_loans('lib.loans', 'patron_id', 'nope', '{returned}', sever_with => 'patron:0')$$,
    '42703', 'bind_loans: column "nope" of relation "lib.loans" does not exist', 'bind_loans: nonexistent item column');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_loans('lib.loans', 'patron_id', 'item_id', '{returned,nope}', sever_with => 'patron:0')$$,
    '42703', 'bind_loans: column "nope" of relation "lib.loans" does not exist', 'bind_loans: nonexistent closed column');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_loans('lib.loans', 'patron_id', 'item_id', '{returned}', settled_column => 'nope', sever_with => 'patron:0')$$,
    '42703', 'bind_loans: column "nope" of relation "lib.loans" does not exist', 'bind_loans: nonexistent settled column');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_loans('lib.loans', 'patron_id', 'checked_out', '{returned}', sever_with => 'patron:0')$$,
    '42804', 'bind_loans: column "checked_out" of relation "lib.loans" has type timestamp with time zone, which cannot be the item column',
    'bind_loans: item column of the wrong type');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_loans('lib.web_accounts', 'patron_key', 'login', '{created}')$$,
    '42804', 'bind_loans: column "patron_key" of relation "lib.web_accounts" has type text, but patron ids (lib.patrons.id) are bigint',
    'bind_loans: text patron column for bigint patron ids');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_loans('lib.loans', 'patron_id', 'item_id', '{returned,returned_date}', sever_with => 'patron:0')$$,
    '42804', 'bind_loans: closed columns must share one type, but "returned_date" is date and the first is timestamp with time zone',
    'bind_loans: closed columns of different types');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_loans('lib.open_loans', 'patron_id', 'item_id', '{returned}', sever_with => 'patron:0')$$,
    '42809', 'bind_loans: "lib.open_loans" is a view', 'bind_loans: a view where a table is needed');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_loans('lib.loans', 'patron_id', 'patron_id', '{returned}', sever_with => 'patron:0')$$,
    '22023', 'bind_loans: the patron column and the item column must differ', 'bind_loans: patron column = item column');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_loans('lib.loans', 'patron_id', 'item_id', '{}', sever_with => 'patron:0')$$,
    '22023', 'bind_loans: closed_columns must list one to eight columns, none of them NULL', 'bind_loans: no closed column');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_loans('lib.loans', 'patron_id', 'item_id', ARRAY['returned', NULL]::name[], sever_with => 'patron:0')$$,
    '22023', 'bind_loans: closed_columns must list one to eight columns, none of them NULL', 'bind_loans: a NULL closed column');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_loans('lib.loans', 'patron_id', 'item_id', '{a,b,c,d,e,f,g,h,i}', sever_with => 'patron:0')$$,
    '22023', 'bind_loans: closed_columns must list one to eight columns, none of them NULL', 'bind_loans: nine closed columns');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_loans('lib.loans', 'patron_id', 'item_id', '{returned,lost,returned}', sever_with => 'patron:0')$$,
    '22023', 'bind_loans: closed_columns lists a column twice', 'bind_loans: a closed column listed twice');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_loans('lib.loans', 'patron_id', 'item_id', '{returned,item_id}', sever_with => 'patron:0')$$,
    '22023', 'bind_loans: closed column "item_id" is also the patron or item column', 'bind_loans: closed column = item column');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_loans('lib.loans', 'patron_id', 'item_id', '{returned}', settled_column => 'patron_id', sever_with => 'patron:0')$$,
    '22023', 'bind_loans: the settled column must differ from the patron and item columns', 'bind_loans: settled column = patron column');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_loans('lib.loans', 'patron_id', 'item_id', '{returned,lost}')$$,
    '22023', 'bind_loans: sever_with => ''null'' needs a nullable patron column, and "lib.loans"."patron_id" is NOT NULL',
    'bind_loans: sever_with null (the default) on a NOT NULL patron column');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_loans('lib.loans', 'patron_id', 'item_id', '{returned,lost}', sever_with => 'patron:999')$$,
    '23503', 'bind_loans: placeholder patron ''999'' does not exist in lib.patrons', 'bind_loans: sever_with names a missing placeholder patron');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_loans('lib.loans', 'patron_id', 'item_id', '{returned,lost}', sever_with => 'patron:')$$,
    '22023', 'bind_loans: sever_with => ''patron:<id>'' needs the id of the placeholder patron', 'bind_loans: sever_with patron: without an id');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_loans('lib.loans', 'patron_id', 'item_id', '{returned,lost}', sever_with => 'nullify')$$,
    '22023', 'bind_loans: unknown sever_with ''nullify''', 'bind_loans: unknown sever_with');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_loans('lib.loans', 'patron_id', 'item_id', '{returned,lost}', sever_with => 'patron:0', history_mode => 'move')$$,
    '22023', 'bind_loans: unknown history_mode ''move''', 'bind_loans: unknown history_mode');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_loans(NULL, 'patron_id', 'item_id', '{returned}')$$,
    '22004', 'bind_loans: argument "relation" must not be NULL', 'bind_loans: NULL relation');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_loans('lib.loans', NULL, 'item_id', '{returned}')$$,
    '22004', 'bind_loans: argument "patron_column" must not be NULL', 'bind_loans: NULL patron_column');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_loans('lib.loans', 'patron_id', NULL, '{returned}')$$,
    '22004', 'bind_loans: argument "item_column" must not be NULL', 'bind_loans: NULL item_column');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_loans('lib.loans', 'patron_id', 'item_id', NULL)$$,
    '22004', 'bind_loans: argument "closed_columns" must not be NULL', 'bind_loans: NULL closed_columns');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_loans('lib.loans', 'patron_id', 'item_id', '{returned}', sever_with => NULL)$$,
    '22004', 'bind_loans: argument "sever_with" must not be NULL', 'bind_loans: NULL sever_with');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_loans('lib.loans', 'patron_id', 'item_id', '{returned}', sever_with => 'patron:0', keep_last_borrower => NULL)$$,
    '22004', 'bind_loans: argument "keep_last_borrower" must not be NULL', 'bind_loans: NULL keep_last_borrower');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_loans('lib.loans', 'patron_id', 'item_id', '{returned}', sever_with => 'patron:0', history_mode => NULL)$$,
    '22004', 'bind_loans: argument "history_mode" must not be NULL', 'bind_loans: NULL history_mode');

-- a NOT NULL, foreign-key patron column: re-pointed to a placeholder patron
SELECT lives_ok($$SELECT pals_privacy.bind_loans('lib.loans', 'patron_id', 'item_id', '{returned,lost}',
                    settled_column => 'paid', sever_with => 'patron:0')$$,
    'bind_loans with a placeholder patron (NOT NULL patron column)');
SELECT is(pg_temp.settings('loans', 'lib.loans', 'patron_id'),
    '{"patron_column": "patron_id", "item_column": "item_id", "closed_columns": ["returned", "lost"], "settled_column": "paid",
      "sever_with": "patron:0", "keep_last_borrower": true, "history_mode": "copy",
      "closed_precision": "day", "closed_zone": "America/Los_Angeles"}'::jsonb,
    'bind_loans: the binding is listed with its defaults');
SELECT lives_ok($$SELECT pals_privacy.bind_loans('lib.loans', 'patron_id', 'item_id', '{returned,lost}',
                    settled_column => 'paid', sever_with => 'patron:0')$$,
    'bind_loans: identical rebinding succeeds');
SELECT is((SELECT count(*) FROM pals_privacy.bindings WHERE kind = 'loans'), 1::bigint, 'bind_loans: identical rebinding is a no-op');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_loans('lib.loans', 'patron_id', 'item_id', '{returned,lost}',
                    settled_column => 'paid', sever_with => 'patron:0', keep_last_borrower => false)$$,
    '42710', 'bind_loans: "lib.loans" is already bound with different settings', 'bind_loans: rebinding with different settings');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_loans('lib.loans', 'patron_id', 'item_id', '{lost,returned}',
                    settled_column => 'paid', sever_with => 'patron:0')$$,
    '42710', 'bind_loans: "lib.loans" is already bound with different settings', 'bind_loans: rebinding with the closed columns in another order');

-- a partitioned table, nullable patron column
SELECT lives_ok($$SELECT pals_privacy.bind_loans('lib.holds', 'patron_id', 'item_id', '{filled,cancelled}',
                    keep_last_borrower => false, history_mode => 'in_place')$$,
    'bind_loans on a partitioned table');
SELECT is(pg_temp.settings('loans', 'lib.holds', 'patron_id'),
    '{"patron_column": "patron_id", "item_column": "item_id", "closed_columns": ["filled", "cancelled"],
      "sever_with": "null", "keep_last_borrower": false, "history_mode": "in_place",
      "closed_precision": "day", "closed_zone": "America/Los_Angeles"}'::jsonb,
    'bind_loans: the partitioned table is listed, without a settled column');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_loans('lib.holds_2024', 'patron_id', 'item_id', '{filled,cancelled}',
                    keep_last_borrower => false, history_mode => 'in_place')$$,
    '42710', 'bind_loans: "lib.holds_2024" is a partition or child of "lib.holds", which is already bound as loans',
    'bind_loans: a partition of a bound partitioned table');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_private_history('lib.holds_2024', 'patron_id')$$,
    '42710', 'bind_private_history: "lib.holds_2024" is a partition or child of "lib.holds", which is already bound as loans',
    'bind_private_history: a partition of a bound partitioned table');

-- inheritance: a child bound first, then its parent; sever_with => 'delete'
SELECT lives_ok($$SELECT pals_privacy.bind_loans('lib.bookings_old', 'patron_id', 'item_id', '{ended}', sever_with => 'delete')$$,
    'bind_loans with sever_with delete on a NOT NULL patron column (inheritance child)');
SELECT is(pg_temp.settings('loans', 'lib.bookings_old', 'patron_id') ->> 'sever_with', 'delete', 'bind_loans: sever_with delete is listed');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_loans('lib.bookings', 'patron_id', 'item_id', '{ended}', sever_with => 'delete')$$,
    '42710', 'bind_loans: "lib.bookings" is a parent of "lib.bookings_old", which is already bound as loans',
    'bind_loans: the parent after a child');

------------------------------------------------------------------------------
-- bind_private_history
------------------------------------------------------------------------------
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_private_history('lib.nope', 'patron_id')$$,
    '42P01', 'relation "lib.nope" does not exist', 'bind_private_history: nonexistent relation');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_private_history('lib.reading_log', 'nope')$$,
    '42703', 'bind_private_history: column "nope" of relation "lib.reading_log" does not exist', 'bind_private_history: nonexistent column');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_private_history('lib.reading_log', 'read_at')$$,
    '42804', 'bind_private_history: column "read_at" of relation "lib.reading_log" has type timestamp with time zone, which cannot be the patron column',
    'bind_private_history: patron column of the wrong type');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_private_history('lib.patron_view', 'id')$$,
    '42809', 'bind_private_history: "lib.patron_view" is a view', 'bind_private_history: a view where a table is needed');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_private_history(NULL, 'patron_id')$$,
    '22004', 'bind_private_history: argument "relation" must not be NULL', 'bind_private_history: NULL relation');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_private_history('lib.reading_log', NULL)$$,
    '22004', 'bind_private_history: argument "patron_column" must not be NULL', 'bind_private_history: NULL patron_column');

SELECT lives_ok($$SELECT pals_privacy.bind_private_history('lib.reading_log', 'patron_id')$$, 'bind_private_history');
SELECT is(pg_temp.settings('private_history', 'lib.reading_log', 'patron_id'),
    '{"patron_column": "patron_id"}'::jsonb, 'bind_private_history: the binding is listed');
SELECT lives_ok($$SELECT pals_privacy.bind_private_history('lib.reading_log', 'patron_id')$$,
    'bind_private_history: identical rebinding succeeds');
SELECT is((SELECT count(*) FROM pals_privacy.bindings WHERE kind = 'private_history'), 1::bigint,
    'bind_private_history: identical rebinding is a no-op');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_private_history('lib.reading_log', 'shared_with')$$,
    '42710', 'bind_private_history: "lib.reading_log" is already bound with different settings',
    'bind_private_history: rebinding with different settings');

------------------------------------------------------------------------------
-- bind_contact (may sit on any relation, several columns per relation)
------------------------------------------------------------------------------
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_contact('lib.nope', 'email', 'id', 'email')$$,
    '42P01', 'relation "lib.nope" does not exist', 'bind_contact: nonexistent relation');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_contact('lib.patrons', 'nope', 'id', 'email')$$,
    '42703', 'bind_contact: column "nope" of relation "lib.patrons" does not exist', 'bind_contact: nonexistent contact column');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_contact('lib.patrons', 'email', 'nope', 'email')$$,
    '42703', 'bind_contact: column "nope" of relation "lib.patrons" does not exist', 'bind_contact: nonexistent patron column');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_contact('lib.patrons', 'born', 'id', 'mail')$$,
    '42804', 'bind_contact: column "born" of relation "lib.patrons" has type date, which cannot be the contact column',
    'bind_contact: contact column of the wrong type');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_contact('lib.patrons', 'email', 'card', 'email')$$,
    '42804', 'bind_contact: column "card" of relation "lib.patrons" has type text, but patron ids (lib.patrons.id) are bigint',
    'bind_contact: patron column of the wrong type');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_contact('lib.patrons', 'email', 'id', 'fax')$$,
    '22023', 'bind_contact: unknown channel ''fax''', 'bind_contact: unknown channel');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_contact('lib.patron_view', 'email', 'id', 'email')$$,
    '42809', 'bind_contact: "lib.patron_view" is a view', 'bind_contact: a view where a table is needed');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_contact(NULL, 'email', 'id', 'email')$$,
    '22004', 'bind_contact: argument "relation" must not be NULL', 'bind_contact: NULL relation');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_contact('lib.patrons', NULL, 'id', 'email')$$,
    '22004', 'bind_contact: argument "column_name" must not be NULL', 'bind_contact: NULL column_name');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_contact('lib.patrons', 'email', NULL, 'email')$$,
    '22004', 'bind_contact: argument "patron_column" must not be NULL', 'bind_contact: NULL patron_column');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_contact('lib.patrons', 'email', 'id', NULL)$$,
    '22004', 'bind_contact: argument "channel" must not be NULL', 'bind_contact: NULL channel');

SELECT lives_ok($$SELECT pals_privacy.bind_contact('lib.patrons', 'email', 'id', 'email')$$, 'bind_contact: email');
SELECT lives_ok($$SELECT pals_privacy.bind_contact('lib.patrons', 'phone', 'id', 'sms')$$, 'bind_contact: a second column of the same table');
SELECT is(pg_temp.settings('contact', 'lib.patrons', 'email'),
    '{"patron_column": "id", "channel": "email"}'::jsonb, 'bind_contact: the email binding is listed');
SELECT is(pg_temp.settings('contact', 'lib.patrons', 'phone'),
    '{"patron_column": "id", "channel": "sms"}'::jsonb, 'bind_contact: the phone binding is listed');
SELECT lives_ok($$SELECT pals_privacy.bind_contact('lib.patrons', 'email', 'id', 'email')$$, 'bind_contact: identical rebinding succeeds');
SELECT is((SELECT count(*) FROM pals_privacy.bindings WHERE kind = 'contact'), 2::bigint, 'bind_contact: identical rebinding is a no-op');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_contact('lib.patrons', 'email', 'id', 'mail')$$,
    '42710', 'bind_contact: "lib.patrons" is already bound with different settings', 'bind_contact: rebinding with a different channel');

------------------------------------------------------------------------------
-- bind_outbox
------------------------------------------------------------------------------
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_outbox('lib.nope', 'patron_id', 'channel', 'notices')$$,
    '42P01', 'relation "lib.nope" does not exist', 'bind_outbox: nonexistent relation');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_outbox('lib.notices', 'nope', 'channel', 'notices')$$,
    '42703', 'bind_outbox: column "nope" of relation "lib.notices" does not exist', 'bind_outbox: nonexistent patron column');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_outbox('lib.notices', 'patron_id', 'nope', 'notices')$$,
    '42703', 'bind_outbox: column "nope" of relation "lib.notices" does not exist', 'bind_outbox: nonexistent channel column');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_outbox('lib.notices', 'patron_id', 'queued', 'notices')$$,
    '42804', 'bind_outbox: column "queued" of relation "lib.notices" has type timestamp with time zone, which cannot be the channel column',
    'bind_outbox: channel column of the wrong type');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_outbox('lib.notices', 'patron_id', 'channel', 'spam')$$,
    '22023', 'bind_outbox: unknown purpose ''spam''', 'bind_outbox: unknown purpose');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_outbox('lib.open_loans', 'patron_id', 'item_id', 'notices')$$,
    '42809', 'bind_outbox: "lib.open_loans" is a view', 'bind_outbox: a view where a table is needed');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_outbox(NULL, 'patron_id', 'channel', 'notices')$$,
    '22004', 'bind_outbox: argument "relation" must not be NULL', 'bind_outbox: NULL relation');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_outbox('lib.notices', NULL, 'channel', 'notices')$$,
    '22004', 'bind_outbox: argument "patron_column" must not be NULL', 'bind_outbox: NULL patron_column');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_outbox('lib.notices', 'patron_id', NULL, 'notices')$$,
    '22004', 'bind_outbox: argument "channel_column" must not be NULL', 'bind_outbox: NULL channel_column');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_outbox('lib.notices', 'patron_id', 'channel', NULL)$$,
    '22004', 'bind_outbox: argument "purpose" must not be NULL', 'bind_outbox: NULL purpose');

-- an integer patron column holds bigint patron ids
SELECT lives_ok($$SELECT pals_privacy.bind_outbox('lib.notices', 'patron_id', 'channel', 'notices')$$,
    'bind_outbox (integer patron column)');
SELECT is(pg_temp.settings('outbox', 'lib.notices', 'patron_id'),
    '{"patron_column": "patron_id", "channel_column": "channel", "purpose": "notices", "on_missing_consent": "reject"}'::jsonb, 'bind_outbox: the binding is listed');
SELECT lives_ok($$SELECT pals_privacy.bind_outbox('lib.notices', 'patron_id', 'channel', 'notices')$$,
    'bind_outbox: identical rebinding succeeds');
SELECT is((SELECT count(*) FROM pals_privacy.bindings WHERE kind = 'outbox'), 1::bigint, 'bind_outbox: identical rebinding is a no-op');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_outbox('lib.notices', 'patron_id', 'channel', 'newsletter')$$,
    '42710', 'bind_outbox: "lib.notices" is already bound with different settings', 'bind_outbox: rebinding with a different purpose');

------------------------------------------------------------------------------
-- retain
------------------------------------------------------------------------------
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.retain('lib.nope', 'signed_up', '3 days')$$,
    '42P01', 'relation "lib.nope" does not exist', 'retain: nonexistent relation');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.retain('lib.signups', 'nope', '3 days')$$,
    '42703', 'retain: column "nope" of relation "lib.signups" does not exist', 'retain: nonexistent column');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.retain('lib.signups', 'terminal', '3 days')$$,
    '42804', 'retain: column "terminal" of relation "lib.signups" has type text, which cannot be the timestamp column',
    'retain: timestamp column of the wrong type');
SELECT is(pg_temp.outcome($$SELECT pals_privacy.retain('lib.visits', 'opened', '3 days')$$),
    '42804: retain: column "opened" of relation "lib.visits" has type time without time zone, which cannot be the timestamp column',
    'retain: a time of day is not a date or timestamp');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.retain('lib.open_loans', 'checked_out', '3 days')$$,
    '42809', 'retain: "lib.open_loans" is a view', 'retain: a view where a table is needed');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.retain('lib.signups', 'signed_up', '0 days')$$,
    '22023', 'retain: keep must be a positive interval, not 00:00:00', 'retain: keep = 0');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.retain('lib.signups', 'signed_up', '-3 days')$$,
    '22023', 'retain: keep must be a positive interval, not -3 days', 'retain: negative keep');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.retain('lib.signups', 'signed_up', '3 days', 'archive')$$,
    '22023', 'retain: unknown action ''archive''', 'retain: unknown action');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.retain('lib.visits', 'visited', '3 days', 'sever')$$,
    '55000', 'retain: action ''sever'' needs to know the patron column of "lib.visits"',
    'retain: action sever on a relation not bound with a patron column');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.retain(NULL, 'signed_up', '3 days')$$,
    '22004', 'retain: argument "relation" must not be NULL', 'retain: NULL relation');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.retain('lib.signups', NULL, '3 days')$$,
    '22004', 'retain: argument "timestamp_column" must not be NULL', 'retain: NULL timestamp_column');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.retain('lib.signups', 'signed_up', NULL)$$,
    '22004', 'retain: argument "keep" must not be NULL', 'retain: NULL keep');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.retain('lib.signups', 'signed_up', '3 days', NULL)$$,
    '22004', 'retain: argument "action" must not be NULL', 'retain: NULL action');

SELECT lives_ok($$SELECT pals_privacy.retain('lib.signups', 'signed_up', '3 days')$$, 'retain with the default action');
SELECT is(pg_temp.settings('retain', 'lib.signups', 'signed_up'),
    '{"timestamp_column": "signed_up", "keep": "3 days", "action": "delete"}'::jsonb, 'retain: the rule is listed');
SELECT lives_ok($$SELECT pals_privacy.retain('lib.loans', 'checked_out', '2 years', 'sever')$$,
    'retain with action sever on a bound loans table');
SELECT is(pg_temp.settings('retain', 'lib.loans', 'checked_out'),
    '{"timestamp_column": "checked_out", "keep": "2 years", "action": "sever"}'::jsonb, 'retain: the sever rule is listed');
SELECT lives_ok($$SELECT pals_privacy.retain('lib.signups', 'signed_up', '3 days', 'delete')$$, 'retain: identical rebinding succeeds');
SELECT is((SELECT count(*) FROM pals_privacy.bindings WHERE kind = 'retain'), 2::bigint, 'retain: identical rebinding is a no-op');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.retain('lib.signups', 'signed_up', '4 days')$$,
    '42710', 'retain: "lib.signups" is already bound with different settings', 'retain: rebinding with a different keep');

------------------------------------------------------------------------------
-- A relation plays one role
------------------------------------------------------------------------------
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_patrons('lib.loans', 'id', 'checked_out')$$,
    '42710', 'bind_patrons: "lib.loans" is already bound as loans', 'bind_patrons on a relation bound as loans');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_cards('lib.loans', 'item_id', 'patron_id')$$,
    '42710', 'bind_cards: "lib.loans" is already bound as loans', 'bind_cards on a relation bound as loans');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_loans('lib.reading_log', 'patron_id', 'title', '{read_at}')$$,
    '42710', 'bind_loans: "lib.reading_log" is already bound as private_history', 'bind_loans on a relation bound as private history');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_private_history('lib.notices', 'patron_id')$$,
    '42710', 'bind_private_history: "lib.notices" is already bound as outbox', 'bind_private_history on a relation bound as outbox');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_outbox('lib.cards', 'patron_id', 'card_no', 'notices')$$,
    '42710', 'bind_outbox: "lib.cards" is already bound as cards', 'bind_outbox on a relation bound as cards');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_balance('lib.patrons', 'id', 'home_library')$$,
    '42710', 'bind_balance: "lib.patrons" is already bound as patrons', 'bind_balance on the patron table');
-- contact fields and retention rules may sit on a relation bound otherwise
SELECT lives_ok($$SELECT pals_privacy.bind_contact('lib.notices', 'body', 'patron_id', 'mail')$$,
    'bind_contact on a relation bound as outbox');

------------------------------------------------------------------------------
-- Only a superuser or the extension owner
------------------------------------------------------------------------------
CREATE ROLE regress_pals_clerk;
GRANT USAGE ON SCHEMA lib TO regress_pals_clerk;
SELECT pg_temp.bindings_state() AS before_clerk \gset
SET ROLE regress_pals_clerk;
SELECT throws_ok($$SELECT pals_privacy.bind_patrons('lib.patrons', 'id', 'expires')$$,
    '42501', 'permission denied for function bind_patrons', 'bind_patrons by a role without privileges');
SELECT throws_ok($$SELECT pals_privacy.bind_cards('lib.cards', 'card_no', 'patron_id')$$,
    '42501', 'permission denied for function bind_cards', 'bind_cards by a role without privileges');
SELECT throws_ok($$SELECT pals_privacy.bind_balance('lib.balances', 'patron_id', 'owed')$$,
    '42501', 'permission denied for function bind_balance', 'bind_balance by a role without privileges');
SELECT throws_ok($$SELECT pals_privacy.bind_loans('lib.holds', 'patron_id', 'item_id', '{filled}')$$,
    '42501', 'permission denied for function bind_loans', 'bind_loans by a role without privileges');
SELECT throws_ok($$SELECT pals_privacy.bind_private_history('lib.reading_log', 'patron_id')$$,
    '42501', 'permission denied for function bind_private_history', 'bind_private_history by a role without privileges');
SELECT throws_ok($$SELECT pals_privacy.bind_contact('lib.patrons', 'email', 'id', 'email')$$,
    '42501', 'permission denied for function bind_contact', 'bind_contact by a role without privileges');
SELECT throws_ok($$SELECT pals_privacy.bind_outbox('lib.notices', 'patron_id', 'channel', 'notices')$$,
    '42501', 'permission denied for function bind_outbox', 'bind_outbox by a role without privileges');
SELECT throws_ok($$SELECT pals_privacy.retain('lib.visits', 'visited', '1 day')$$,
    '42501', 'permission denied for function retain', 'retain by a role without privileges');
SELECT throws_ok($$SELECT pals_privacy.unbind('lib.loans')$$,
    '42501', 'permission denied for function unbind', 'unbind by a role without privileges');
SELECT throws_ok($$DELETE FROM pals_privacy.loan_binding$$,
    '42501', 'permission denied for table loan_binding', 'writing the binding tables directly');
SELECT is(pg_temp.bindings_state(), :'before_clerk', 'the bindings are readable by any role');
RESET ROLE;
-- Even with EXECUTE granted, the caller must be a superuser or the owner.
GRANT EXECUTE ON FUNCTION pals_privacy.bind_loans(regclass, name, name, name[], name, text, boolean, text, text, text, boolean, name[], name[], regclass, text),
                          pals_privacy.unbind(regclass), pals_privacy._require_admin(text)
   TO regress_pals_clerk;
SET ROLE regress_pals_clerk;
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.bind_loans('lib.visits', 'patron_id', 'item_id', '{filled}')$$,
    '42501', 'permission denied for bind_loans', 'bind_loans with EXECUTE but neither superuser nor owner');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.unbind('lib.loans')$$,
    '42501', 'permission denied for unbind', 'unbind with EXECUTE but neither superuser nor owner');
RESET ROLE;
SELECT is(pg_temp.bindings_state(), :'before_clerk', 'nothing changed by the unprivileged role');

------------------------------------------------------------------------------
-- unbind
------------------------------------------------------------------------------
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.unbind('lib.nope')$$,
    '42P01', 'relation "lib.nope" does not exist', 'unbind: nonexistent relation');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.unbind('lib.visits')$$,
    '42704', 'unbind: "lib.visits" is not bound', 'unbind: unbound relation');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.unbind('lib.holds_2024')$$,
    '42704', 'unbind: "lib.holds_2024" is not bound', 'unbind: a partition (its parent is bound)');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.unbind(NULL)$$,
    '22004', 'unbind: argument "relation" must not be NULL', 'unbind: NULL relation');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.unbind('lib.patrons')$$,
    '2BP01', 'unbind: other bindings depend on the patron table "lib.patrons"', 'unbind: the patron table while others depend on it');

SELECT is((SELECT count(*) FROM pals_privacy.bindings WHERE relation = 'lib.loans'::regclass), 2::bigint, 'lib.loans has two bindings');
SELECT lives_ok($$SELECT pals_privacy.unbind('lib.loans')$$, 'unbind lib.loans');
SELECT is((SELECT count(*) FROM pals_privacy.bindings WHERE relation = 'lib.loans'::regclass), 0::bigint,
    'unbind removes every binding of the relation (loans and retention rule)');
SELECT is((SELECT count(*) FROM pals_privacy.bindings WHERE relation = 'lib.notices'::regclass), 2::bigint, 'lib.notices has two bindings');
SELECT lives_ok($$SELECT pals_privacy.unbind('lib.notices')$$, 'unbind lib.notices');
SELECT is((SELECT count(*) FROM pals_privacy.bindings WHERE relation = 'lib.notices'::regclass), 0::bigint,
    'unbind removes every binding of the relation (outbox and contact)');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.unbind('lib.loans')$$,
    '42704', 'unbind: "lib.loans" is not bound', 'unbind: a relation unbound already');
-- after unbinding the parent, its partition can be bound on its own
SELECT lives_ok($$SELECT pals_privacy.unbind('lib.holds')$$, 'unbind a partitioned table');
SELECT lives_ok($$SELECT pals_privacy.bind_loans('lib.holds_2024', 'patron_id', 'item_id', '{filled,cancelled}')$$,
    'a partition can be bound once its parent is unbound');
SELECT lives_ok($$SELECT pals_privacy.unbind('lib.holds_2024')$$, 'unbind the partition');
SELECT lives_ok($$SELECT pals_privacy.unbind('lib.cards')$$, 'unbind lib.cards');
SELECT lives_ok($$SELECT pals_privacy.unbind('lib.balances')$$, 'unbind a view');
SELECT lives_ok($$SELECT pals_privacy.unbind('lib.bookings_old')$$, 'unbind an inheritance child');
SELECT * FROM pg_temp.fails($$SELECT pals_privacy.unbind('lib.patrons')$$,
    '2BP01', 'unbind: other bindings depend on the patron table "lib.patrons"',
    'unbind: the patron table while private history still depends on it');
SELECT lives_ok($$SELECT pals_privacy.unbind('lib.reading_log')$$, 'unbind lib.reading_log');
SELECT is(pg_temp.bindings_state(),
    concat_ws(E'\n', 'contact|lib.patrons|email|{"channel": "email", "patron_column": "id"}',
                     'contact|lib.patrons|phone|{"channel": "sms", "patron_column": "id"}',
                     'patrons|lib.patrons||{"id_column": "id", "card_column": "card", "expires_column": "expires", "library_column": "home_library", "purge_function": "lib.purge_patron(bigint)", "birth_date_column": "born", "keep_history_column": "keep_history"}',
                     'retain|lib.signups|signed_up|{"keep": "3 days", "action": "delete", "timestamp_column": "signed_up"}'),
    'left: the patron table with its contact fields, and a retention rule');
-- The record of patrons a soft-deleting purge function left in place
-- (purged_patrons) is the patron table's: two purged, the ILS deletes the
-- scrubbed row of one later (its id is free again).
CREATE OR REPLACE FUNCTION lib.purge_patron(bigint) RETURNS void LANGUAGE sql AS
    'UPDATE lib.patrons SET name = ''PURGED'', card = NULL, email = NULL WHERE id = $1';
INSERT INTO lib.patrons (id, name, expires) VALUES (7, 'Gus', '2000-01-01'), (8, 'Hal', '2000-01-01');
SELECT is(pals_privacy._purge_patrons(ARRAY['7', '8']), 2::bigint, 'two patrons purged by a soft-deleting purge function');
DELETE FROM lib.patrons WHERE id = 8;
SELECT is((SELECT string_agg(relation || ':' || patron, ' ' ORDER BY patron) FROM pals_privacy.purged_patrons),
    'lib.patrons:7 lib.patrons:8', 'both are recorded as purged, by their patron table');
-- Contact fields on the patron table itself are bindings of that relation:
-- unbind removes them with it.
SELECT lives_ok($$SELECT pals_privacy.unbind('lib.patrons')$$,
    'unbind the patron table once only its own bindings and retention rules remain');
SELECT is((SELECT count(*) FROM pals_privacy.bindings WHERE relation = 'lib.patrons'::regclass), 0::bigint,
    'unbind removes every binding of the patron table (patrons and contact)');
SELECT is((SELECT string_agg(relation || ':' || patron, ' ' ORDER BY patron) FROM pals_privacy.purged_patrons),
    'lib.patrons:7', 'unbind forgets the purged patron whose row is gone (8), keeps the one whose scrubbed row is there (7)');
SELECT lives_ok($$SELECT pals_privacy.unbind('lib.signups')$$, 'unbind a relation with only a retention rule');
SELECT is(pg_temp.bindings_state(), '(none)', 'no bindings left');
SELECT lives_ok($$SELECT pals_privacy.bind_patrons('lib.other_patrons', 'id', 'expires')$$,
    'another patron table can be bound once the first is unbound');
-- the record of lib.patrons keeps no patron of another table from the purge
INSERT INTO lib.other_patrons VALUES (7, '2000-01-01'), (8, '2000-01-01');
SELECT is(pals_privacy._purged_patrons(), '{}'::text[], 'another patron table: its patrons 7 and 8 are not left out of the purge');
-- the same table bound again: patron 7 is not purged again; a new patron
-- given the free id 8 is not left out of the purge
SELECT lives_ok($q$DO $d$ BEGIN
                      PERFORM pals_privacy.unbind('lib.other_patrons');
                      PERFORM pals_privacy.bind_patrons('lib.patrons', 'id', 'expires');
                  END $d$$q$, 'the first patron table bound again');
INSERT INTO lib.patrons (id, name, expires) VALUES (8, 'Ivy', '2000-01-01');
SELECT is(pals_privacy._purged_patrons(), ARRAY['7'], 'bound again: patron 7 is left out of the purge, the new patron 8 is not');
-- dropping the patron table forgets its records
SELECT pals_privacy.unbind('lib.patrons');
DROP TABLE lib.patrons CASCADE;
SELECT is((SELECT count(*) FROM pals_privacy.purged_patrons), 0::bigint, 'dropping the patron table forgets its purged patrons');

SELECT * FROM finish();
ROLLBACK;
