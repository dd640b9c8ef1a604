/*
 * audit.c
 *     The tamper-evident audit log.  Each entry stores the SHA-256 (OpenSSL)
 *     of its content chained with the previous entry's hash, and the chain
 *     is one line in the order the entries' transactions committed.
 *
 *     An append writes its entry at once, chained to the head it reads (the
 *     transaction's own last entry, or the last committed one), and holds
 *     no lock: a transaction left open after an append (acknowledge_policy(),
 *     a consent change) stalls nobody.  The chain is settled at commit, in
 *     the transaction's pre-commit callback, after its deferred triggers:
 *     it takes the chain lock, reads the committed head, and where another
 *     transaction committed entries since, re-numbers and re-hashes its own
 *     (an UPDATE of rows no other transaction can see yet).  The lock is
 *     held from there to the end of the commit only, so the next committer
 *     reads this one's entries as the head: an entry's predecessor has
 *     always committed before the entry is chained.  The provisional ids of
 *     open transactions may coincide, so the id is indexed but not unique
 *     (a unique index would make the second writer of an id wait for the
 *     first one's end); verify_audit() proves the ids consecutive.  A
 *     transaction that appended entries cannot be prepared (two-phase
 *     commit): it would hold the chain until COMMIT PREPARED.
 *
 *     The chain lock is a lock tag of our own that SQL cannot name (an
 *     advisory tag with a class no pg_advisory_* function uses).  Besides
 *     committing appenders, only audit retention (_audit_prune(), run by
 *     maintenance) takes it, to the end of its transaction.
 *
 *     Durable entries (failed logins, lockouts, first logins, staff PIN
 *     resets, legal orders and disclosures) must survive the caller's
 *     rollback: a short-lived background worker writes them in a transaction
 *     of its own.  The caller hands the entry over in dynamic shared memory
 *     and waits until the worker has it; then, unless the caller's own
 *     transaction appended entries of its own, it waits for the worker's
 *     commit too.  A transaction with entries of its own gets one worker,
 *     which takes all its durable entries and writes them once that
 *     transaction has ended, however it ended (so that the transaction never
 *     reads a committed entry with the id of one of its own provisional ones).
 */
#include "pals_privacy.h"

#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_authid.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"
#include "utils/snapmgr.h"
#include "utils/fmgrprotos.h"
#include "datatype/timestamp.h"
#include "catalog/pg_type.h"
#include "pgstat.h"
#include "port/atomics.h"
#include "postmaster/bgworker.h"
#include "storage/dsm.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lock.h"
#include "storage/proc.h"
#include "storage/procarray.h"
#include "tcop/tcopprot.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/resowner.h"


PG_FUNCTION_INFO_V1(pals_privacy_audit_append);
PG_FUNCTION_INFO_V1(pals_privacy_audit_hash);
PG_FUNCTION_INFO_V1(pals_privacy_audit_content);
PG_FUNCTION_INFO_V1(pals_privacy_audit_durable);
PG_FUNCTION_INFO_V1(pals_privacy_audit_lock);

PGDLLEXPORT void pals_audit_writer_main(Datum arg);

/*
 * The chain lock: an advisory lock tag in this database whose fourth field
 * is neither 1 (pg_advisory_*(bigint)) nor 2 (pg_advisory_*(int, int)), so
 * no SQL function can take or wait on it.
 */
#define AUDIT_LOCK_KEY1 0x70616c73	/* "pals" */
#define AUDIT_LOCK_KEY2 0x5f617564	/* "_aud" */
#define AUDIT_LOCK_CLASS 0x7061		/* not 1 or 2 */

static void
audit_lock_tag(LOCKTAG *tag)
{
	SET_LOCKTAG_ADVISORY(*tag, MyDatabaseId, AUDIT_LOCK_KEY1, AUDIT_LOCK_KEY2, AUDIT_LOCK_CLASS);
}

/* One committer (or retention) at a time, until the end of the transaction. */
static void
audit_lock(void)
{
	LOCKTAG		tag;

	audit_lock_tag(&tag);
	(void) LockAcquire(&tag, ExclusiveLock, false, false);
}

