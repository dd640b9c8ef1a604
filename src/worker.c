/*
 * worker.c
 *     The maintenance background worker.  A launcher (started with the
 *     server when pals_privacy is in shared_preload_libraries, and only once
 *     recovery is finished, so never on a standby) wakes every
 *     pals_privacy.maintenance_interval, or when maintenance_now() asks, and
 *     for each database of pals_privacy.maintenance_databases starts a
 *     short-lived worker that connects there and runs
 *     CALL pals_privacy.run_maintenance(), then exits (so the database stays
 *     droppable between runs).
 */
#include "pals_privacy.h"
#include "hooks.h"

#include "access/xact.h"
#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/pg_database.h"
#include "catalog/pg_type.h"
#include "commands/dbcommands.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lwlock.h"
#include "storage/proc.h"
#include "storage/shmem.h"
#include "storage/spin.h"
#include "funcapi.h"
#include "tcop/tcopprot.h"
#include "tcop/pquery.h"
#include "tcop/utility.h"
#include "utils/portal.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
#include "utils/varlena.h"

#include <limits.h>
#include <signal.h>

PG_FUNCTION_INFO_V1(pals_privacy_maintenance_now);
PG_FUNCTION_INFO_V1(pals_privacy_worker_status);

PGDLLEXPORT void pals_privacy_launcher_main(Datum arg);
PGDLLEXPORT void pals_privacy_database_main(Datum arg);

/*
 * The last round in one database, for worker_status() (the same for every
 * database of the cluster: what the launcher saw, and the error text the
 * database worker caught).
 */
#define MAX_STATUS_DATABASES 64
#define STATUS_MESSAGE_LEN 512

typedef struct DatabaseStatus
{
	char		dbname[NAMEDATALEN];
	TimestampTz last_start;
	TimestampTz last_end;
	int			outcome;		/* DB_* below; -1: never ran */
	int64		runs;
	int64		failures;
	TimestampTz last_error_at;
	char		last_error[STATUS_MESSAGE_LEN];
} DatabaseStatus;

/* What the launcher and maintenance_now() share. */
typedef struct WorkerShared
{
	pid_t		launcher_pid;
	Latch	   *launcher_latch;
	bool		run_now;
	int			outcome;		/* set by a database worker before it exits */
	slock_t		mutex;			/* protects what follows */
	TimestampTz next_run;
	int			ndatabases;
	DatabaseStatus db[MAX_STATUS_DATABASES];
} WorkerShared;

static WorkerShared *shared = NULL;

/*
 * Outcome of a database worker, left in shared memory (its exit code must be
 * 0: any code but 0 or 1 would make the postmaster treat it as a crash).
 */
#define DB_DONE 0
#define DB_NO_EXTENSION 1
#define DB_FAILED 2
#define DB_NOT_STARTED 3
#define DB_MISSING 4

static const char *
outcome_name(int outcome)
{
	switch (outcome)
	{
		case DB_DONE:
			return "done";
		case DB_NO_EXTENSION:
			return "extension not installed";
		case DB_FAILED:
			return "failed";
		case DB_NOT_STARTED:
			return "could not start";
		case DB_MISSING:
			return "database does not exist";
	}
	return "never ran";
}

/* The status slot of a database, made if needed (NULL if all are taken). */
static DatabaseStatus *
status_slot(const char *dbname)
{
	DatabaseStatus *slot = NULL;

	SpinLockAcquire(&shared->mutex);
	for (int i = 0; i < shared->ndatabases; i++)
		if (strcmp(shared->db[i].dbname, dbname) == 0)
			slot = &shared->db[i];
	if (slot == NULL && shared->ndatabases < MAX_STATUS_DATABASES)
	{
		slot = &shared->db[shared->ndatabases++];
		memset(slot, 0, sizeof(*slot));
		strlcpy(slot->dbname, dbname, NAMEDATALEN);
		slot->outcome = -1;
	}
	SpinLockRelease(&shared->mutex);
	return slot;
}

void
pals_worker_shmem_request(void)
{
	RequestAddinShmemSpace(MAXALIGN(sizeof(WorkerShared)));
}

void
pals_worker_shmem_startup(void)
{
	bool		found;

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	shared = ShmemInitStruct("pals_privacy worker", sizeof(WorkerShared), &found);
	if (!found)
	{
		memset(shared, 0, sizeof(WorkerShared));
		SpinLockInit(&shared->mutex);
	}
	LWLockRelease(AddinShmemInitLock);
}

/*
 * pals_privacy.maintenance_now(): wake the launcher; false if it is not
 * running (the library is not preloaded, or this server is a standby).
 */
