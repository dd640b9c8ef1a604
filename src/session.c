/*
 * session.c
 *     The patron session: PINs hashed with PBKDF2-HMAC-SHA256 (OpenSSL),
 *     login(card, pin) with a constant-time comparison, a failure count per
 *     card kept in shared memory (so that it survives the caller's rollback)
 *     with a lockout, and the session's patron, which only login() sets and
 *     logout(), DISCARD ALL and RESET ALL clear.
 */
#include "pals_privacy.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "tcop/utility.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include <limits.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

PG_FUNCTION_INFO_V1(pals_privacy_pin_hash);
PG_FUNCTION_INFO_V1(pals_privacy_random_salt);
PG_FUNCTION_INFO_V1(pals_privacy_login);
PG_FUNCTION_INFO_V1(pals_privacy_logout);
PG_FUNCTION_INFO_V1(pals_privacy_session_patron);
PG_FUNCTION_INFO_V1(pals_privacy_reset_failures);

#define PIN_HASH_LEN 32
#define SALT_LEN 16
#define CARD_KEY_LEN 72		/* hex SHA-256 of database and card */
#define MAX_CARDS 10000

int			pals_pin_iterations = 100000;
int			pals_max_failed_logins = 5;
int			pals_lockout = 15 * 60;	/* seconds */

/* The session's patron: set by login() only. */
static char *session_patron = NULL;

typedef struct CardFailures
{
	char		card[CARD_KEY_LEN];	/* hash key */
	int			failures;
	TimestampTz locked_until;
} CardFailures;

static HTAB *failures = NULL;
static LWLock *failures_lock = NULL;
static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;
static ProcessUtility_hook_type prev_utility_hook = NULL;

static void
session_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(hash_estimate_size(MAX_CARDS, sizeof(CardFailures)));
	RequestNamedLWLockTranche("pals_privacy logins", 1);
}

static void
session_shmem_startup(void)
{
	HASHCTL		ctl;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	ctl.keysize = CARD_KEY_LEN;
	ctl.entrysize = sizeof(CardFailures);
	failures = ShmemInitHash("pals_privacy login failures", MAX_CARDS, MAX_CARDS, &ctl,
							 HASH_ELEM | HASH_STRINGS);
	failures_lock = &(GetNamedLWLockTranche("pals_privacy logins"))->lock;
	LWLockRelease(AddinShmemInitLock);
}

static void
pbkdf2(const char *pin, const unsigned char *salt, int saltlen, int iterations, unsigned char *out)
{
	if (PKCS5_PBKDF2_HMAC(pin, strlen(pin), salt, saltlen, iterations, EVP_sha256(),
						  PIN_HASH_LEN, out) != 1)
		ereport(ERROR, (errcode(ERRCODE_INTERNAL_ERROR),
						errmsg("pals_privacy: PBKDF2 failed in OpenSSL")));
}

/* pals_privacy._pin_hash(pin text, salt bytea, iterations int) returns bytea */
Datum
pals_privacy_pin_hash(PG_FUNCTION_ARGS)
{
	char	   *pin = text_to_cstring(PG_GETARG_TEXT_PP(0));
	bytea	   *salt = PG_GETARG_BYTEA_PP(1);
	int			iterations = PG_GETARG_INT32(2);
	unsigned char out[PIN_HASH_LEN];

	pbkdf2(pin, (unsigned char *) VARDATA_ANY(salt), VARSIZE_ANY_EXHDR(salt), iterations, out);
	explicit_bzero(pin, strlen(pin));
	PG_RETURN_BYTEA_P(pals_bytea(out, PIN_HASH_LEN));
}

/* pals_privacy._random_salt() returns bytea: 16 bytes from OpenSSL's CSPRNG */
Datum
pals_privacy_random_salt(PG_FUNCTION_ARGS)
{
	unsigned char salt[SALT_LEN];

	if (RAND_bytes(salt, SALT_LEN) != 1)
		ereport(ERROR, (errcode(ERRCODE_INTERNAL_ERROR),
						errmsg("pals_privacy: could not generate random bytes")));
	PG_RETURN_BYTEA_P(pals_bytea(salt, SALT_LEN));
}

static void
require_shared(void)
{
	if (failures == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("patron login needs pals_privacy in shared_preload_libraries"),
				 errdetail("Failed logins are counted in shared memory, so that a rollback cannot undo them.")));
}

/*
 * The shared-memory key of a card: a SHA-256 of the database and the card,
 * so that long card numbers never collide and databases never share counts.
 */
