/*
 * session.c
 *     The patron session: PINs hashed with PBKDF2-HMAC-SHA256 (OpenSSL),
 *     login(card, pin) with a constant-time comparison, a failure count per
 *     card kept in shared memory (so that it survives the caller's rollback)
 *     with a lockout, and the session's patron, which only login() sets and
 *     logout(), DISCARD ALL and RESET ALL clear.
 *
 *     A PIN set by staff (set_pin) is a one-time PIN: login() with it leaves
 *     the session without a patron, able only to change_pin(); the patron
 *     then logs in with the PIN they chose.  Failed logins, lockouts and
 *     first logins are audited with entries that survive the caller's
 *     rollback (audit.c).
 */
#include "pals_privacy.h"
#include "hooks.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "commands/prepare.h"
#include "tcop/tcopprot.h"
#include "tcop/utility.h"
#include "utils/elog.h"
#include "utils/builtins.h"
#include "utils/json.h"
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
PG_FUNCTION_INFO_V1(pals_privacy_change_pin);
PG_FUNCTION_INFO_V1(pals_privacy_pin_change_required);

#define PIN_HASH_LEN 32
#define SALT_LEN 16
#define CARD_KEY_LEN 72		/* hex SHA-256 of database and card */
#define MAX_CARDS 10000

/* The session's patron: set by login() only. */
static char *session_patron = NULL;

/*
 * A login with a one-time PIN: the patron who must change it before the
 * session is theirs, and the card they used (its failure-count key).
 */
static char *change_patron = NULL;
static char session_card[CARD_KEY_LEN];

static void clear_attempts(const char *key);

static void
end_patron_session(void)
{
	if (session_patron)
		pfree(session_patron);
	session_patron = NULL;
	if (change_patron)
		pfree(change_patron);
	change_patron = NULL;
	memset(session_card, 0, sizeof(session_card));
}

typedef struct CardFailures
{
	char		card[CARD_KEY_LEN];	/* hash key */
	int			failures;
	TimestampTz locked_until;
} CardFailures;

static HTAB *failures = NULL;
static LWLock *failures_lock = NULL;

/*
 * The statement (by its start time) in which login(), change_pin() or
 * _pin_hash() (set_pin) ran: its log lines are scrubbed (pals_session_emit_log).
 */
static TimestampTz credentials_statement = 0;

static void
note_credentials(void)
{
	credentials_statement = GetCurrentStatementStartTimestamp();
}

void
pals_session_shmem_request(void)
{
	RequestAddinShmemSpace(hash_estimate_size(MAX_CARDS, sizeof(CardFailures)));
	RequestNamedLWLockTranche("pals_privacy logins", 1);
}

void
pals_session_shmem_startup(void)
{
	HASHCTL		ctl;

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

	note_credentials();
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
	clear_attempts(key);
	PG_RETURN_VOID();
}

/*
 * An audit entry about a patron's login that survives the caller's rollback,
 * and a server log line.  The card and the PIN never go to either; the
 * patron id, when known, does.
 */
static void
audit(const char *event, const char *patron)
{
	StringInfoData details;

	ereport(LOG,
			(errmsg("pals_privacy: %s for patron %s by role %s", event,
					patron ? patron : "(unknown card)",
					GetUserNameFromId(GetSessionUserId(), false))));
	initStringInfo(&details);
	appendStringInfoChar(&details, '{');
	if (patron)
	{
		appendStringInfoString(&details, "\"patron\": ");
		escape_json(&details, patron);
	}
	appendStringInfoChar(&details, '}');
	(void) pals_audit_durable(event, details.data);
	pfree(details.data);
}

/*
 * Count an attempt on a card before its PIN is checked, under the lock:
 * parallel attempts cannot get past max_failed_logins.  A success clears it
 * (clear_attempts).  Sets *locked when the card is locked (or the table is
 * full), *new_lockout when this attempt locks it.
 */
static void
count_attempt(const char *key, bool *locked, bool *new_lockout)
{
	CardFailures *entry;
	bool		found;
	TimestampTz now = GetCurrentTimestamp();

	*locked = false;
	*new_lockout = false;
	LWLockAcquire(failures_lock, LW_EXCLUSIVE);
	entry = hash_search(failures, key, HASH_ENTER_NULL, &found);
	if (entry == NULL)
		*locked = true;			/* the table is full: refuse rather than stop counting */
	else
	{
		if (!found)
		{
			entry->failures = 0;
			entry->locked_until = 0;
		}
		if (entry->locked_until > now)
			*locked = true;
		else
		{
			entry->failures++;
			if (entry->failures >= pals_get_max_failed_logins())
			{
				entry->locked_until = TimestampTzPlusMilliseconds(now, (int64) pals_get_lockout() * 1000);
				entry->failures = 0;
				*new_lockout = true;
			}
		}
	}
	LWLockRelease(failures_lock);
	if (entry == NULL)
		ereport(WARNING,
				(errmsg("pals_privacy: the table of failed logins is full; logins are refused"),
				 errhint("Restart the server, or wait: successful logins and set_pin() free entries.")));
}