/* pals_privacy._audit_lock(): the chain lock, for _audit_prune() */
Datum
pals_privacy_audit_lock(PG_FUNCTION_ARGS)
{
	audit_lock();
	PG_RETURN_VOID();
}

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

/*
 * The canonical content of an entry: the bytes its hash covers, after the
 * previous entry's hash (docs/audit.md, "The chain", says it precisely
 * enough to re-verify the log outside the database).  Defined here only:
 * verify_audit() reads it through _audit_content().
 *
 * Format 1 (entries written before 0.2.0, kept as they are: they are
 * evidence): id|microseconds|role|class|event|details, joined with a bare
 * '|'.  That is ambiguous: a '|' moved between two text fields (role
 * "a|b", class "c" against role "a", class "b|c") gives the same text, so
 * such an edit kept the hash.
 *
 * Format 2 (every entry since): each field as a netstring,
 * <decimal length in bytes>:<bytes>, (D. J. Bernstein's encoding), the
 * first field being the format number itself: "1:2," then id, microseconds
 * since 1970, role, class, event and details (jsonb's own text; NULL
 * details is the empty string, which no jsonb text is).  Each field's
 * length is written before it, so the text decodes one way only, with no
 * escaping to agree on; the leading format field ties the hash to the form.
 * A JSON canonical form was not chosen: the auditor would have to
 * reproduce one serializer's escaping and key order exactly (jsonb's is not
 * RFC 8785's), where a length and a colon take one line in any language.
 */
#define AUDIT_FORMAT_OLD 1
#define AUDIT_FORMAT_CURRENT 2

static void
append_netstring(StringInfo buf, const char *field)
{
	appendStringInfo(buf, "%zu:%s,", strlen(field), field);
}

static char *
entry_content(int format, int64 id, TimestampTz at, const char *role, const char *class,
			  const char *event, const char *details)
{
	/* microseconds since the Unix epoch: the same whatever the session's settings */
	int64		unix_us = at + ((int64) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * USECS_PER_DAY);
	StringInfoData buf;

	if (format == AUDIT_FORMAT_OLD)
		return psprintf("%lld|%lld|%s|%s|%s|%s", (long long) id, (long long) unix_us,
						role, class, event, details ? details : "");
	if (format != AUDIT_FORMAT_CURRENT)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("pals_privacy: audit entry %lld has unknown content format %d", (long long) id, format),
				 errdetail("Entries are written in format %d; format %d is that of entries written before 0.2.0.",
						   AUDIT_FORMAT_CURRENT, AUDIT_FORMAT_OLD),
				 errhint("Someone changed audit_log.content_format; compare the log with a copy kept elsewhere.")));
	initStringInfo(&buf);
	append_netstring(&buf, "2");
	append_netstring(&buf, psprintf("%lld", (long long) id));
	append_netstring(&buf, psprintf("%lld", (long long) unix_us));
	append_netstring(&buf, role);
	append_netstring(&buf, class);
	append_netstring(&buf, event);
	append_netstring(&buf, details ? details : "");
	return buf.data;
}

/*
 * The format new entries are written in: the current one, unless the
 * database is still at 0.1.0 (this library installed, ALTER EXTENSION ...
 * UPDATE not run yet), whose audit_log has no content_format column and
 * whose verify_audit() knows format 1 only.
 */
/* The audit log's OID; InvalidOid when it is gone (dropped with the extension). */
static Oid
audit_log_relid(void)
{
	Oid			nsp = get_namespace_oid("pals_privacy", true);

	return OidIsValid(nsp) ? get_relname_relid("audit_log", nsp) : InvalidOid;
}

static int
append_format(void)
{
	Oid			relid = audit_log_relid();

	if (OidIsValid(relid) && get_attnum(relid, "content_format") != InvalidAttrNumber)
		return AUDIT_FORMAT_CURRENT;
	return AUDIT_FORMAT_OLD;
}

/*
 * pals_privacy._audit_content(e audit_log) returns text: the content of
 * entry e in the format it records, for verify_audit().
 */
