# Credentials never reach the server log (issue 13, item 11).  A server that
# logs everything it can: log_statement = all, log_min_duration_statement = 0
# with bind parameters (log_parameter_max_length = -1, also on error),
# auto_explain of every statement (nested ones too), verbose errors.  Every
# way of calling login(), change_pin() and set_pin() is run once with card
# numbers and PINs of their own: literals, search_path, a DO block, SQL-level
# PREPARE/EXECUTE, the extended protocol with bind parameters (pgbench
# -M extended and -M prepared), errors after and before execution.  Then the
# whole server log is searched for each card and PIN: none may appear.
# Statements without credentials are still logged as before.

use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('credentials');
$node->init;
$node->append_conf('postgresql.conf', <<'CONF');
shared_preload_libraries = 'pals_privacy, auto_explain'
log_statement = 'all'
log_min_duration_statement = 0
log_parameter_max_length = -1
log_parameter_max_length_on_error = -1
log_error_verbosity = verbose
log_min_error_statement = debug5
auto_explain.log_min_duration = 0
auto_explain.log_nested_statements = on
auto_explain.log_verbose = on
pals_privacy.pin_iterations = 10000
CONF
$node->start;

$node->safe_psql('postgres', <<'SQL');
CREATE EXTENSION pals_privacy;
CREATE TABLE patrons (id text PRIMARY KEY, card text UNIQUE, expires date NOT NULL DEFAULT 'infinity');
INSERT INTO patrons VALUES ('P1', 'CARDXONE'), ('P2', 'CARDXTWO'), ('P3', 'CARDXTHREE');
SELECT pals_privacy.bind_patrons('patrons', 'id', 'expires', card_column => 'card');
CREATE ROLE opac LOGIN;
SELECT pals_privacy.classify_role('opac', 'patron');
SQL

# every secret below is unique, so that a hit names the path that leaked it
my @secrets;
sub secret { my ($s) = @_; push @secrets, $s; return $s; }

my $log_start = -s $node->logfile;

# literals, as superuser (set_pin by a superuser: not a one-time PIN)
$node->psql('postgres', "SELECT pals_privacy.set_pin('P1', '" . secret('PINXSETONE') . "')");
$node->psql('postgres', "SELECT pals_privacy.set_pin('P2', '" . secret('PINXSETTWO') . "')");
$node->psql('postgres', "SELECT pals_privacy.set_pin('P3', '" . secret('PINXSETTHREE') . "')");
$node->psql('postgres', "SELECT pals_privacy.login('CARDXONE', 'PINXSETONE')", extra_params => [ '-U', 'opac' ]);
$node->psql('postgres', "SELECT pals_privacy.login('" . secret('CARDXLITERAL') . "', '" . secret('PINXLITERAL') . "')",
    extra_params => [ '-U', 'opac' ]);
# unqualified, through search_path, odd spacing and case
$node->psql('postgres', "SET search_path = pals_privacy, public; SELECT LOGIN  ('" . secret('CARDXPATH') . "', '"
    . secret('PINXPATH') . "')", extra_params => [ '-U', 'opac' ]);
# a DO block
$node->psql('postgres', "DO \$\$ BEGIN PERFORM pals_privacy.login('" . secret('CARDXDO') . "', '"
    . secret('PINXDO') . "'); END \$\$", extra_params => [ '-U', 'opac' ]);
# SQL-level PREPARE / EXECUTE: the EXECUTE holds the arguments
$node->psql('postgres', "PREPARE p(text, text) AS SELECT pals_privacy.login(\$1, \$2);\nEXECUTE p('"
    . secret('CARDXPREPARED') . "', '" . secret('PINXPREPARED') . "');", extra_params => [ '-U', 'opac' ]);
# change_pin of a logged-in patron, both PINs
$node->psql('postgres', "SELECT pals_privacy.login('CARDXTWO', 'PINXSETTWO'); SELECT pals_privacy.change_pin('PINXSETTWO', '"
    . secret('PINXCHANGED') . "')", extra_params => [ '-U', 'opac' ]);
# an error after login ran (with the parameters in CONTEXT on error)
$node->psql('postgres', "SELECT pals_privacy.login('" . secret('CARDXERROR') . "', '" . secret('PINXERROR')
    . "')::text::int", extra_params => [ '-U', 'opac' ]);
# a syntax error: login never runs
$node->psql('postgres', "SELECT pals_privacy.login('" . secret('CARDXSYNTAX') . "', '" . secret('PINXSYNTAX') . "' ;",
    extra_params => [ '-U', 'opac' ]);
# an error inside login (a NULL-free wrong type): the STATEMENT line
$node->psql('postgres', "SELECT pals_privacy.login('" . secret('CARDXTYPE') . "', '" . secret('PINXTYPE') . "', 3)",
    extra_params => [ '-U', 'opac' ]);

# the extended protocol with bind parameters (psql 15 has no \bind): pgbench
my $script = $node->basedir . '/login.sql';
open my $fh, '>', $script or die;
print $fh "SELECT pals_privacy.login(:card, :pin);\n";
close $fh;
my $script_err = $node->basedir . '/login_error.sql';
open $fh, '>', $script_err or die;
print $fh "SELECT pals_privacy.login(:card, :pin)::text::int;\n";
close $fh;
for my $mode ('extended', 'prepared')
{
    my ($card, $pin) = (secret("CARDXBIND\U$mode"), secret("PINXBIND\U$mode"));
    $node->command_ok([ 'pgbench', '-n', '-t', '1', '-M', $mode, '-f', $script, '-D', "card=$card",
                        '-D', "pin=$pin", '-U', 'opac', 'postgres' ], "pgbench -M $mode with bind parameters");
    ($card, $pin) = (secret("CARDXERR\U$mode"), secret("PINXERR\U$mode"));
    $node->command_fails([ 'pgbench', '-n', '-t', '1', '-M', $mode, '-f', $script_err, '-D', "card=$card",
                           '-D', "pin=$pin", '-U', 'opac', 'postgres' ], "pgbench -M $mode, an error with bind parameters");
}
# the right PIN through bind parameters too
$node->command_ok([ 'pgbench', '-n', '-t', '1', '-M', 'extended', '-f', $script, '-D', 'card=CARDXTHREE',
                    '-D', 'pin=PINXSETTHREE', '-U', 'opac', 'postgres' ], 'pgbench: a successful login');

# statements without credentials are logged as before
$node->psql('postgres', "SELECT 'VISIBLEXMARKER' AS unrelated");

# the set-up's cards are secrets too
push @secrets, 'CARDXONE', 'CARDXTWO', 'CARDXTHREE';

$node->stop;    # flushes the log
my $log = slurp_file($node->logfile, $log_start);

for my $s (@secrets)
{
    my @hits = grep { index($_, $s) >= 0 } split /\n/, $log;
    is(scalar(@hits), 0, "$s is in no log line") or diag(join("\n", @hits[0 .. ($#hits < 4 ? $#hits : 4)]));
}
like($log, qr/statement: SELECT 'VISIBLEXMARKER'/, 'other statements are logged (log_statement)');
like($log, qr/duration: [0-9.]+ ms$/m, 'and their duration');
like($log, qr/Query Text: SELECT 'VISIBLEXMARKER'/, 'and their auto_explain plan');
like($log, qr/statement withheld: it carries credentials/, 'the withheld statements say so');
like($log, qr/duration: [0-9.]+ ms  statement withheld/, 'with their duration');
like($log, qr/pals_privacy: login\.failed for patron \(unknown card\) by role opac/,
    'our own line about a failed login stays');

done_testing();