static void
clear_attempts(const char *key)
{
	LWLockAcquire(failures_lock, LW_EXCLUSIVE);
	hash_search(failures, key, HASH_REMOVE, NULL);
	LWLockRelease(failures_lock);
}

/*
 * Does the PIN match the stored hash in the current SPI result row (columns
 * salt, hash, iterations from first_col)?  Without a row or a PIN, the same
 * work against a dummy salt: no timing oracle.
 */
static bool
pin_matches(const char *pin, bool have_row, int first_col)
{
	unsigned char computed[PIN_HASH_LEN];
	unsigned char dummy_salt[SALT_LEN] = {0};

	if (have_row)
	{
		bool		salt_null,
					hash_null,
					iter_null;
		Datum		salt = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, first_col, &salt_null);
		Datum		stored = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, first_col + 1, &hash_null);
		Datum		iterations = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, first_col + 2, &iter_null);

		if (!salt_null && !hash_null && !iter_null)
		{
			bytea	   *s = DatumGetByteaPP(salt);
			bytea	   *h = DatumGetByteaPP(stored);

			pbkdf2(pin, (unsigned char *) VARDATA_ANY(s), VARSIZE_ANY_EXHDR(s),
				   DatumGetInt32(iterations), computed);
			return VARSIZE_ANY_EXHDR(h) == PIN_HASH_LEN &&
				CRYPTO_memcmp(computed, VARDATA_ANY(h), PIN_HASH_LEN) == 0;
		}
	}
	pbkdf2(pin, dummy_salt, SALT_LEN, pals_get_pin_iterations(), computed);
	return false;
}