Datum
pals_privacy_audit_content(PG_FUNCTION_ARGS)
{
	HeapTupleHeader e = PG_GETARG_HEAPTUPLEHEADER(0);
	bool		isnull[7];
	Datum		id = GetAttributeByName(e, "id", &isnull[0]);
	Datum		at = GetAttributeByName(e, "at", &isnull[1]);
	Datum		role = GetAttributeByName(e, "role", &isnull[2]);
	Datum		class = GetAttributeByName(e, "class", &isnull[3]);
	Datum		event = GetAttributeByName(e, "event", &isnull[4]);
	Datum		details = GetAttributeByName(e, "details", &isnull[5]);
	Datum		format = GetAttributeByName(e, "content_format", &isnull[6]);

	/* NOT NULL columns all but details: a row built by hand may still lack one */
	for (int i = 0; i < 7; i++)
		if (isnull[i] && i != 5)
			PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text(
		entry_content(DatumGetInt16(format), DatumGetInt64(id), DatumGetTimestampTz(at),
					  TextDatumGetCString(role), TextDatumGetCString(class),
					  TextDatumGetCString(event),
					  isnull[5] ? NULL : DatumGetCString(DirectFunctionCall1(jsonb_out, details)))));
}

/* ----------------------------------------------------------------------
 * Chaining at commit
 * ---------------------------------------------------------------------- */

/* Did this transaction append entries (the lowest provisional id it gave)? */
static bool xact_appended = false;
static int64 xact_first_id = 0;
static bool xact_callback_registered = false;

static void audit_xact_callback(XactEvent event, void *arg);

static void
note_append(int64 id)
{
	if (!xact_callback_registered)
	{
		RegisterXactCallback(audit_xact_callback, NULL);
		xact_callback_registered = true;
	}
	if (!xact_appended || id < xact_first_id)
		xact_first_id = id;
	xact_appended = true;
}

typedef struct OwnEntry
{
	int64		id;
	ItemPointerData ctid;
	TimestampTz at;
	char	   *role;
	char	   *class;
	char	   *event;
	char	   *details;
	bytea	   *prev;
	int16		format;
} OwnEntry;

