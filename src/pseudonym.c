/*
 * pseudonym.c
 *     Statistics without identity (issue 19, docs/statistics.md): when a row
 *     of a loan binding that collects statistics is severed, the severing
 *     code calls pals_stats_record() while the row's patron is still known.
 *     It computes the patron's pseudonym, HMAC-SHA256 under the current key
 *     period's secret key (OpenSSL), and writes it with the patron's age
 *     bracket and home library, the item and the coarsened closed date, by
 *     one INSERT prepared per binding (sql/tables/pseudonym*.sql have the
 *     tables).  The key is read and made by SQL run as the extension owner,
 *     the only role that can read it, and kept in this backend's memory only
 *     while it is current (wiped when the key table changes, the period
 *     ends, or a transaction that may have made it rolls back).
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
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/timestamp.h"
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
PG_FUNCTION_INFO_V1(pals_privacy_record_statistics);

#define KEY_LEN 32

/*
 * Which loan bindings collect statistics, each with the INSERT that writes
 * its records: read once per registry generation and dropped when
 * statistics_binding changes (its trigger sends a relcache invalidation of
 * the table).  Plans of a dropped cache are freed at the next load, never
 * in the callback (a record may be using one).
 */
typedef struct StatsBinding
{
	Oid			relid;
	char	   *sql;			/* the INSERT of a record */
	SPIPlanPtr	plan;			/* prepared at first use */
	char	   *batch_sql;		/* the INSERT of many (arrays) */
	SPIPlanPtr	batch_plan;		/* prepared at first use */
} StatsBinding;

static MemoryContext stats_context = NULL;
static StatsBinding *stats = NULL;
static int	nstats = 0;
static bool stats_valid = false;
static uint64 stats_generation = 0;
static Oid	stats_table = InvalidOid;

/*
 * The current period's key, kept in this backend's memory (no SQL role can
 * read a backend's memory) until the key table changes, the period ends, or
 * a (sub)transaction that may have made it rolls back.
 */
static unsigned char cached_key[KEY_LEN];
static bool key_valid = false;
static Datum key_period_start;
static TimestampTz key_period_end;
static Oid	keys_table = InvalidOid;

static void
forget_key(void)
{
	explicit_bzero(cached_key, KEY_LEN);
	key_valid = false;
}

static void
stats_relcache_callback(Datum arg, Oid relid)
{
	if (relid == InvalidOid || relid == stats_table)
		stats_valid = false;
	if (relid == InvalidOid || relid == keys_table)
		forget_key();
}

static void
stats_xact_callback(XactEvent event, void *arg)
{
	if (event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT)
		forget_key();
}

static void
stats_subxact_callback(SubXactEvent event, SubTransactionId mySubid, SubTransactionId parentSubid, void *arg)
{
	if (event == SUBXACT_EVENT_ABORT_SUB)
		forget_key();
}

static const char *
qualified(Oid relid)
{
	return quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)), get_rel_name(relid));
}

