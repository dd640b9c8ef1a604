/*
 * pseudonym.c
 *     Statistics without identity (issue 19, docs/statistics.md): when a row
 *     of a loan binding that collects statistics is severed, the severing
 *     code calls pals_stats_record() while the row's patron is still known.
 *     It computes the patron's pseudonym, HMAC-SHA256 under the current key
 *     period's secret key (OpenSSL), and has SQL record it with the patron's
 *     age bracket and home library, the item and the coarsened closed date
 *     (sql/0.2.0/52_statistics.sql).  The key is read and made by SQL run as
 *     the extension owner, the only role that can read it; it never leaves
 *     this function, and is wiped from memory after use.
 *
 *     Settings: pals_privacy.pseudonym_period (how long a key lives) and
 *     pals_privacy.min_group_size (export_statistics' k).
 *
 *     A failure to record never fails the sever: it is reported as a
 *     WARNING and the row is severed without its record.
 */
#include "pals_privacy.h"

#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/resowner.h"

#include <limits.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

PG_FUNCTION_INFO_V1(pals_privacy_random_key);
PG_FUNCTION_INFO_V1(pals_privacy_pseudonym_period);
PG_FUNCTION_INFO_V1(pals_privacy_statistics_binding_changed);

#define KEY_LEN 32

typedef enum PseudonymPeriod
{
	PERIOD_DAY,
	PERIOD_WEEK,
	PERIOD_MONTH,
	PERIOD_QUARTER,
	PERIOD_YEAR
} PseudonymPeriod;

static const struct config_enum_entry period_options[] = {
	{"day", PERIOD_DAY, false},
	{"week", PERIOD_WEEK, false},
	{"month", PERIOD_MONTH, false},
	{"quarter", PERIOD_QUARTER, false},
	{"year", PERIOD_YEAR, false},
	{NULL, 0, false}
};

static int	pseudonym_period = PERIOD_YEAR;
static int	min_group_size = 5;

/*
 * Which loan bindings collect statistics: read once per registry generation
 * and dropped when statistics_binding changes (its trigger sends a relcache
 * invalidation of the table).
 */
static Oid *stats_relids = NULL;
static int	nstats = 0;
static bool stats_valid = false;
static uint64 stats_generation = 0;
static Oid	stats_table = InvalidOid;

static void
stats_relcache_callback(Datum arg, Oid relid)
{
	if (relid == InvalidOid || relid == stats_table)
		stats_valid = false;
}

static void
load_stats_bindings(void)
{
	const PalsRegistry *reg = pals_registry();

	if (stats_valid && stats_generation == reg->generation)
		return;
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "pals_privacy: SPI_connect failed");
	pals_execute_sql_as(reg->extension_owner,
						"SELECT relation::oid, 'pals_privacy.statistics_binding'::regclass::oid"
						" FROM pals_privacy.statistics_binding", 0, NULL, NULL);
	if (stats_relids)
		pfree(stats_relids);
	stats_relids = MemoryContextAlloc(TopMemoryContext, sizeof(Oid) * (SPI_processed + 1));
	nstats = 0;
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		bool		isnull;
		Datum		d = SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull);

		if (!isnull)
			stats_relids[nstats++] = DatumGetObjectId(d);
	}
	SPI_finish();
	if (!OidIsValid(stats_table))
		stats_table = get_relname_relid("statistics_binding", get_namespace_oid("pals_privacy", false));
	stats_generation = reg->generation;
	stats_valid = true;
}

static bool
collects_statistics(Oid relid)
{
	load_stats_bindings();
	for (int i = 0; i < nstats; i++)
		if (stats_relids[i] == relid)
			return true;
	return false;
}

static void
hex(const unsigned char *in, int len, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (int i = 0; i < len; i++)
	{
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * len] = '\0';
}

static SPIPlanPtr plan_key = NULL;		/* the current period and its key */
static SPIPlanPtr plan_record = NULL;	/* write the record */

/* Look up the key, compute the pseudonym, record the row (SPI connected). */
static void
record(const LoanBinding *b, const char *patron, const char *item, const char *closed)
{
	Oid			owner = pals_registry()->extension_owner;
	Datum		values[6];
	char		nulls[7] = "      ";
	bool		isnull;
	bytea	   *key;
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0;
	char		pseudonym[2 * EVP_MAX_MD_SIZE + 1];

	if (plan_key == NULL)
		plan_key = pals_prepare_saved("SELECT period_start, key FROM pals_privacy._current_pseudonym_key()",
									  0, NULL);
	if (plan_record == NULL)
	{
		Oid			types[6] = {OIDOID, TEXTOID, TEXTOID, TEXTOID, TIMESTAMPTZOID, TEXTOID};

		plan_record = pals_prepare_saved("SELECT pals_privacy._record_statistics($1::regclass, $2, $3, $4, $5, $6)",
										 6, types);
	}