/* A query read under the latest snapshot (what has committed now, even under REPEATABLE READ). */
static void
spi_read_latest(const char *sql, Oid argtype, Datum arg)
{
	SPIPlanPtr	plan = SPI_prepare(sql, 1, &argtype);

	if (plan == NULL ||
		SPI_execute_snapshot(plan, &arg, NULL, GetLatestSnapshot(), InvalidSnapshot,
							 true, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "pals_privacy: reading the audit log failed");
}

static char *
spi_text(HeapTuple tup, TupleDesc desc, int col)
{
	bool		isnull;
	Datum		d = SPI_getbinval(tup, desc, col, &isnull);

	return isnull ? NULL : TextDatumGetCString(d);
}

/*
 * The transaction's own entries, chained after the committed head (called
 * before commit, with no user code left to run): take the chain lock, read
 * the head as committed now, and re-number and re-hash the entries where
 * another transaction committed entries since they were written.  Logs the
 * final head when the transaction recorded a maintenance run.
 */
static void
chain_at_commit(void)
{
	Oid			argtypes[4] = {INT8OID, BYTEAOID, BYTEAOID, TIDOID};
	bool		old_format = append_format() == AUDIT_FORMAT_OLD;
	Oid			save_userid;
	int			save_sec;
	SPITupleTable *tt;
	List	   *own = NIL;
	int64		head_id = 0;
	bytea	   *head_hash = NULL;
	bool		have_head = false;
	bool		log_head = false;
	ListCell   *lc;
	Datum		arg;
	int64		expected;
	bytea	   *prev;
	int			nestlevel;

	audit_lock();
	GetUserIdAndSecContext(&save_userid, &save_sec);
	/* the log's append-only trigger lets a superuser re-chain (rows only this transaction sees) */
	SetUserIdAndSecContext(BOOTSTRAP_SUPERUSERID,
						   save_sec | SECURITY_LOCAL_USERID_CHANGE | SECURITY_RESTRICTED_OPERATION);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "pals_privacy: SPI_connect failed");
	/*
	 * This runs at commit under the session's own search path, as the
	 * bootstrap superuser: without the safe path, a type of the caller's
	 * temporary schema (a domain pg_temp.text whose CHECK calls the caller's
	 * function) would stand in for a type named here, and run as superuser
	 * (test attack_search_path).
	 */
	nestlevel = pals_safe_search_path();
	PushActiveSnapshot(GetLatestSnapshot());

	/* this transaction's entries and those committed since its first */
	arg = Int64GetDatum(xact_first_id);
	spi_read_latest(old_format ?
					"SELECT id, ctid, at, role, class, event, details::pg_catalog.text, prev_hash, hash, xmin,"
					" 1::pg_catalog.int2 FROM pals_privacy.audit_log WHERE id >= $1 ORDER BY id" :
					"SELECT id, ctid, at, role, class, event, details::pg_catalog.text, prev_hash, hash, xmin,"
					" content_format FROM pals_privacy.audit_log WHERE id >= $1 ORDER BY id",
					INT8OID, arg);
	tt = SPI_tuptable;
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = tt->vals[i];
		bool		isnull;
		int64		id = DatumGetInt64(SPI_getbinval(tup, tt->tupdesc, 1, &isnull));
		TransactionId xmin = DatumGetTransactionId(SPI_getbinval(tup, tt->tupdesc, 10, &isnull));

		if (TransactionIdIsCurrentTransactionId(xmin))
		{
			OwnEntry   *e = palloc0(sizeof(OwnEntry));
			Datum		d;

			e->id = id;
			e->ctid = *DatumGetItemPointer(SPI_getbinval(tup, tt->tupdesc, 2, &isnull));
			e->at = DatumGetTimestampTz(SPI_getbinval(tup, tt->tupdesc, 3, &isnull));
			e->role = spi_text(tup, tt->tupdesc, 4);
			e->class = spi_text(tup, tt->tupdesc, 5);
			e->event = spi_text(tup, tt->tupdesc, 6);
			e->details = spi_text(tup, tt->tupdesc, 7);
			d = SPI_getbinval(tup, tt->tupdesc, 8, &isnull);
			e->prev = isnull ? NULL : DatumGetByteaPCopy(d);
			e->format = DatumGetInt16(SPI_getbinval(tup, tt->tupdesc, 11, &isnull));
			own = lappend(own, e);
			log_head |= strcmp(e->event, "maintenance.maintenance") == 0;
		}
		else
		{
			Datum		h = SPI_getbinval(tup, tt->tupdesc, 9, &isnull);

			head_id = id;
			head_hash = isnull ? NULL : DatumGetByteaPCopy(h);
			have_head = true;
		}
	}
	if (own == NIL)
		goto done;				/* rolled back to a savepoint before them */
	if (!have_head)
	{
		/* nobody committed since: the head is the entry before the first */
		spi_read_latest("SELECT id, hash FROM pals_privacy.audit_log WHERE id < $1 ORDER BY id DESC LIMIT 1",
						INT8OID, arg);
		if (SPI_processed == 1)
		{
			bool		isnull;
			Datum		h = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull);

			head_id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
			head_hash = isnull ? NULL : DatumGetByteaPCopy(h);
		}
	}

	expected = head_id + 1;
	prev = head_hash;
	foreach(lc, own)
	{
		OwnEntry   *e = lfirst(lc);
		bool		linked = e->id == expected &&
			(e->prev == NULL ? prev == NULL :
			 prev != NULL && VARSIZE_ANY(e->prev) == VARSIZE_ANY(prev) &&
			 memcmp(VARDATA_ANY(e->prev), VARDATA_ANY(prev), VARSIZE_ANY_EXHDR(prev)) == 0);
		unsigned char hash[PALS_SHA256_LEN];
		bytea	   *hashb;
		Datum		values[4];
		char		nulls[4] = {' ', ' ', ' ', ' '};

		pals_sha256(prev ? (unsigned char *) VARDATA_ANY(prev) : NULL, prev ? VARSIZE_ANY_EXHDR(prev) : 0,
					entry_content(e->format, expected, e->at, e->role, e->class, e->event, e->details), hash);
		hashb = pals_bytea(hash, PALS_SHA256_LEN);
		if (!linked)
		{
			/* another transaction committed entries since this one was written */
			values[0] = Int64GetDatum(expected);
			values[1] = prev ? PointerGetDatum(prev) : (Datum) 0;
			nulls[1] = prev ? ' ' : 'n';
			values[2] = PointerGetDatum(hashb);
			values[3] = ItemPointerGetDatum(&e->ctid);
			if (SPI_execute_with_args("UPDATE pals_privacy.audit_log SET id = $1, prev_hash = $2, hash = $3"
									  " WHERE ctid = $4",
									  4, argtypes, values, nulls, false, 0) != SPI_OK_UPDATE ||
				SPI_processed != 1)
				elog(ERROR, "pals_privacy: chaining audit entry %lld failed", (long long) e->id);
		}
		prev = hashb;
		expected++;
	}
	if (log_head)
		ereport(LOG,
				(errmsg("pals_privacy: audit log head is entry %lld with hash %s", (long long) (expected - 1),
						text_to_cstring(DatumGetTextPP(DirectFunctionCall2(binary_encode, PointerGetDatum(prev),
																			 CStringGetTextDatum("hex"))))),
				 errhidestmt(true)));