static void
load_stats_bindings(void)
{
	const PalsRegistry *reg = pals_registry();
	MemoryContext old;

	if (stats_valid && stats_generation == reg->generation)
		return;
	if (stats_context == NULL)
		stats_context = AllocSetContextCreate(TopMemoryContext, "pals_privacy statistics",
											  ALLOCSET_SMALL_SIZES);
	for (int i = 0; i < nstats; i++)
	{
		if (stats[i].plan)
			SPI_freeplan(stats[i].plan);
		if (stats[i].batch_plan)
			SPI_freeplan(stats[i].batch_plan);
	}
	MemoryContextReset(stats_context);
	stats = NULL;
	nstats = 0;

	/* a 0.1.0 database (before ALTER EXTENSION UPDATE) has none; asked again */
	if (!OidIsValid(get_relname_relid("statistics_binding", get_namespace_oid("pals_privacy", true))))
		return;
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "pals_privacy: SPI_connect failed");
	pals_execute_sql_as(reg->extension_owner,
						"SELECT s.relation::oid, s.granularity, p.relation::oid, p.id_column::text,"
						" p.birth_date_column::text, p.library_column::text, format_type(a.atttypid, NULL)"
						" FROM pals_privacy.statistics_binding s"
						" LEFT JOIN pals_privacy.patron_binding p ON true"
						" LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = p.relation AND a.attname = p.id_column",
						0, NULL, NULL);
	old = MemoryContextSwitchTo(stats_context);
	stats = palloc0(sizeof(StatsBinding) * (SPI_processed + 1));
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		HeapTuple	t = SPI_tuptable->vals[i];
		TupleDesc	d = SPI_tuptable->tupdesc;
		bool		isnull;
		Oid			relid = DatumGetObjectId(SPI_getbinval(t, d, 1, &isnull));
		char	   *gran = SPI_getvalue(t, d, 2);
		char	   *prel = SPI_getvalue(t, d, 3);
		char	   *idcol = SPI_getvalue(t, d, 4);
		char	   *birth = SPI_getvalue(t, d, 5);
		char	   *library = SPI_getvalue(t, d, 6);
		char	   *idtype = SPI_getvalue(t, d, 7);
		StringInfoData sql;

		initStringInfo(&sql);
		appendStringInfo(&sql,
						 "INSERT INTO pals_privacy.pseudonymous_loans"
						 " (relation, period, pseudonym, age_bracket, library, item, closed_on)"
						 " SELECT %u::oid::regclass, $1, $2, pals_privacy._age_bracket(p.birth, $4), p.library, $3,"
						 " date_trunc(%s, $4, 'UTC')::date FROM (SELECT 1) AS one LEFT JOIN ",
						 relid, quote_literal_cstr(gran));
		if (prel != NULL && idcol != NULL && idtype != NULL)
			appendStringInfo(&sql,
							 "(SELECT %s AS birth, %s AS library FROM %s x WHERE x.%s = $5::%s LIMIT 1) AS p ON true",
							 birth ? psprintf("x.%s::date", quote_identifier(birth)) : "NULL::date",
							 library ? psprintf("x.%s::text", quote_identifier(library)) : "NULL::text",
							 qualified(DatumGetObjectId(DirectFunctionCall1(oidin, CStringGetDatum(prel)))),
							 quote_identifier(idcol), idtype);
		else
			appendStringInfoString(&sql, "(SELECT NULL::date AS birth, NULL::text AS library, $5 AS patron) AS p ON true");
		stats[nstats].relid = relid;
		stats[nstats].sql = sql.data;
		/* the same for a batch: $2 pseudonyms, $3 items, $4 closed times, $5 patrons (arrays) */
		initStringInfo(&sql);
		appendStringInfo(&sql,
						 "INSERT INTO pals_privacy.pseudonymous_loans"
						 " (relation, period, pseudonym, age_bracket, library, item, closed_on)"
						 " SELECT %u::oid::regclass, $1, u.pseudonym, pals_privacy._age_bracket(p.birth, u.closed_at),"
						 " p.library, u.item, date_trunc(%s, u.closed_at, 'UTC')::date"
						 " FROM unnest($2::text[], $3::text[], $4::timestamptz[], $5::text[])"
						 " WITH ORDINALITY AS u (pseudonym, item, closed_at, patron, n) LEFT JOIN LATERAL ",
						 relid, quote_literal_cstr(gran));
		if (prel != NULL && idcol != NULL && idtype != NULL)
			appendStringInfo(&sql,
							 "(SELECT %s AS birth, %s AS library FROM %s x WHERE x.%s = u.patron::%s LIMIT 1) AS p ON true",
							 birth ? psprintf("x.%s::date", quote_identifier(birth)) : "NULL::date",
							 library ? psprintf("x.%s::text", quote_identifier(library)) : "NULL::text",
							 qualified(DatumGetObjectId(DirectFunctionCall1(oidin, CStringGetDatum(prel)))),
							 quote_identifier(idcol), idtype);
		else
			appendStringInfoString(&sql, "(SELECT NULL::date AS birth, NULL::text AS library) AS p ON true");
		appendStringInfoString(&sql, " ORDER BY u.n");
		stats[nstats].batch_sql = sql.data;
		nstats++;
	}
	MemoryContextSwitchTo(old);
	SPI_finish();
	if (!OidIsValid(stats_table))
		stats_table = get_relname_relid("statistics_binding", get_namespace_oid("pals_privacy", false));
	if (!OidIsValid(keys_table))
		keys_table = get_relname_relid("pseudonym_keys", get_namespace_oid("pals_privacy", false));
	stats_generation = reg->generation;
	stats_valid = true;
}