	pals_execute_as(owner, plan_key, NULL, NULL);
	if (SPI_processed != 1)
		elog(ERROR, "pals_privacy: no pseudonym key");
	values[4] = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	if (isnull)
		elog(ERROR, "pals_privacy: no pseudonym key period");
	key = DatumGetByteaPP(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
	if (isnull || VARSIZE_ANY_EXHDR(key) != KEY_LEN)
		elog(ERROR, "pals_privacy: the pseudonym key is missing or malformed");
	if (HMAC(EVP_sha256(), VARDATA_ANY(key), KEY_LEN, (const unsigned char *) patron, strlen(patron),
			 mac, &maclen) == NULL || maclen != PALS_SHA256_LEN)
		ereport(ERROR, (errcode(ERRCODE_INTERNAL_ERROR),
						errmsg("pals_privacy: HMAC-SHA256 failed in OpenSSL")));
	/* our copy of the key is wiped, not only freed */
	explicit_bzero(VARDATA_ANY(key), KEY_LEN);
	hex(mac, maclen, pseudonym);
	explicit_bzero(mac, sizeof(mac));

	values[0] = ObjectIdGetDatum(b->relid);
	values[1] = CStringGetTextDatum(patron);
	values[2] = item ? CStringGetTextDatum(item) : (Datum) 0;
	values[3] = closed ? CStringGetTextDatum(closed) : (Datum) 0;
	values[5] = CStringGetTextDatum(pseudonym);
	if (item == NULL)
		nulls[2] = 'n';
	if (closed == NULL)
		nulls[3] = 'n';
	pals_execute_as(owner, plan_record, values, nulls);
}

/*
 * Called by the severing code (sever.c) just before a row of binding b loses
 * its patron, with the row's patron, item and closed value.  Does nothing
 * unless the binding collects statistics.  Runs in its own subtransaction:
 * a failure is a WARNING (with its SQLSTATE only: a message could quote the
 * patron) and the sever goes on; a cancel is not swallowed.
 */
void
pals_stats_record(const LoanBinding *b, Oid patron_type, Datum patron, const char *item,
				  Oid closed_type, Datum closed_value, bool closed_null)
{
	MemoryContext oldcontext = CurrentMemoryContext;
	ResourceOwner oldowner = CurrentResourceOwner;
	Oid			out;
	bool		varlena;
	char	   *patron_text;
	char	   *volatile closed_text = NULL;

	if (!collects_statistics(b->relid))
		return;
	getTypeOutputInfo(patron_type, &out, &varlena);
	patron_text = OidOutputFunctionCall(out, patron);
	if (!closed_null && OidIsValid(closed_type))
	{
		getTypeOutputInfo(closed_type, &out, &varlena);
		closed_text = OidOutputFunctionCall(out, closed_value);
	}

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(oldcontext);
	PG_TRY();
	{
		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "pals_privacy: SPI_connect failed");
		{
			int			nestlevel = pals_safe_search_path();

			record(b, patron_text, item, closed_text);
			pals_restore_search_path(nestlevel);
		}
		SPI_finish();
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcontext);
		CurrentResourceOwner = oldowner;
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(oldcontext);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcontext);
		CurrentResourceOwner = oldowner;
		if (edata->sqlerrcode == ERRCODE_QUERY_CANCELED || edata->sqlerrcode == ERRCODE_ADMIN_SHUTDOWN)
			ReThrowError(edata);
		ereport(WARNING,
				(errcode(edata->sqlerrcode),
				 errmsg("pals_privacy: no statistics record was written for a row severed from \"%s\" (SQLSTATE %s)",
						get_rel_name(b->relid), unpack_sql_state(edata->sqlerrcode)),
				 errhint("The row was severed all the same. See docs/statistics.md.")));
		FreeErrorData(edata);
	}
	PG_END_TRY();
	explicit_bzero(patron_text, strlen(patron_text));
}

/* pals_privacy._random_key() returns bytea: 32 bytes from OpenSSL's CSPRNG */
Datum
pals_privacy_random_key(PG_FUNCTION_ARGS)
{
	unsigned char key[KEY_LEN];
	bytea	   *result;

	if (RAND_bytes(key, KEY_LEN) != 1)
		ereport(ERROR, (errcode(ERRCODE_INTERNAL_ERROR),
						errmsg("pals_privacy: could not generate random bytes")));
	result = pals_bytea(key, KEY_LEN);
	explicit_bzero(key, KEY_LEN);
	PG_RETURN_BYTEA_P(result);
}

/* pals_privacy._pseudonym_period() returns text: the setting, a date_trunc unit */
Datum
pals_privacy_pseudonym_period(PG_FUNCTION_ARGS)
{
	PG_RETURN_TEXT_P(cstring_to_text(period_options[pseudonym_period].name));
}

/* Statement trigger on statistics_binding: every backend forgets its cache at commit. */
Datum
pals_privacy_statistics_binding_changed(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;

	if (!CALLED_AS_TRIGGER(fcinfo))
		elog(ERROR, "pals_privacy: _statistics_binding_changed() is a trigger");
	CacheInvalidateRelcacheByRelid(RelationGetRelid(trigdata->tg_relation));
	PG_RETURN_POINTER(NULL);
}

void
pals_stats_init(void)
{
	DefineCustomEnumVariable("pals_privacy.pseudonym_period",
							 "How long one secret key of the statistics pseudonyms lives.",
							 "Pseudonyms link a patron's loans within one period and never across periods; "
							 "an ended period's key is destroyed. Calendar periods, UTC.",
							 &pseudonym_period,
							 PERIOD_YEAR,
							 period_options,
							 PGC_SUSET,
							 0,
							 NULL, NULL, NULL);
	DefineCustomIntVariable("pals_privacy.min_group_size",
							"Smallest number of patrons a group of exported statistics may show.",
							"export_statistics() suppresses every group of fewer patrons (k-anonymity).",
							&min_group_size,
							5, 2, INT_MAX,
							PGC_SUSET, 0,
							NULL, NULL, NULL);
	CacheRegisterRelcacheCallback(stats_relcache_callback, (Datum) 0);
}
