# pals_privacy: PGXS build.  `make test` and `make demo` are the front door (see README.md).

EXTENSION    = pals_privacy
EXTVERSION   = $(shell sed -n "s/^default_version *= *'\(.*\)'/\1/p" $(EXTENSION).control)

MODULE_big   = pals_privacy
OBJS         = $(patsubst %.c,%.o,$(sort $(wildcard src/*.c)))
DATA         = $(sort $(wildcard sql/$(EXTENSION)--*.sql))
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

# PGXS does not track header dependencies: every object depends on the shared header.
$(OBJS): src/pals_privacy.h

# pg_isolation_regress looks for specs in $(inputdir)/specs and expected output
# in $(inputdir)/expected, which is where test/ keeps them.

.PHONY: test demo bench bench-quick werror

# Build with warnings as errors (what CI does).  The server headers trip
# -Wunused-parameter and -Wmissing-field-initializers (callbacks with fixed
# signatures), so those two are turned off; every other -Wextra check stays.
WERROR_CFLAGS = -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers -Werror
werror:
	$(MAKE) EXTRA_CFLAGS="$(WERROR_CFLAGS)"

test:
	bash tools/run-tests.sh

demo:
	bash tools/run-demo.sh

bench:
	bash tools/setup.sh && bash bench/run.sh

bench-quick:
	bash tools/setup.sh && bash bench/run.sh --quick