/* Is the patron's PIN a one-time PIN set by staff?  (SPI connected) */
static bool
pin_must_change(const char *patron)
{
	Oid			types[1] = {TEXTOID};
	Datum		args[1] = {CStringGetTextDatum(patron)};
	bool		isnull;
	Datum		d;

	if (SPI_execute_with_args("SELECT must_change FROM pals_privacy.patron_pins WHERE patron = $1",
							  1, types, args, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "pals_privacy: reading the PIN failed");
	if (SPI_processed != 1)
		return true;
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	return isnull || DatumGetBool(d);
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
	bool		locked;
	bool		new_lockout;
	bool		ok = false;
	bool		one_time = false;
	char	   *patron = NULL;
	Oid			types[1] = {TEXTOID};
	Datum		args[1];
	int			nestlevel;
	MemoryContext caller_context = CurrentMemoryContext;

	note_credentials();
	require_shared();
	card_key(card, key);
	count_attempt(key, &locked, &new_lockout);

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
	/* the same work for an unknown card or a locked one (pin_matches) */
	ok = pin_matches(pin, SPI_processed == 1 && patron != NULL && !locked, 2);
	explicit_bzero(pin, strlen(pin));

	if (ok)
	{
		clear_attempts(key);
		one_time = pin_must_change(patron);
	}
	else
	{
		audit("login.failed", patron);
		if (new_lockout)
			audit("login.lockout", patron);
	}
	if (ok && one_time)
		audit("login.first", patron);
	pals_restore_search_path(nestlevel);
	SPI_finish();

	if (ok)
	{
		end_patron_session();
		if (one_time)
		{
			change_patron = MemoryContextStrdup(TopMemoryContext, patron);
			memcpy(session_card, key, CARD_KEY_LEN);
			ereport(NOTICE,
					(errmsg("the PIN of this card was set by staff and must be changed"),
					 errdetail("The session has no patron until the PIN is changed."),
					 errhint("Choose a new PIN with pals_privacy.change_pin(current_pin, new_pin), then log in with it.")));
		}
		else
		{
			session_patron = MemoryContextStrdup(TopMemoryContext, patron);
			memcpy(session_card, key, CARD_KEY_LEN);
		}
	}
	PG_RETURN_BOOL(ok);
}

/*
 * pals_privacy.change_pin(current_pin text, new_pin text) returns boolean
 * (SECURITY DEFINER in SQL): the patron of the session, or the one who
 * logged in with a one-time PIN, chooses a PIN.  A wrong current PIN counts
 * as a failed login on the card used to log in.  After a one-time PIN, the
 * session still has no patron: the patron logs in with the new PIN, which
 * works only once this transaction commits.
 */
Datum
pals_privacy_change_pin(PG_FUNCTION_ARGS)
{
	char	   *current = text_to_cstring(PG_GETARG_TEXT_PP(0));
	char	   *new_pin = text_to_cstring(PG_GETARG_TEXT_PP(1));
	const char *patron = change_patron ? change_patron : session_patron;
	bool		locked;
	bool		new_lockout;
	bool		ok;
	int			nestlevel;
	Oid			types[4] = {TEXTOID, BYTEAOID, BYTEAOID, INT4OID};
	Datum		args[4];
	unsigned char salt[SALT_LEN];
	unsigned char hash[PIN_HASH_LEN];
	char		key[CARD_KEY_LEN];

	note_credentials();
	require_shared();
	if (patron == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION),
				 errmsg("change_pin needs a patron session"),
				 errhint("Log in with pals_privacy.login(card, pin) first.")));
	if (strlen(new_pin) < 4)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("change_pin: a PIN has at least 4 characters")));
	if (strcmp(current, new_pin) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("change_pin: the new PIN must differ from the current one")));
	memcpy(key, session_card, CARD_KEY_LEN);
	count_attempt(key, &locked, &new_lockout);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "pals_privacy: SPI_connect failed");
	nestlevel = pals_safe_search_path();
	args[0] = CStringGetTextDatum(patron);
	if (SPI_execute_with_args("SELECT salt, hash, iterations FROM pals_privacy.patron_pins WHERE patron = $1",
							  1, types, args, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "pals_privacy: reading the PIN failed");
	ok = pin_matches(current, SPI_processed == 1 && !locked, 1);
	explicit_bzero(current, strlen(current));
	if (!ok)
	{
		audit("login.failed", patron);
		if (new_lockout)
			audit("login.lockout", patron);
	}
	else
	{
		clear_attempts(key);
		if (RAND_bytes(salt, SALT_LEN) != 1)
			ereport(ERROR, (errcode(ERRCODE_INTERNAL_ERROR),
							errmsg("pals_privacy: could not generate random bytes")));
		pbkdf2(new_pin, salt, SALT_LEN, pals_get_pin_iterations(), hash);
		args[1] = PointerGetDatum(pals_bytea(salt, SALT_LEN));
		args[2] = PointerGetDatum(pals_bytea(hash, PIN_HASH_LEN));
		args[3] = Int32GetDatum(pals_get_pin_iterations());
		if (SPI_execute_with_args("UPDATE pals_privacy.patron_pins"
								  " SET salt = $2, hash = $3, iterations = $4, set_at = now(),"
								  " set_by = session_user, must_change = false WHERE patron = $1",
								  4, types, args, NULL, false, 0) != SPI_OK_UPDATE || SPI_processed != 1)
			elog(ERROR, "pals_privacy: storing the PIN failed");
		if (SPI_execute_with_args("SELECT pals_privacy._audit('pin.change', jsonb_build_object('patron', $1))",
								  1, types, args, NULL, false, 1) != SPI_OK_SELECT)
			elog(ERROR, "pals_privacy: audit append failed");
	}
	explicit_bzero(new_pin, strlen(new_pin));
	pals_restore_search_path(nestlevel);
	SPI_finish();

	if (ok && change_patron != NULL)
	{
		/* the session logs in again, with the new PIN */
		pfree(change_patron);
		change_patron = NULL;
	}
	PG_RETURN_BOOL(ok);
}

/* pals_privacy.pin_change_required(): did login() accept a one-time PIN? */
Datum
pals_privacy_pin_change_required(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(change_patron != NULL);
}