static void
card_key(const char *card, char *key)
{
	unsigned char digest[PALS_SHA256_LEN];
	char	   *input = psprintf("%u:%s", MyDatabaseId, card);

	pals_sha256(NULL, 0, input, digest);
	memset(key, 0, CARD_KEY_LEN);
	for (int i = 0; i < PALS_SHA256_LEN; i++)
		snprintf(key + 2 * i, 3, "%02x", digest[i]);
	pfree(input);
}

/* pals_privacy._reset_failures(card text): after set_pin */
Datum
pals_privacy_reset_failures(PG_FUNCTION_ARGS)
{
	char		key[CARD_KEY_LEN];

	require_shared();
	card_key(text_to_cstring(PG_GETARG_TEXT_PP(0)), key);
	LWLockAcquire(failures_lock, LW_EXCLUSIVE);
	hash_search(failures, key, HASH_REMOVE, NULL);
	LWLockRelease(failures_lock);
	PG_RETURN_VOID();
}

static void
audit(const char *event, const char *patron)
{
	Datum		args[2];
	char		nulls[2] = {' ', ' '};
	Oid			types[2] = {TEXTOID, TEXTOID};

	args[0] = CStringGetTextDatum(event);
	if (patron)
		args[1] = CStringGetTextDatum(patron);
	else
		nulls[1] = 'n';
	/*
	 * The card and the PIN never go to the log; the patron id, when known,
	 * does.  The server log line stays even if the caller rolls back, as the
	 * failure count does.
	 */
	ereport(LOG,
			(errmsg("pals_privacy: %s for patron %s by role %s", event,
					patron ? patron : "(unknown card)",
					GetUserNameFromId(GetSessionUserId(), false))));
	if (SPI_execute_with_args("SELECT pals_privacy._audit($1, jsonb_strip_nulls(jsonb_build_object('patron', $2)))",
							  2, types, args, nulls, false, 1) < 0)
		elog(ERROR, "pals_privacy: audit append failed");
}

/*
 * pals_privacy._login(card text, pin text) returns boolean (SECURITY
 * DEFINER in SQL: it reads the card and PIN tables).
 */
Datum
pals_privacy_login(PG_FUNCTION_ARGS)
{
	char	   *card = text_to_cstring(PG_GETARG_TEXT_PP(0));
	char	   *pin = text_to_cstring(PG_GETARG_TEXT_PP(1));
	char		key[CARD_KEY_LEN];
	CardFailures *entry;
	bool		found;
	bool		locked = false;
	bool		new_lockout = false;
	bool		ok = false;
	char	   *patron = NULL;
	unsigned char computed[PIN_HASH_LEN];
	unsigned char dummy_salt[SALT_LEN] = {0};
	Oid			types[1] = {TEXTOID};
	Datum		args[1];
	int			nestlevel;
	TimestampTz now = GetCurrentTimestamp();
	MemoryContext caller_context = CurrentMemoryContext;

	require_shared();
	card_key(card, key);

	/*
	 * Count the attempt before checking the PIN, under the lock: parallel
	 * attempts cannot get past max_failed_logins.  A success clears it.
	 */
	LWLockAcquire(failures_lock, LW_EXCLUSIVE);
	entry = hash_search(failures, key, HASH_ENTER_NULL, &found);
	if (entry == NULL)
		locked = true;			/* the table is full: refuse rather than stop counting */
	else
	{
		if (!found)
		{
			entry->failures = 0;
			entry->locked_until = 0;
		}
		if (entry->locked_until > now)
			locked = true;
		else
		{
			entry->failures++;
			if (entry->failures >= pals_max_failed_logins)
			{
				entry->locked_until = TimestampTzPlusMilliseconds(now, (int64) pals_lockout * 1000);
				entry->failures = 0;
				new_lockout = true;
			}
		}
	}
	LWLockRelease(failures_lock);
	if (entry == NULL)
		ereport(WARNING,
				(errmsg("pals_privacy: the table of failed logins is full; logins are refused"),
				 errhint("Restart the server, or wait: successful logins and set_pin() free entries.")));

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "pals_privacy: SPI_connect failed");
	nestlevel = pals_safe_search_path();
	args[0] = CStringGetTextDatum(card);
	if (SPI_execute_with_args("SELECT patron, salt, hash, iterations FROM pals_privacy._card_pin($1)",
							  1, types, args, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "pals_privacy: reading the card failed");
	if (SPI_processed == 1)
	{
		char	   *value = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);

		/*
		 * SPI_getvalue() allocates in SPI's memory, which SPI_finish() frees:
		 * copy the id into the caller's context, which outlives it.
		 */
		if (value != NULL)
			patron = MemoryContextStrdup(caller_context, value);
	}
	if (SPI_processed == 1 && !locked)
	{
		bool		salt_null,
					hash_null,
					iter_null;
		Datum		salt = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &salt_null);
		Datum		stored = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3, &hash_null);
		Datum		iterations = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 4, &iter_null);

		if (!salt_null && !hash_null && !iter_null)
		{
			bytea	   *s = DatumGetByteaPP(salt);
			bytea	   *h = DatumGetByteaPP(stored);

			pbkdf2(pin, (unsigned char *) VARDATA_ANY(s), VARSIZE_ANY_EXHDR(s),
				   DatumGetInt32(iterations), computed);
			ok = VARSIZE_ANY_EXHDR(h) == PIN_HASH_LEN &&
				CRYPTO_memcmp(computed, VARDATA_ANY(h), PIN_HASH_LEN) == 0;
		}
		else
			pbkdf2(pin, dummy_salt, SALT_LEN, pals_pin_iterations, computed);
	}
	else
	{
		/* the same work for an unknown card or a locked one: no timing oracle */
		pbkdf2(pin, dummy_salt, SALT_LEN, pals_pin_iterations, computed);
	}
	explicit_bzero(pin, strlen(pin));

	if (ok)
	{
		LWLockAcquire(failures_lock, LW_EXCLUSIVE);
		hash_search(failures, key, HASH_REMOVE, NULL);
		LWLockRelease(failures_lock);
	}

	if (!ok)
	{
		audit("login.failed", patron);
		if (new_lockout)
			audit("login.lockout", patron);
	}
	pals_restore_search_path(nestlevel);
	SPI_finish();

	if (ok)
	{
		if (session_patron)
			pfree(session_patron);
		session_patron = MemoryContextStrdup(TopMemoryContext, patron);
	}
	PG_RETURN_BOOL(ok);
}