Datum
pals_privacy_maintenance_now(PG_FUNCTION_ARGS)
{
	if (shared == NULL || shared->launcher_pid == 0 || shared->launcher_latch == NULL)
		PG_RETURN_BOOL(false);
	shared->run_now = true;
	SetLatch(shared->launcher_latch);
	PG_RETURN_BOOL(true);
}

/*
 * Whether a database exists.  The launcher has no database: like
 * autovacuum's launcher it reads pg_database by a heap scan (an index scan
 * would need the relation cache of a database).
 */
static bool
database_exists(const char *dbname)
{
	Relation	rel;
	TableScanDesc scan;
	HeapTuple	tup;
	bool		found = false;

	StartTransactionCommand();
	(void) GetTransactionSnapshot();
	rel = table_open(DatabaseRelationId, AccessShareLock);
	scan = table_beginscan_catalog(rel, 0, NULL);
	while (!found && (tup = heap_getnext(scan, ForwardScanDirection)) != NULL)
		found = strcmp(NameStr(((Form_pg_database) GETSTRUCT(tup))->datname), dbname) == 0;
	table_endscan(scan);
	table_close(rel, AccessShareLock);
	CommitTransactionCommand();
	return found;
}

/* The launcher is gone: maintenance_now() must say so. */
static void
launcher_exit(int code, Datum arg)
{
	shared->launcher_latch = NULL;
	shared->launcher_pid = 0;
}

/* Start the worker of one database and wait until it has finished. */
static int
run_in_database(const char *dbname)
{
	BackgroundWorker worker;
	BackgroundWorkerHandle *handle;
	pid_t		pid;
	DatabaseStatus *slot;
	int			outcome;

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = BGW_NEVER_RESTART;
	snprintf(worker.bgw_library_name, BGW_MAXLEN, "pals_privacy");
	snprintf(worker.bgw_function_name, BGW_MAXLEN, "pals_privacy_database_main");
	snprintf(worker.bgw_name, BGW_MAXLEN, "pals_privacy maintenance of %s", dbname);
	snprintf(worker.bgw_type, BGW_MAXLEN, "pals_privacy maintenance");
	strlcpy(worker.bgw_extra, dbname, BGW_EXTRALEN);
	worker.bgw_notify_pid = MyProcPid;

	slot = status_slot(dbname);
	if (slot)
	{
		SpinLockAcquire(&shared->mutex);
		slot->last_start = GetCurrentTimestamp();
		slot->runs++;
		SpinLockRelease(&shared->mutex);
	}
	if (!RegisterDynamicBackgroundWorker(&worker, &handle))
	{
		ereport(LOG,
				(errmsg("pals_privacy: could not start the maintenance worker of database \"%s\"", dbname),
				 errhint("Raise max_worker_processes.")));
		outcome = DB_NOT_STARTED;
	}
	else
	{
		shared->outcome = DB_FAILED;	/* unless the worker says otherwise */
		if (WaitForBackgroundWorkerStartup(handle, &pid) != BGWH_STARTED)
			outcome = DB_NOT_STARTED;
		else
		{
			WaitForBackgroundWorkerShutdown(handle);
			outcome = shared->outcome;
		}
		pfree(handle);
	}
	if (slot)
	{
		SpinLockAcquire(&shared->mutex);
		slot->last_end = GetCurrentTimestamp();
		slot->outcome = outcome;
		if (outcome == DB_FAILED || outcome == DB_NOT_STARTED)
		{
			slot->failures++;
			slot->last_error_at = slot->last_end;
			if (outcome == DB_NOT_STARTED)
				strlcpy(slot->last_error, "could not start a background worker (max_worker_processes?)",
						STATUS_MESSAGE_LEN);
			else if (slot->last_error[0] == '\0')
				strlcpy(slot->last_error, "the worker ended without reporting (see the server log)",
						STATUS_MESSAGE_LEN);
		}
		SpinLockRelease(&shared->mutex);
	}
	return outcome;
}

