-- test/shape_pin.sql: the ILS-shape suites' patron W chooses a PIN through the catalogue (a PIN
-- set by staff is a one-time PIN), shared by test/{koha,evergreen,shelf}/setup.sql.  Expects psql
-- variables pin_patron (W's id), pin_card (W's card) and pin_role (the catalogue role); W's PIN
-- is then 2580.
SET pals_privacy.pin_iterations = 10000;
SELECT pals_privacy.set_pin(:'pin_patron', '4242');
SET ROLE :pin_role;
SELECT pals_privacy.login(:'pin_card', '4242');
SELECT pals_privacy.change_pin('4242', '2580');
SELECT pals_privacy.logout();
RESET ROLE;
RESET pals_privacy.pin_iterations;