done:
	PopActiveSnapshot();
	pals_restore_search_path(nestlevel);
	SPI_finish();
	SetUserIdAndSecContext(save_userid, save_sec);
}

/*
 * Append one entry (SPI connected; details is jsonb's own text or NULL),
 * chained to the head as this transaction sees it now; settled at commit.
 */
static int64
append_entry(TimestampTz at, const char *role, const char *class,
			 const char *event, const char *details)
{
	SPIPlanPtr	head_plan;
	Oid			argtypes[9] = {INT8OID, TIMESTAMPTZOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, BYTEAOID, BYTEAOID, INT2OID};
	Datum		values[9];
	char		nulls[9] = {' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' '};
	int			format = append_format();
	unsigned char hash[PALS_SHA256_LEN];
	bytea	   *prev = NULL;
	int64		id;
	bool		isnull;

	/* the head as committed now (or this transaction's own last entry), even under REPEATABLE READ */
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
				entry_content(format, id, at, role, class, event, details), hash);

	values[0] = Int64GetDatum(id);
	values[1] = TimestampTzGetDatum(at);
	values[2] = CStringGetTextDatum(role);
	values[3] = CStringGetTextDatum(class);
	values[4] = CStringGetTextDatum(event);
	if (details)
		values[5] = CStringGetTextDatum(details);
	else
		nulls[5] = 'n';
	if (prev)
		values[6] = PointerGetDatum(prev);
	else
		nulls[6] = 'n';
	values[7] = PointerGetDatum(pals_bytea(hash, PALS_SHA256_LEN));
	values[8] = Int16GetDatum((int16) format);
	if (SPI_execute_with_args(format == AUDIT_FORMAT_OLD ?
							  "INSERT INTO pals_privacy.audit_log"
							  " (id, at, role, class, event, details, prev_hash, hash)"
							  " VALUES ($1, $2, $3, $4, $5, $6::pg_catalog.jsonb, $7, $8)" :
							  "INSERT INTO pals_privacy.audit_log"
							  " (id, at, role, class, event, details, prev_hash, hash, content_format)"
							  " VALUES ($1, $2, $3, $4, $5, $6::pg_catalog.jsonb, $7, $8, $9)",
							  format == AUDIT_FORMAT_OLD ? 8 : 9, argtypes, values, nulls, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "pals_privacy: appending to the audit log failed");
	note_append(id);
	return id;
}

/* The session (login) role and its class: who an entry names. */
static void
entry_author(const char **role, const char **class)
{
	Oid			session_role = GetSessionUserId();

	*role = GetUserNameFromId(session_role, false);
	*class = superuser_arg(session_role) ? "operational" :
		pals_class_name(pals_class_of_role(session_role));
}

/*
 * pals_privacy._audit_append(event text, details jsonb) returns bigint.
 * SECURITY DEFINER in SQL, so that it may write the log; the entry names
 * the session's (login) role and its privacy class.  The entry belongs to
 * the caller's transaction.
 */
Datum
pals_privacy_audit_append(PG_FUNCTION_ARGS)
{
	char	   *event = text_to_cstring(PG_GETARG_TEXT_PP(0));
	char	   *details = PG_ARGISNULL(1) ? NULL :
		DatumGetCString(DirectFunctionCall1(jsonb_out, PG_GETARG_DATUM(1)));
	const char *role;
	const char *class;
	int64		id;

	entry_author(&role, &class);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "pals_privacy: SPI_connect failed");
	id = append_entry(GetCurrentTransactionStartTimestamp(), role, class, event, details);
	SPI_finish();
	PG_RETURN_INT64(id);
}