void
pals_privacy_launcher_main(Datum arg)
{
	List	   *warned = NIL;	/* databases already reported as lacking the extension */

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnection(NULL, NULL, 0);

	shared->launcher_pid = MyProcPid;
	shared->launcher_latch = MyLatch;
	before_shmem_exit(launcher_exit, (Datum) 0);
	ereport(LOG, (errmsg("pals_privacy: maintenance launcher started (every %d s in \"%s\")",
						 pals_get_maintenance_interval(),
						 pals_get_maintenance_databases() ? pals_get_maintenance_databases() : "")));
	if (pals_get_maintenance_databases() == NULL || pals_get_maintenance_databases()[0] == '\0')
		ereport(LOG, (errmsg("pals_privacy: pals_privacy.maintenance_databases is empty; the maintenance worker will wait")));

	for (;;)
	{
		char	   *copy;
		List	   *names = NIL;
		ListCell   *lc;

		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}
		shared->run_now = false;

		copy = pstrdup(pals_get_maintenance_databases() ? pals_get_maintenance_databases() : "");
		(void) SplitIdentifierString(copy, ',', &names);
		foreach(lc, names)
		{
			char	   *dbname = lfirst(lc);
			bool		exists;

			exists = database_exists(dbname);
			if (!exists)
			{
				DatabaseStatus *slot = status_slot(dbname);

				if (slot)
				{
					SpinLockAcquire(&shared->mutex);
					slot->outcome = DB_MISSING;
					SpinLockRelease(&shared->mutex);
				}
				if (!list_member(warned, makeString(dbname)))
				{
					ereport(LOG, (errmsg("pals_privacy: database \"%s\" of pals_privacy.maintenance_databases does not exist; skipped", dbname)));
					warned = lappend(warned, makeString(pstrdup(dbname)));
				}
				continue;
			}
			if (run_in_database(dbname) == DB_NO_EXTENSION)
			{
				if (!list_member(warned, makeString(dbname)))
				{
					ereport(LOG, (errmsg("pals_privacy: extension pals_privacy is not installed in database \"%s\"; no maintenance there", dbname)));
					warned = lappend(warned, makeString(pstrdup(dbname)));
				}
			}
			else
				warned = list_delete(warned, makeString(dbname));
		}
		list_free(names);
		pfree(copy);

		SpinLockAcquire(&shared->mutex);
		shared->next_run = shared->run_now ? GetCurrentTimestamp()
			: TimestampTzPlusMilliseconds(GetCurrentTimestamp(), (int64) pals_get_maintenance_interval() * 1000);
		SpinLockRelease(&shared->mutex);
		if (!shared->run_now)
			(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
							 (long) pals_get_maintenance_interval() * 1000L, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
}

#define MAINTENANCE_CALL "CALL pals_privacy.run_maintenance()"

/*
 * Run one statement as a client's would be run (the way exec_simple_query
 * does): as a top-level portal, so that a procedure may COMMIT per batch.
 * Parse and plan trees live in a context of their own, which those commits
 * leave alone.
 */
static void
run_top_level(const char *sql)
{
	MemoryContext cxt = AllocSetContextCreate(TopMemoryContext, "pals_privacy maintenance",
											  ALLOCSET_DEFAULT_SIZES);
	MemoryContext old;
	List	   *parsed;
	RawStmt    *raw;
	List	   *queries;
	List	   *plans;
	Portal		portal;
	DestReceiver *receiver;

	pgstat_report_activity(STATE_RUNNING, sql);
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	old = MemoryContextSwitchTo(cxt);
	parsed = pg_parse_query(sql);
	raw = linitial_node(RawStmt, parsed);
	queries = pg_analyze_and_rewrite_fixedparams(raw, sql, NULL, 0, NULL);
	plans = pg_plan_queries(queries, sql, CURSOR_OPT_PARALLEL_OK, NULL);
	portal = CreatePortal("", true, true);
	portal->visible = false;
	PortalDefineQuery(portal, NULL, sql, CreateCommandTag(raw->stmt), plans, NULL);
	PortalStart(portal, NULL, 0, InvalidSnapshot);
	receiver = CreateDestReceiver(DestNone);
	MemoryContextSwitchTo(old);
	(void) pals_portal_run(portal, FETCH_ALL, true, receiver, receiver, NULL);
	receiver->rDestroy(receiver);
	PortalDrop(portal, false);
	CommitTransactionCommand();
	MemoryContextDelete(cxt);
	pgstat_report_activity(STATE_IDLE, NULL);
}

/* Does the database this worker is connected to have the extension? */
static bool
extension_installed(void)
{
	bool		installed;

	StartTransactionCommand();
	installed = OidIsValid(get_extension_oid("pals_privacy", true));
	CommitTransactionCommand();
	return installed;
}

/*
 * The maintenance run failed: its row in maintenance_runs (and those of the
 * purge or retention run it was in) gets the error text and is finished,
 * which also puts the error in the audit log.
 */
static void
record_failure(const char *message)
{
	PG_TRY();
	{
		Oid			argtypes[1] = {TEXTOID};
		Datum		values[1];

		values[0] = CStringGetTextDatum(message);
		SetCurrentStatementStartTimestamp();
		StartTransactionCommand();
		SPI_connect();
		PushActiveSnapshot(GetTransactionSnapshot());
		SPI_execute_with_args("UPDATE pals_privacy.maintenance_runs SET error = $1, finished_at = clock_timestamp() "
							  "WHERE finished_at IS NULL AND error IS NULL AND id >= "
							  "(SELECT coalesce(max(id), 0) FROM pals_privacy.maintenance_runs "
							  "  WHERE kind = 'maintenance' AND finished_at IS NULL AND error IS NULL)",
							  1, argtypes, values, NULL, false, 0);
		PopActiveSnapshot();
		SPI_finish();
		CommitTransactionCommand();
	}
	PG_CATCH();
	{
		EmitErrorReport();
		FlushErrorState();
		AbortOutOfAnyTransaction();
	}
	PG_END_TRY();
}

/*
 * pals_privacy.worker_status(): one row per database the launcher has
 * tried, like cron.job_run_details; no row at all when the library was not
 * preloaded (there is no worker).
 */
Datum
pals_privacy_worker_status(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	DatabaseStatus copy[MAX_STATUS_DATABASES];
	int			n;
	TimestampTz next_run;
	pid_t		launcher;

	InitMaterializedSRF(fcinfo, 0);
	if (shared == NULL)
		PG_RETURN_VOID();
	SpinLockAcquire(&shared->mutex);
	n = shared->ndatabases;
	memcpy(copy, shared->db, sizeof(DatabaseStatus) * n);
	next_run = shared->next_run;
	launcher = shared->launcher_pid;
	SpinLockRelease(&shared->mutex);

	for (int i = 0; i < n; i++)
	{
		Datum		values[10];
		bool		nulls[10] = {0};

		values[0] = CStringGetTextDatum(copy[i].dbname);
		values[1] = CStringGetTextDatum(launcher != 0 ? "running" : "stopped");
		values[2] = TimestampTzGetDatum(copy[i].last_start);
		nulls[2] = copy[i].last_start == 0;
		values[3] = TimestampTzGetDatum(copy[i].last_end);
		nulls[3] = copy[i].last_end == 0;
		values[4] = CStringGetTextDatum(outcome_name(copy[i].outcome));
		values[5] = CStringGetTextDatum(copy[i].last_error);
		nulls[5] = copy[i].last_error[0] == '\0';
		values[6] = TimestampTzGetDatum(copy[i].last_error_at);
		nulls[6] = copy[i].last_error_at == 0;
		values[7] = TimestampTzGetDatum(next_run);
		nulls[7] = next_run == 0 || launcher == 0;
		values[8] = Int64GetDatum(copy[i].runs);
		values[9] = Int64GetDatum(copy[i].failures);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	PG_RETURN_VOID();
}

void
pals_privacy_database_main(Datum arg)
{
	char		dbname[BGW_EXTRALEN];

	strlcpy(dbname, MyBgworkerEntry->bgw_extra, sizeof(dbname));
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnection(dbname, NULL, 0);

	if (RecoveryInProgress())
	{
		shared->outcome = DB_DONE;	/* a standby: nothing to do */
		proc_exit(0);
	}
	if (!extension_installed())
	{
		shared->outcome = DB_NO_EXTENSION;
		proc_exit(0);
	}

	PG_TRY();
	{
		run_top_level(MAINTENANCE_CALL);
	}
	PG_CATCH();
	{
		ErrorData  *edata;
		char		message[STATUS_MESSAGE_LEN];
		DatabaseStatus *slot;

		HOLD_INTERRUPTS();
		MemoryContextSwitchTo(TopMemoryContext);
		edata = CopyErrorData();
		EmitErrorReport();
		FlushErrorState();
		AbortOutOfAnyTransaction();
		RESUME_INTERRUPTS();

		/* the message and SQLSTATE, never the DETAIL (it can quote stored values) */
		snprintf(message, sizeof(message), "%s: %s", unpack_sql_state(edata->sqlerrcode),
				 edata->message ? edata->message : "(no message)");
		slot = status_slot(dbname);
		if (slot)
		{
			SpinLockAcquire(&shared->mutex);
			strlcpy(slot->last_error, message, STATUS_MESSAGE_LEN);
			slot->last_error_at = GetCurrentTimestamp();
			SpinLockRelease(&shared->mutex);
		}
		record_failure(message);
		shared->outcome = DB_FAILED;
		proc_exit(0);
	}
	PG_END_TRY();
	ereport(LOG, (errmsg("pals_privacy: maintenance of database \"%s\" done", dbname)));
	shared->outcome = DB_DONE;
	proc_exit(0);
}

void
pals_worker_init(void)
{
	BackgroundWorker worker;

	if (!process_shared_preload_libraries_in_progress)
		return;

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = 10;	/* restarted ten seconds after a crash */
	snprintf(worker.bgw_library_name, BGW_MAXLEN, "pals_privacy");
	snprintf(worker.bgw_function_name, BGW_MAXLEN, "pals_privacy_launcher_main");
	snprintf(worker.bgw_name, BGW_MAXLEN, "pals_privacy maintenance launcher");
	snprintf(worker.bgw_type, BGW_MAXLEN, "pals_privacy maintenance launcher");
	RegisterBackgroundWorker(&worker);
}