Datum
pals_privacy_logout(PG_FUNCTION_ARGS)
{
	end_patron_session();
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
void
pals_session_utility(PALS_UTILITY_PARAMS, ProcessUtility_hook_type next)
{
	Node	   *stmt = pstmt->utilityStmt;

	if ((IsA(stmt, DiscardStmt) && ((DiscardStmt *) stmt)->target == DISCARD_ALL) ||
		(IsA(stmt, VariableSetStmt) && ((VariableSetStmt *) stmt)->kind == VAR_RESET_ALL))
		end_patron_session();
	next(PALS_UTILITY_ARGS);
}

/* ----------------------------------------------------------------------
 * Credentials never reach the server log
 * ---------------------------------------------------------------------- */

/* Does SQL text call login, change_pin or set_pin (any case, quoted or not)? */
static bool
calls_credential_function(const char *text)
{
	static const char *const names[] = {"login", "change_pin", "set_pin"};

	if (text == NULL)
		return false;
	for (const char *p = text; *p; p++)
	{
		for (int i = 0; i < (int) lengthof(names); i++)
		{
			size_t		len = strlen(names[i]);
			const char *q;

			if (pg_strncasecmp(p, names[i], len) != 0)
				continue;
			q = p + len;
			while (*q == '"' || *q == ' ' || *q == '\t' || *q == '\n' || *q == '\r')
				q++;
			if (*q == '(')
				return true;
		}
	}
	return false;
}

/*
 * Does a statement carry credentials: it calls one of the functions, or
 * it is EXECUTE of a prepared statement that does (the EXECUTE's text
 * holds the arguments, the prepared statement's text the call).
 */
static bool
statement_has_credentials(const char *text)
{
	const char *p = text;
	char		name[NAMEDATALEN];
	int			n = 0;
	PreparedStatement *ps;

	if (text == NULL)
		return false;
	if (calls_credential_function(text))
		return true;
	/* "statement: EXECUTE p(...)" as log_statement writes it, or the bare text */
	if (pg_strncasecmp(p, "statement: ", 11) == 0)
		p += 11;
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	if (pg_strncasecmp(p, "execute", 7) != 0 || !(p[7] == ' ' || p[7] == '\t' || p[7] == '\n'))
		return false;
	p += 7;
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	if (*p == '"')
		p++;
	while (*p && n < NAMEDATALEN - 1 && (isalnum((unsigned char) *p) || *p == '_' || *p == '$'))
		name[n++] = pg_tolower((unsigned char) *p++);
	name[n] = '\0';
	if (n == 0)
		return false;
	ps = FetchPreparedStatement(name, false);
	return ps != NULL && ps->plansource != NULL &&
		calls_credential_function(ps->plansource->query_string);
}

/*
 * Every server log line of a statement that carries credentials is
 * scrubbed: the statement text (log_statement, log_min_duration_statement,
 * auto_explain, pgaudit, the STATEMENT line of an error), its bind
 * parameters (DETAIL "parameters: ..."), the CONTEXT (which can hold
 * parameters or the query of a function) and an internal query.  Lines of
 * other statements are left alone.  What also goes to the client (a notice,
 * an error) keeps its message and DETAIL, and loses its CONTEXT: the hook
 * cannot write the server's copy alone.  A statement is recognised by its text
 * (log_statement writes it before it runs) or by login(), change_pin() or
 * set_pin() having run in it (a wrapper function, a prepared statement).
 */
void
pals_session_emit_log(ErrorData *edata)
{
	bool		flagged = false;

	if (edata->output_to_server)
	{
		flagged = (credentials_statement != 0 &&
				   credentials_statement == GetCurrentStatementStartTimestamp()) ||
			statement_has_credentials(debug_query_string) ||
			statement_has_credentials(edata->message) ||
			calls_credential_function(edata->internalquery);
	}
	if (flagged)
	{
		bool		ours = edata->message != NULL && strncmp(edata->message, "pals_privacy: ", 14) == 0;

		/*
		 * The statement, with its arguments, in whatever frame the line puts
		 * it: log lines only (what goes to the client too, a notice or an
		 * error, keeps its message; its STATEMENT line is hidden below).
		 */
		if (edata->message != NULL && !ours && edata->elevel <= LOG_SERVER_ONLY &&
			(statement_has_credentials(edata->message) ||
			 (debug_query_string != NULL && *debug_query_string != '\0' &&
			  strstr(edata->message, debug_query_string) != NULL) ||
			 strncmp(edata->message, "statement: ", 11) == 0 ||
			 strncmp(edata->message, "execute ", 8) == 0 ||
			 strncmp(edata->message, "duration: ", 10) == 0 ||
			 strncmp(edata->message, "AUDIT: ", 7) == 0))
		{
			const char *ms = strncmp(edata->message, "duration: ", 10) == 0 ? strstr(edata->message, " ms") : NULL;

			edata->message = ms != NULL ?
				psprintf("%.*s ms  statement withheld: it carries credentials (pals_privacy)",
						 (int) (ms - edata->message), edata->message) :
				pstrdup("statement withheld: it carries credentials (pals_privacy)");
		}
		if (edata->detail_log != NULL)
			edata->detail_log = pstrdup("withheld: the statement carries credentials (pals_privacy)");
		if (edata->detail != NULL && !ours && edata->elevel <= LOG_SERVER_ONLY)
			edata->detail = pstrdup("withheld: the statement carries credentials (pals_privacy)");
		if (edata->context != NULL)
			edata->context = pstrdup("withheld: the statement carries credentials (pals_privacy)");
		edata->internalquery = NULL;
		edata->hide_stmt = true;
	}
}