static StatsBinding *
stats_binding(Oid relid)
{
	load_stats_bindings();
	for (int i = 0; i < nstats; i++)
		if (stats[i].relid == relid)
			return &stats[i];
	return NULL;
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

/* The current period's key into cached_key (SPI connected). */
static void
current_key(void)
{
	bool		isnull;
	bytea	   *key;

	if (key_valid && GetCurrentTimestamp() < key_period_end)
		return;
	forget_key();
	if (plan_key == NULL)
		plan_key = pals_prepare_saved("SELECT period_start, period_end, key FROM pals_privacy._current_pseudonym_key()",
									  0, NULL);
	pals_execute_as(pals_registry()->extension_owner, plan_key, NULL, NULL);
	if (SPI_processed != 1)
		elog(ERROR, "pals_privacy: no pseudonym key");
	key_period_start = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	if (isnull)
		elog(ERROR, "pals_privacy: no pseudonym key period");
	key_period_end = DatumGetTimestampTz(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
	key = DatumGetByteaPP(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3, &isnull));
	if (isnull || VARSIZE_ANY_EXHDR(key) != KEY_LEN)
		elog(ERROR, "pals_privacy: the pseudonym key is missing or malformed");
	memcpy(cached_key, VARDATA_ANY(key), KEY_LEN);
	explicit_bzero(VARDATA_ANY(key), KEY_LEN);	/* SPI's copy: wiped, not only freed */
	key_valid = true;
}

/* Compute the pseudonym and write the record (SPI connected). */
/*
 * The pseudonym of a patron under the current period's key (current_key()
 * first): HMAC-SHA256 of the patron id's text, as hex into out (at least
 * 2 * EVP_MAX_MD_SIZE + 1 bytes).  One routine for the single record and
 * the backlog's batch, so that both write the same pseudonym.
 */
static void
pseudonym_of(const char *patron, char *out)
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0;

	if (HMAC(EVP_sha256(), cached_key, KEY_LEN, (const unsigned char *) patron, strlen(patron),
			 mac, &maclen) == NULL || maclen != PALS_SHA256_LEN)
		ereport(ERROR, (errcode(ERRCODE_INTERNAL_ERROR),
						errmsg("pals_privacy: HMAC-SHA256 failed in OpenSSL")));
	hex(mac, maclen, out);
	explicit_bzero(mac, sizeof(mac));
}

static void
record(StatsBinding *sb, const char *patron, const char *item, TimestampTz closed_at)
{
	Datum		values[5];
	char		nulls[6] = "     ";
	char		pseudonym[2 * EVP_MAX_MD_SIZE + 1];

	current_key();
	pseudonym_of(patron, pseudonym);

	if (sb->plan == NULL)
	{
		Oid			types[5] = {TIMESTAMPTZOID, TEXTOID, TEXTOID, TIMESTAMPTZOID, TEXTOID};

		sb->plan = pals_prepare_saved(sb->sql, 5, types);
	}
	values[0] = key_period_start;
	values[1] = CStringGetTextDatum(pseudonym);
	values[2] = item ? CStringGetTextDatum(item) : (Datum) 0;
	if (item == NULL)
		nulls[2] = 'n';
	values[3] = TimestampTzGetDatum(closed_at);
	values[4] = CStringGetTextDatum(patron);
	pals_execute_as(pals_registry()->extension_owner, sb->plan, values, nulls);
}

/* One severed row's record: what pals_stats_record() hands pals_in_subtransaction(). */
typedef struct OneRecord
{
	StatsBinding *sb;
	const char *patron_text;
	const char *item;
	TimestampTz closed_at;
} OneRecord;

static void
record_one(void *arg)
{
	OneRecord  *r = arg;

	record(r->sb, r->patron_text, r->item, r->closed_at);
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
	OneRecord	r;
	ErrorData  *edata;
	Oid			out;
	bool		varlena;
	char	   *patron_text;

	if ((r.sb = stats_binding(b->relid)) == NULL)
		return;
	getTypeOutputInfo(patron_type, &out, &varlena);
	patron_text = OidOutputFunctionCall(out, patron);
	r.patron_text = patron_text;
	r.item = item;
	r.closed_at = GetCurrentTimestamp();	/* a closed value that is not a time: now */
	if (!closed_null && closed_type == TIMESTAMPTZOID)
		r.closed_at = DatumGetTimestampTz(closed_value);
	else if (!closed_null && closed_type == TIMESTAMPOID)
		r.closed_at = DatumGetTimestampTz(DirectFunctionCall1(timestamp_timestamptz, closed_value));
	else if (!closed_null && closed_type == DATEOID)
		r.closed_at = DatumGetTimestampTz(DirectFunctionCall1(date_timestamptz, closed_value));

	if ((edata = pals_in_subtransaction(record_one, &r)) != NULL)
	{
		ereport(WARNING,
				(errcode(edata->sqlerrcode),
				 errmsg("pals_privacy: no statistics record was written for a row severed from \"%s\" (SQLSTATE %s)",
						get_rel_name(b->relid), unpack_sql_state(edata->sqlerrcode)),
				 errhint("The row was severed all the same. See docs/statistics.md.")));
		FreeErrorData(edata);
	}
	explicit_bzero(patron_text, strlen(patron_text));
}

/* Many severed rows' records: what _record_statistics() hands pals_in_subtransaction(). */
typedef struct BatchRecord
{
	StatsBinding *sb;
	int			n;
	char	  **patron_texts;
	Datum	   *patrons;
	Datum	   *items;
	bool	   *inulls;
	Datum	   *closed;
	int64		written;
} BatchRecord;

