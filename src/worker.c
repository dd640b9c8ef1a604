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

#include "access/xact.h"
#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/pg_database.h"
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

PGDLLEXPORT void pals_privacy_launcher_main(Datum arg);
PGDLLEXPORT void pals_privacy_database_main(Datum arg);

int			pals_maintenance_interval = 3600;	/* seconds */
char	   *pals_maintenance_databases = NULL;

/* What the launcher and maintenance_now() share. */
typedef struct WorkerShared
{
	pid_t		launcher_pid;
	Latch	   *launcher_latch;
	bool		run_now;
	int			outcome;		/* set by a database worker before it exits */
} WorkerShared;

static WorkerShared *shared = NULL;
static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

/*
 * Outcome of a database worker, left in shared memory (its exit code must be
 * 0: any code but 0 or 1 would make the postmaster treat it as a crash).
 */
#define DB_DONE 0
#define DB_NO_EXTENSION 1
#define DB_FAILED 2

static void
worker_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(MAXALIGN(sizeof(WorkerShared)));
}

static void
worker_shmem_startup(void)
{
	bool		found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	shared = ShmemInitStruct("pals_privacy worker", sizeof(WorkerShared), &found);
	if (!found)
		memset(shared, 0, sizeof(WorkerShared));
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

static bool
check_databases(char **newval, void **extra, GucSource source)
{
	char	   *copy = pstrdup(*newval ? *newval : "");
	List	   *names;
	bool		ok = SplitIdentifierString(copy, ',', &names);

	if (!ok)
		GUC_check_errdetail("List syntax is invalid: give database names separated by commas.");
	list_free(names);
	pfree(copy);
	return ok;
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

	if (!RegisterDynamicBackgroundWorker(&worker, &handle))
	{
		ereport(LOG,
				(errmsg("pals_privacy: could not start the maintenance worker of database \"%s\"", dbname),
				 errhint("Raise max_worker_processes.")));
		return -1;
	}
	shared->outcome = DB_FAILED;	/* unless the worker says otherwise */
	if (WaitForBackgroundWorkerStartup(handle, &pid) != BGWH_STARTED)
		return DB_FAILED;
	WaitForBackgroundWorkerShutdown(handle);
	pfree(handle);
	return shared->outcome;
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
						 pals_maintenance_interval,
						 pals_maintenance_databases ? pals_maintenance_databases : "")));
	if (pals_maintenance_databases == NULL || pals_maintenance_databases[0] == '\0')
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

		copy = pstrdup(pals_maintenance_databases ? pals_maintenance_databases : "");
		(void) SplitIdentifierString(copy, ',', &names);
		foreach(lc, names)
		{
			char	   *dbname = lfirst(lc);
			bool		exists;

			exists = database_exists(dbname);
			if (!exists)
			{
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

		if (!shared->run_now)
			(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
							 (long) pals_maintenance_interval * 1000L, PG_WAIT_EXTENSION);
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

	run_top_level(MAINTENANCE_CALL);
	ereport(LOG, (errmsg("pals_privacy: maintenance of database \"%s\" done", dbname)));
	shared->outcome = DB_DONE;
	proc_exit(0);
}

void
pals_worker_init(void)
{
	BackgroundWorker worker;

	DefineCustomIntVariable("pals_privacy.maintenance_interval",
							"Time between two maintenance runs of the background worker.",
							NULL,
							&pals_maintenance_interval,
							3600, 10, INT_MAX / 1000,
							PGC_SIGHUP, GUC_UNIT_S,
							NULL, NULL, NULL);
	DefineCustomStringVariable("pals_privacy.maintenance_databases",
							   "Databases the background worker runs maintenance in (comma-separated).",
							   "Databases listed without the extension are skipped.",
							   &pals_maintenance_databases,
							   "",
							   PGC_SIGHUP, GUC_LIST_INPUT,
							   check_databases, NULL, NULL);

	if (!process_shared_preload_libraries_in_progress)
		return;

	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = worker_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = worker_shmem_startup;

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