/* ----------------------------------------------------------------------
 * Durable entries: written by a background worker of their own
 * ---------------------------------------------------------------------- */

#define DURABLE_QUEUE_SIZE (64 * 1024)
#define DURABLE_WAIT_MS 10000	/* longest wait for the writer's commit */

typedef struct DurableQueue
{
	Oid			dbid;
	int			caller_pid;
	TransactionId wait_xid;		/* write after this transaction ends */
	pg_atomic_uint32 taken;		/* the writer has the segment */
	pg_atomic_uint32 done;		/* 1: committed, 2: failed */
	int64		first_id;
	pg_atomic_uint32 nentries;
	Size		used;
	char		data[FLEXIBLE_ARRAY_MEMBER];	/* entries, MAXALIGNed */
} DurableQueue;

/* an entry: at, then event, role, class, details ("" with has_details false) */
typedef struct DurableEntry
{
	TimestampTz at;
	bool		has_details;
	char		text[FLEXIBLE_ARRAY_MEMBER];
} DurableEntry;

/* This transaction's writer, when it appended entries of its own (see above). */
static dsm_segment *pending_segment = NULL;
static TransactionId pending_xid = InvalidTransactionId;

static void
audit_xact_callback(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_PRE_COMMIT:
			/*
			 * A DROP EXTENSION later in the transaction deleted the log and
			 * the entries with it (its warning logs the head): nothing to
			 * chain, and reading the log would fail the DROP's commit
			 */
			if (xact_appended && OidIsValid(audit_log_relid()))
				chain_at_commit();
			break;
		case XACT_EVENT_PRE_PREPARE:
			if (xact_appended)
				ereport(ERROR,
						(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
						 errmsg("pals_privacy: a transaction that appended audit entries cannot be prepared"),
						 errdetail("Audit entries are chained when their transaction commits; a prepared transaction would hold the chain until COMMIT PREPARED."),
						 errhint("Classify roles, acknowledge the policy and record consent outside two-phase transactions.")));
			break;
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_COMMIT:
		case XACT_EVENT_PARALLEL_ABORT:
		case XACT_EVENT_PREPARE:
			if (pending_segment != NULL)
				dsm_detach(pending_segment);
			pending_segment = NULL;
			pending_xid = InvalidTransactionId;
			xact_appended = false;
			xact_first_id = 0;
			break;
		default:
			break;
	}
}

static bool
queue_add(DurableQueue *q, TimestampTz at, const char *role, const char *class,
		  const char *event, const char *details)
{
	Size		lens[4] = {strlen(event) + 1, strlen(role) + 1, strlen(class) + 1,
	details ? strlen(details) + 1 : 1};
	Size		need = MAXALIGN(offsetof(DurableEntry, text) + lens[0] + lens[1] + lens[2] + lens[3]);
	DurableEntry *e;
	char	   *p;

	if (q->used + need > DURABLE_QUEUE_SIZE - offsetof(DurableQueue, data))
		return false;
	e = (DurableEntry *) (q->data + q->used);
	e->at = at;
	e->has_details = details != NULL;
	p = e->text;
	memcpy(p, event, lens[0]);
	p += lens[0];
	memcpy(p, role, lens[1]);
	p += lens[1];
	memcpy(p, class, lens[2]);
	p += lens[2];
	memcpy(p, details ? details : "", lens[3]);
	q->used += need;
	pg_write_barrier();
	pg_atomic_fetch_add_u32(&q->nentries, 1);
	return true;
}