static void
record_batch(void *arg)
{
	BatchRecord *r = arg;
	StatsBinding *sb = r->sb;
	int			n = r->n;
	int			dims[1] = {n};
	int			lbs[1] = {1};
	Datum		values[5];
	Datum	   *pseudonyms = palloc(sizeof(Datum) * n);
	char		pseudonym[2 * EVP_MAX_MD_SIZE + 1];

	current_key();
	for (int i = 0; i < n; i++)
	{
		pseudonym_of(r->patron_texts[i], pseudonym);
		pseudonyms[i] = CStringGetTextDatum(pseudonym);
	}
	if (sb->batch_plan == NULL)
	{
		Oid			types[5] = {TIMESTAMPTZOID, TEXTARRAYOID, TEXTARRAYOID, TIMESTAMPTZARRAYOID, TEXTARRAYOID};

		sb->batch_plan = pals_prepare_saved(sb->batch_sql, 5, types);
	}
	values[0] = key_period_start;
	values[1] = PointerGetDatum(construct_array(pseudonyms, n, TEXTOID, -1, false, TYPALIGN_INT));
	values[2] = PointerGetDatum(construct_md_array(r->items, r->inulls, 1, dims, lbs, TEXTOID, -1, false, TYPALIGN_INT));
	values[3] = PointerGetDatum(construct_array(r->closed, n, TIMESTAMPTZOID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	values[4] = PointerGetDatum(construct_array(r->patrons, n, TEXTOID, -1, false, TYPALIGN_INT));
	pals_execute_as(pals_registry()->extension_owner, sb->batch_plan, values, NULL);
	r->written = SPI_processed;
}

/*
 * pals_privacy._record_statistics(binding regclass, patrons text[],
 * items text[], closed_at timestamptz[]) returns bigint: the records of
 * many rows of binding severed together (sever_backlog's set-based sever),
 * as pals_stats_record() writes them one by one: the same pseudonyms, age
 * brackets, libraries and dates (a NULL closed time: now), by one INSERT, in
 * a subtransaction whose failure is a WARNING.  Returns the number of
 * records written (0 if the binding collects no statistics).
 */
Datum
pals_privacy_record_statistics(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	BatchRecord r = {0};
	ErrorData  *edata;
	bool	   *pnulls,
			   *cnulls;
	int			ni,
				nc;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2) || PG_ARGISNULL(3))
		PG_RETURN_INT64(0);
	if ((r.sb = stats_binding(relid)) == NULL)
		PG_RETURN_INT64(0);
	deconstruct_array(PG_GETARG_ARRAYTYPE_P(1), TEXTOID, -1, false, TYPALIGN_INT, &r.patrons, &pnulls, &r.n);
	deconstruct_array(PG_GETARG_ARRAYTYPE_P(2), TEXTOID, -1, false, TYPALIGN_INT, &r.items, &r.inulls, &ni);
	deconstruct_array(PG_GETARG_ARRAYTYPE_P(3), TIMESTAMPTZOID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE,
					  &r.closed, &cnulls, &nc);
	if (ni != r.n || nc != r.n)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("patrons, items and closed times must have as many elements")));
	if (r.n == 0)
		PG_RETURN_INT64(0);
	r.patron_texts = palloc0(sizeof(char *) * r.n);
	for (int i = 0; i < r.n; i++)
	{
		if (pnulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("a severed row's patron is needed for its statistics record")));
		r.patron_texts[i] = TextDatumGetCString(r.patrons[i]);
		if (cnulls[i])
			r.closed[i] = TimestampTzGetDatum(GetCurrentTimestamp());
	}

	if ((edata = pals_in_subtransaction(record_batch, &r)) != NULL)
	{
		ereport(WARNING,
				(errcode(edata->sqlerrcode),
				 errmsg("pals_privacy: no statistics records were written for %d rows severed from \"%s\" (SQLSTATE %s)",
						r.n, get_rel_name(relid), unpack_sql_state(edata->sqlerrcode)),
				 errhint("The rows were severed all the same. See docs/statistics.md.")));
		FreeErrorData(edata);
		r.written = 0;
	}
	for (int i = 0; i < r.n; i++)
		explicit_bzero(r.patron_texts[i], strlen(r.patron_texts[i]));
	PG_RETURN_INT64(r.written);
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
	PG_RETURN_TEXT_P(cstring_to_text(pals_get_pseudonym_period()));
}

/*
 * Statement trigger on statistics_binding and pseudonym_keys: every backend
 * forgets its cache of the table (bindings, or its key) at commit.
 */
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
	CacheRegisterRelcacheCallback(stats_relcache_callback, (Datum) 0);
	RegisterXactCallback(stats_xact_callback, NULL);
	RegisterSubXactCallback(stats_subxact_callback, NULL);
}
