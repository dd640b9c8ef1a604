# pals_privacy: PGXS build.  `make test` and `make demo` are the front door (see README.md).

EXTENSION    = pals_privacy
EXTVERSION   = $(shell sed -n "s/^default_version *= *'\(.*\)'/\1/p" $(EXTENSION).control)

MODULE_big   = pals_privacy
OBJS         = $(patsubst %.c,%.o,$(sort $(wildcard src/*.c)))

# SQL (sql/README.md): one object (or one small family) per file under sql/.
# The install script is a build product: the files sql/install.list names,
# in its order.  The upgrade script from the last release is a build product
# too: the hand-written sql/updates/LAST--CURRENT/before.sql, every function,
# view and trigger file again (all CREATE OR REPLACE), then .../after.sql.
# Released upgrade scripts are frozen in sql/updates/ (installed as they are).
LAST_RELEASE = 0.1.0
SQL_FILES    = $(addprefix sql/,$(shell awk '/^[a-z]/ {print $$1}' sql/install.list))
UPDATE_DIR   = sql/updates/$(LAST_RELEASE)--$(EXTVERSION)
DATA         = $(sort $(wildcard sql/updates/$(EXTENSION)--*.sql))
DATA_built   = sql/$(EXTENSION)--$(EXTVERSION).sql sql/$(EXTENSION)--$(LAST_RELEASE)--$(EXTVERSION).sql
PG_CPPFLAGS  = -I$(srcdir)/src
PG_CFLAGS    = -std=gnu11 $(EXTRA_CFLAGS)
SHLIB_LINK  += -lcrypto

REGRESS      = $(sort $(patsubst test/sql/%.sql,%,$(wildcard test/sql/*.sql)))
REGRESS_OPTS = --inputdir=test --load-extension=pgtap
ISOLATION    = $(sort $(patsubst test/specs/%.spec,%,$(wildcard test/specs/*.spec)))
ISOLATION_OPTS = --inputdir=test
TAP_TESTS    = 1
PROVE_TESTS  = test/t/*.pl

PG_CONFIG   ?= pg_config
PGXS        := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# PGXS does not track header dependencies: every object depends on every header.
$(OBJS): $(wildcard src/*.h)

# pg_isolation_regress looks for specs in $(inputdir)/specs and expected output
# in $(inputdir)/expected, which is where test/ keeps them.

# (the directories too, so that adding or removing a file remakes the scripts;
# tools/build-sql.sh refuses a .sql file missing from sql/install.list)
SQL_DIRS = $(sort $(dir $(SQL_FILES) $(wildcard sql/*/*.sql sql/*/*/*.sql)))
sql/$(EXTENSION)--$(EXTVERSION).sql: sql/install.list $(SQL_FILES) $(SQL_DIRS) tools/build-sql.sh
	bash tools/build-sql.sh install $(EXTVERSION) $@

sql/$(EXTENSION)--$(LAST_RELEASE)--$(EXTVERSION).sql: sql/install.list $(SQL_FILES) $(SQL_DIRS) $(wildcard $(UPDATE_DIR)/*) tools/build-sql.sh
	bash tools/build-sql.sh upgrade $(LAST_RELEASE) $(EXTVERSION) $@

.PHONY: test deb-test demo report bench bench-quick werror status

# Build with warnings as errors (what CI does).  The server headers trip
# -Wunused-parameter and -Wmissing-field-initializers (callbacks with fixed
# signatures), so those two are turned off; every other -Wextra check stays.
WERROR_CFLAGS = -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers -Werror
werror:
	$(MAKE) EXTRA_CFLAGS="$(WERROR_CFLAGS)"

# `make test PG=18` (or PG=18-assert): the same suites against a private
# PostgreSQL built from source and cached by tools/build-pg.sh.
test:
	PG=$(PG) ONLY="$(ONLY)" bash tools/run-tests.sh

# Build the Debian package (debian/) and install it into a clean cluster.
deb-test:
	bash tools/test-deb.sh

# One-screen health check of the installed extension in $PGDATABASE (docs/operations.md).
status:
	psql -X -d "$${PGDATABASE:-postgres}" -P pager=off -c "SELECT * FROM pals_privacy.health()" \
	     -c "SELECT * FROM pals_privacy.worker_status()"

demo:
	bash tools/run-demo.sh

# The compliance report of the demo consortium, as one HTML page (REPORT=path).
report:
	bash tools/run-demo.sh --report-only

# (run.sh --install holds the install lock while it installs and sets up, not while it measures)
bench:
	bash bench/run.sh --install

bench-quick:
	bash bench/run.sh --private --quick