/* Wait until the writer took the segment, or (until) it committed. */
static void
writer_wait(BackgroundWorkerHandle *handle, DurableQueue *q, bool for_commit)
{
	TimestampTz start = GetCurrentTimestamp();

	for (;;)
	{
		pid_t		pid;
		BgwHandleStatus status;

		if (!for_commit && pg_atomic_read_u32(&q->taken) != 0)
			return;
		if (for_commit && pg_atomic_read_u32(&q->done) != 0)
			return;
		status = GetBackgroundWorkerPid(handle, &pid);
		if (status == BGWH_STOPPED || status == BGWH_POSTMASTER_DIED)
		{
			if (for_commit ? pg_atomic_read_u32(&q->done) != 0 : pg_atomic_read_u32(&q->taken) != 0)
				return;
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_RESOURCES),
					 errmsg("pals_privacy: the audit writer stopped before it %s the entry",
							for_commit ? "committed" : "took"),
					 errhint("See the server log.")));
		}
		/* the entry is with the writer: a commit it is slow to reach is its own business */
		if (for_commit && TimestampDifferenceExceeds(start, GetCurrentTimestamp(), DURABLE_WAIT_MS))
			return;
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, 10, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
	}
}

/*
 * A new segment holding the first entry, and its writer (started only once
 * the entry is in place: a writer that need not wait reads the entries at
 * once).
 */
static dsm_segment *
writer_start(TransactionId wait_xid, BackgroundWorkerHandle **handle_out,
			 TimestampTz at, const char *role, const char *class,
			 const char *event, const char *details)
{
	dsm_segment *seg = dsm_create(DURABLE_QUEUE_SIZE, 0);
	DurableQueue *q = dsm_segment_address(seg);
	BackgroundWorker worker;

	memset(q, 0, offsetof(DurableQueue, data));
	q->dbid = MyDatabaseId;
	q->caller_pid = MyProcPid;
	q->wait_xid = wait_xid;
	pg_atomic_init_u32(&q->taken, 0);
	pg_atomic_init_u32(&q->done, 0);
	pg_atomic_init_u32(&q->nentries, 0);
	if (!queue_add(q, at, role, class, event, details))
		ereport(ERROR, (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
						errmsg("pals_privacy: audit entry too large")));

	memset(&worker, 0, sizeof(worker));
	snprintf(worker.bgw_name, BGW_MAXLEN, "pals_privacy audit writer");
	snprintf(worker.bgw_type, BGW_MAXLEN, "pals_privacy audit writer");
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = BGW_NEVER_RESTART;
	snprintf(worker.bgw_library_name, BGW_MAXLEN, "pals_privacy");
	snprintf(worker.bgw_function_name, BGW_MAXLEN, "pals_audit_writer_main");
	worker.bgw_main_arg = UInt32GetDatum(dsm_segment_handle(seg));
	worker.bgw_notify_pid = MyProcPid;
	if (!RegisterDynamicBackgroundWorker(&worker, handle_out))
		ereport(ERROR,
				(errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
				 errmsg("pals_privacy: could not start the audit writer"),
				 errdetail("An entry that must survive a rollback is written by a background worker, and no worker slot is free."),
				 errhint("Raise max_worker_processes.")));
	return seg;
}

/*
 * Write an entry that survives the caller's rollback (details: JSON text or
 * NULL).  Returns its id, or 0 when it is written after the caller's
 * transaction ends (that transaction appended entries of its own).  Refuses (and so
 * fails the operation) when it cannot be handed to a writer.
 */