Datum
pals_privacy_logout(PG_FUNCTION_ARGS)
{
	if (session_patron)
		pfree(session_patron);
	session_patron = NULL;
	PG_RETURN_VOID();
}

Datum
pals_privacy_session_patron(PG_FUNCTION_ARGS)
{
	if (session_patron == NULL)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text(session_patron));
}

/* The logged-in patron's id, or NULL. */
const char *
pals_session_patron(void)
{
	return session_patron;
}

/* DISCARD ALL and RESET ALL end the patron session: pools reuse connections. */
static void
session_utility(PlannedStmt *pstmt, const char *queryString, bool readOnlyTree,
				ProcessUtilityContext context, ParamListInfo params,
				QueryEnvironment *queryEnv, DestReceiver *dest, QueryCompletion *qc)
{
	Node	   *stmt = pstmt->utilityStmt;

	if ((IsA(stmt, DiscardStmt) && ((DiscardStmt *) stmt)->target == DISCARD_ALL) ||
		(IsA(stmt, VariableSetStmt) && ((VariableSetStmt *) stmt)->kind == VAR_RESET_ALL))
	{
		if (session_patron)
			pfree(session_patron);
		session_patron = NULL;
	}
	if (prev_utility_hook)
		prev_utility_hook(pstmt, queryString, readOnlyTree, context, params, queryEnv, dest, qc);
	else
		standard_ProcessUtility(pstmt, queryString, readOnlyTree, context, params, queryEnv, dest, qc);
}

void
pals_session_init(void)
{
	DefineCustomIntVariable("pals_privacy.pin_iterations",
							"PBKDF2-HMAC-SHA256 iterations for new PINs.",
							NULL, &pals_pin_iterations, 100000, 10000, INT_MAX,
							PGC_SUSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("pals_privacy.max_failed_logins",
							"Failed logins after which a card is locked.",
							NULL, &pals_max_failed_logins, 5, 1, 1000,
							PGC_SUSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("pals_privacy.lockout",
							"How long a card stays locked after too many failed logins.",
							NULL, &pals_lockout, 15 * 60, 1, INT_MAX / 1000,
							PGC_SUSET, GUC_UNIT_S, NULL, NULL, NULL);

	prev_utility_hook = ProcessUtility_hook;
	ProcessUtility_hook = session_utility;

	if (!process_shared_preload_libraries_in_progress)
		return;
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = session_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = session_shmem_startup;
}
