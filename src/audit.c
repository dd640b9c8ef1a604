/*
 * audit.c
 *     The tamper-evident audit log.  Each entry stores the SHA-256 (OpenSSL)
 *     of its content chained with the previous entry's hash.  Appends take a
 *     lock on the log that conflicts with itself and is held to the end of
 *     the transaction, so that concurrent sessions build one linear chain
 *     (an entry's predecessor has always committed before it is written).
 */
#include "pals_privacy.h"

#include "access/xact.h"
#include "catalog/namespace.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"
#include "utils/snapmgr.h"
#include "utils/fmgrprotos.h"
#include "datatype/timestamp.h"
#include "catalog/pg_type.h"


PG_FUNCTION_INFO_V1(pals_privacy_audit_append);
PG_FUNCTION_INFO_V1(pals_privacy_audit_hash);

#define AUDIT_LOCK_KEY INT64CONST(0x70616c735f617564)	/* "pals_aud" */

/*
 * pals_privacy._audit_hash(prev bytea, content text) returns bytea: the
 * chain step, for verify_audit() to recompute the chain in SQL.
 */
Datum
pals_privacy_audit_hash(PG_FUNCTION_ARGS)
{
	unsigned char out[PALS_SHA256_LEN];
	bytea	   *prev = PG_ARGISNULL(0) ? NULL : PG_GETARG_BYTEA_PP(0);
	char	   *content = text_to_cstring(PG_GETARG_TEXT_PP(1));

	pals_sha256(prev ? (unsigned char *) VARDATA_ANY(prev) : NULL,
			   prev ? VARSIZE_ANY_EXHDR(prev) : 0, content, out);
	PG_RETURN_BYTEA_P(pals_bytea(out, PALS_SHA256_LEN));
}

/* Canonical text of an entry: what its hash covers. */
static char *
entry_content(int64 id, TimestampTz at, const char *role, const char *class,
			  const char *event, const char *details)
{
	/* microseconds since the Unix epoch: the same whatever the session's settings */
	int64		unix_us = at + ((int64) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * USECS_PER_DAY);

	return psprintf("%lld|%lld|%s|%s|%s|%s", (long long) id, (long long) unix_us,
					role, class, event, details ? details : "");
}

/*
 * pals_privacy._audit_append(event text, details jsonb) returns bigint.
 * SECURITY DEFINER in SQL, so that it may write the log; the entry names
 * the session's (login) role and its privacy class.
 */
Datum
pals_privacy_audit_append(PG_FUNCTION_ARGS)
{
	char	   *event = text_to_cstring(PG_GETARG_TEXT_PP(0));
	char	   *details = PG_ARGISNULL(1) ? NULL :
		DatumGetCString(DirectFunctionCall1(jsonb_out, PG_GETARG_DATUM(1)));
	SPIPlanPtr	head_plan;
	Oid			argtypes[8] = {INT8OID, TIMESTAMPTZOID, TEXTOID, TEXTOID, TEXTOID, JSONBOID, BYTEAOID, BYTEAOID};
	Datum		values[8];
	char		nulls[8] = {' ', ' ', ' ', ' ', ' ', ' ', ' ', ' '};
	unsigned char hash[PALS_SHA256_LEN];
	bytea	   *prev = NULL;
	int64		id;
	bool		isnull;
	TimestampTz now = GetCurrentTransactionStartTimestamp();
	Oid			session_role = GetSessionUserId();
	const char *role = GetUserNameFromId(session_role, false);
	const char *class = superuser_arg(session_role) ? "operational" :
		pals_class_name(pals_class_of_role(session_role));

	/*
	 * One appender at a time, until commit: the chain stays linear.  An
	 * advisory lock of our own, not a lock on the table, which VACUUM would
	 * share.
	 */
	DirectFunctionCall1(pg_advisory_xact_lock_int8, Int64GetDatum(AUDIT_LOCK_KEY));

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "pals_privacy: SPI_connect failed");
	/* the head as committed now, even in a REPEATABLE READ transaction */
	head_plan = SPI_prepare("SELECT id, hash FROM pals_privacy.audit_log ORDER BY id DESC LIMIT 1", 0, NULL);
	if (head_plan == NULL ||
		SPI_execute_snapshot(head_plan, NULL, NULL, GetLatestSnapshot(), InvalidSnapshot,
							 true, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "pals_privacy: reading the audit log head failed");
	if (SPI_processed == 1)
	{
		Datum		h = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull);

		id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull)) + 1;
		prev = DatumGetByteaPCopy(h);
	}
	else
		id = 1;

	pals_sha256(prev ? (unsigned char *) VARDATA_ANY(prev) : NULL,
			   prev ? VARSIZE_ANY_EXHDR(prev) : 0,
			   entry_content(id, now, role, class, event, details), hash);

	values[0] = Int64GetDatum(id);
	values[1] = TimestampTzGetDatum(now);
	values[2] = CStringGetTextDatum(role);
	values[3] = CStringGetTextDatum(class);
	values[4] = CStringGetTextDatum(event);
	if (details)
		values[5] = PG_GETARG_DATUM(1);
	else
		nulls[5] = 'n';
	if (prev)
		values[6] = PointerGetDatum(prev);
	else
		nulls[6] = 'n';
	values[7] = PointerGetDatum(pals_bytea(hash, PALS_SHA256_LEN));
	if (SPI_execute_with_args("INSERT INTO pals_privacy.audit_log"
							  " (id, at, role, class, event, details, prev_hash, hash)"
							  " VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
							  8, argtypes, values, nulls, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "pals_privacy: appending to the audit log failed");
	SPI_finish();
	PG_RETURN_INT64(id);
}