int64
pals_audit_durable(const char *event, const char *details_json)
{
	const char *role;
	const char *class;
	char	   *details = NULL;
	TimestampTz at = GetCurrentTimestamp();
	BackgroundWorkerHandle *handle;
	dsm_segment *seg;
	DurableQueue *q;
	int64		id;

	if (details_json != NULL)	/* jsonb's own text: what the hash covers */
		details = DatumGetCString(DirectFunctionCall1(jsonb_out,
													  DirectFunctionCall1(jsonb_in, CStringGetDatum(details_json))));
	entry_author(&role, &class);

	if (!xact_callback_registered)
	{
		RegisterXactCallback(audit_xact_callback, NULL);
		xact_callback_registered = true;
	}

	if (xact_appended)
	{
		/*
		 * This transaction appended entries of its own, with provisional
		 * ids: one writer takes its durable entries and writes them when it
		 * has ended, committed or not.
		 */
		TransactionId xid = GetTopTransactionId();

		if (pending_segment == NULL || pending_xid != xid ||
			!queue_add(dsm_segment_address(pending_segment), at, role, class, event, details))
		{
			MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);

			if (pending_segment != NULL)
				dsm_detach(pending_segment);
			pending_segment = NULL;
			seg = writer_start(xid, &handle, at, role, class, event, details);
			dsm_pin_mapping(seg);
			MemoryContextSwitchTo(old);
			q = dsm_segment_address(seg);
			writer_wait(handle, q, false);
			pending_segment = seg;
			pending_xid = xid;
		}
		return 0;
	}

	seg = writer_start(InvalidTransactionId, &handle, at, role, class, event, details);
	q = dsm_segment_address(seg);
	writer_wait(handle, q, false);
	writer_wait(handle, q, true);
	id = pg_atomic_read_u32(&q->done) == 1 ? q->first_id : 0;
	dsm_detach(seg);
	return id;
}

/* pals_privacy._audit_durable(event text, details jsonb) returns bigint */
Datum
pals_privacy_audit_durable(PG_FUNCTION_ARGS)
{
	char	   *event = text_to_cstring(PG_GETARG_TEXT_PP(0));
	char	   *details = PG_ARGISNULL(1) ? NULL :
		DatumGetCString(DirectFunctionCall1(jsonb_out, PG_GETARG_DATUM(1)));
	int64		id = pals_audit_durable(event, details);

	if (id == 0)
		PG_RETURN_NULL();
	PG_RETURN_INT64(id);
}

static void
wake_caller(DurableQueue *q)
{
	PGPROC	   *proc = BackendPidGetProc(q->caller_pid);

	if (proc != NULL)
		SetLatch(&proc->procLatch);
}

/* The writer: take the segment, wait for the caller if asked, write, commit. */
void
pals_audit_writer_main(Datum arg)
{
	dsm_segment *seg;
	DurableQueue *q;
	uint32		n;
	Size		off = 0;

	BackgroundWorkerUnblockSignals();
	CurrentResourceOwner = ResourceOwnerCreate(NULL, "pals_privacy audit writer");
	seg = dsm_attach(DatumGetUInt32(arg));
	if (seg == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("pals_privacy audit writer: the caller's entries are gone")));
	dsm_pin_mapping(seg);
	q = dsm_segment_address(seg);
	pg_atomic_write_u32(&q->taken, 1);
	wake_caller(q);

	BackgroundWorkerInitializeConnectionByOid(q->dbid, InvalidOid, 0);
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	if (TransactionIdIsValid(q->wait_xid))
		XactLockTableWait(q->wait_xid, NULL, NULL, XLTW_None);
	pg_read_barrier();
	n = pg_atomic_read_u32(&q->nentries);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "pals_privacy: SPI_connect failed");
	PushActiveSnapshot(GetTransactionSnapshot());
	for (uint32 i = 0; i < n; i++)
	{
		DurableEntry *e = (DurableEntry *) (q->data + off);
		const char *event = e->text;
		const char *role = event + strlen(event) + 1;
		const char *class = role + strlen(role) + 1;
		const char *details = class + strlen(class) + 1;
		int64		id;

		id = append_entry(e->at, role, class, event, e->has_details ? details : NULL);
		if (i == 0)
			q->first_id = id;
		off += MAXALIGN(offsetof(DurableEntry, text) + (details + strlen(details) + 1 - event));
	}
	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
	pg_write_barrier();
	pg_atomic_write_u32(&q->done, 1);
	wake_caller(q);
	dsm_detach(seg);
	proc_exit(0);
}
