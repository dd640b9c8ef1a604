/*
 * hooks.c
 *     Every PostgreSQL hook pals_privacy uses, installed once (as
 *     contrib/sepgsql does) and dispatched to the mechanisms that act on it,
 *     so that the order in which they act is written in one place:
 *
 *     ProcessUtility  operations.c (a procedure CALLed in a transaction
 *                     block), then redact_hooks.c (COPY, EXPLAIN), then
 *                     session.c (DISCARD ALL, RESET ALL), then
 *                     tracker_rewrite.c (the tracker rebuilt after VACUUM
 *                     FULL, CLUSTER, ALTER TABLE, TRUNCATE), then the hook
 *                     installed before ours, or PostgreSQL's;
 *     emit_log        redact_hooks.c (DETAIL of integrity errors, server
 *                     log lines), then session.c (credentials);
 *     planner, ExecutorStart, needs_fmgr
 *                     redact_hooks.c;
 *     ExecutorRun, ExecutorFinish
 *                     spi_util.c (a statement of ours that writes a copy
 *                     runs, and fires the ILS's triggers, as the caller);
 *     get_relation_stats, get_index_stats
 *                     placeholder_stats.c, after the hook installed before
 *                     ours has declined (the placeholder index of masks,
 *                     InvalidOid, is ours alone);
 *     set_rel_pathlist
 *                     the hook installed before ours, then placeholder_stats.c
 *                     (masks of a relation as a placeholder index);
 *     shmem_request, shmem_startup (preloaded only)
 *                     session.c (login failures), then worker.c (the
 *                     launcher's state).
 *
 *     The order is the one the mechanisms had when each installed its own
 *     hooks.  Callbacks (relcache, syscache, transaction) stay with the
 *     mechanism whose cache they reset.
 */
#include "hooks.h"

#include "miscadmin.h"
#include "storage/ipc.h"

static planner_hook_type prev_planner_hook = NULL;
static ExecutorStart_hook_type prev_executor_start_hook = NULL;
static ExecutorRun_hook_type prev_executor_run_hook = NULL;
static ExecutorFinish_hook_type prev_executor_finish_hook = NULL;
static needs_fmgr_hook_type prev_needs_fmgr_hook = NULL;
static emit_log_hook_type prev_emit_log_hook = NULL;
static ProcessUtility_hook_type prev_utility_hook = NULL;
static get_relation_stats_hook_type prev_relation_stats_hook = NULL;
static get_index_stats_hook_type prev_index_stats_hook = NULL;
static set_rel_pathlist_hook_type prev_rel_pathlist_hook = NULL;
static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

/* ----------------------------------------------------------------------
 * ProcessUtility: operations, redaction, session, then the rest
 * ---------------------------------------------------------------------- */

static void
utility_prev(PALS_UTILITY_PARAMS)
{
	if (prev_utility_hook)
		prev_utility_hook(PALS_UTILITY_ARGS);
	else
		standard_ProcessUtility(PALS_UTILITY_ARGS);
}

static void
utility_tracker(PALS_UTILITY_PARAMS)
{
	pals_tracker_rewrite_utility(PALS_UTILITY_ARGS, utility_prev);
}

static void
utility_session(PALS_UTILITY_PARAMS)
{
	pals_session_utility(PALS_UTILITY_ARGS, utility_tracker);
}

static void
utility_redact(PALS_UTILITY_PARAMS)
{
	pals_redact_utility(PALS_UTILITY_ARGS, utility_session);
}

static void
pals_utility(PALS_UTILITY_PARAMS)
{
	pals_operations_utility(PALS_UTILITY_ARGS, utility_redact);
}

/* ----------------------------------------------------------------------
 * The planner and the executor
 * ---------------------------------------------------------------------- */

static PlannedStmt *
planner_prev(Query *parse, const char *query_string, int cursorOptions, ParamListInfo boundParams)
{
	if (prev_planner_hook)
		return prev_planner_hook(parse, query_string, cursorOptions, boundParams);
	return standard_planner(parse, query_string, cursorOptions, boundParams);
}

static PlannedStmt *
pals_planner(Query *parse, const char *query_string, int cursorOptions, ParamListInfo boundParams)
{
	return pals_redact_planner(parse, query_string, cursorOptions, boundParams, planner_prev);
}

static void
executor_start_prev(QueryDesc *qd, int eflags)
{
	if (prev_executor_start_hook)
		prev_executor_start_hook(qd, eflags);
	else
		standard_ExecutorStart(qd, eflags);
}

/*
 * ExecutorRun, ExecutorFinish: the statement of
 * pals_execute_write_as_caller() runs (its triggers fire) as the caller; a
 * sweep's statement that writes a relation of the ILS's as a superuser, as
 * the relation's owner (pals_ils_run_enter, ils_owner.c).
 */
#if PG_VERSION_NUM >= 180000
#define PALS_RUN_PARAMS QueryDesc *qd, ScanDirection dir, uint64 count
#define PALS_RUN_ARGS qd, dir, count
#else
#define PALS_RUN_PARAMS QueryDesc *qd, ScanDirection dir, uint64 count, bool execute_once
#define PALS_RUN_ARGS qd, dir, count, execute_once
#endif

static bool
run_enter(QueryDesc *qd, Oid *save_user, int *save_sec)
{
	return pals_caller_run_enter(qd, save_user, save_sec) || pals_ils_run_enter(qd, save_user, save_sec);
}

static void
executor_run_prev(PALS_RUN_PARAMS)
{
	if (prev_executor_run_hook)
		prev_executor_run_hook(PALS_RUN_ARGS);
	else
		standard_ExecutorRun(PALS_RUN_ARGS);
}

static void
pals_executor_run(PALS_RUN_PARAMS)
{
	Oid			save_user;
	int			save_sec;

	if (!run_enter(qd, &save_user, &save_sec))
	{
		executor_run_prev(PALS_RUN_ARGS);
		return;
	}
	PG_TRY();
	{
		executor_run_prev(PALS_RUN_ARGS);
	}
	PG_FINALLY();
	{
		pals_caller_run_leave(save_user, save_sec);
	}
	PG_END_TRY();
}

static void
executor_finish_prev(QueryDesc *qd)
{
	if (prev_executor_finish_hook)
		prev_executor_finish_hook(qd);
	else
		standard_ExecutorFinish(qd);
}

static void
pals_executor_finish(QueryDesc *qd)
{
	Oid			save_user;
	int			save_sec;

	if (!run_enter(qd, &save_user, &save_sec))
	{
		executor_finish_prev(qd);
		return;
	}
	PG_TRY();
	{
		executor_finish_prev(qd);
	}
	PG_FINALLY();
	{
		pals_caller_run_leave(save_user, save_sec);
	}
	PG_END_TRY();
}

static void
pals_executor_start(QueryDesc *qd, int eflags)
{
	pals_redact_executor_start(qd, eflags, executor_start_prev);
	pals_placeholder_executor_start(qd);
}

static bool
pals_needs_fmgr(Oid fn)
{
	if (prev_needs_fmgr_hook && prev_needs_fmgr_hook(fn))
		return true;
	return pals_redact_needs_fmgr(fn);
}

static bool
pals_relation_stats(PlannerInfo *root, RangeTblEntry *rte, AttrNumber attnum, VariableStatData *vardata)
{
	if (prev_relation_stats_hook && prev_relation_stats_hook(root, rte, attnum, vardata))
		return true;
	return pals_placeholder_relation_stats(root, rte, attnum, vardata);
}

static bool
pals_index_stats(PlannerInfo *root, Oid indexOid, AttrNumber indexattnum, VariableStatData *vardata)
{
	if (OidIsValid(indexOid) && prev_index_stats_hook &&
		prev_index_stats_hook(root, indexOid, indexattnum, vardata))
		return true;
	return pals_hidden_index_stats(root, indexOid, indexattnum, vardata);
}

static void
pals_rel_pathlist(PlannerInfo *root, RelOptInfo *rel, Index rti, RangeTblEntry *rte)
{
	if (prev_rel_pathlist_hook)
		prev_rel_pathlist_hook(root, rel, rti, rte);
	pals_mask_statistics_pathlist(root, rel, rti, rte);
}

/* ----------------------------------------------------------------------
 * The log and shared memory
 * ---------------------------------------------------------------------- */

static void
pals_emit_log(ErrorData *edata)
{
	pals_redact_emit_log(edata);
	pals_session_emit_log(edata);
	if (prev_emit_log_hook)
		prev_emit_log_hook(edata);
}

static void
pals_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	pals_session_shmem_request();
	pals_worker_shmem_request();
}

static void
pals_shmem_startup(void)
{
	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();
	pals_session_shmem_startup();
	pals_worker_shmem_startup();
}

void
pals_hooks_init(void)
{
	prev_utility_hook = ProcessUtility_hook;
	ProcessUtility_hook = pals_utility;
	prev_emit_log_hook = emit_log_hook;
	emit_log_hook = pals_emit_log;
	prev_planner_hook = planner_hook;
	planner_hook = pals_planner;
	prev_executor_start_hook = ExecutorStart_hook;
	ExecutorStart_hook = pals_executor_start;
	prev_executor_run_hook = ExecutorRun_hook;
	ExecutorRun_hook = pals_executor_run;
	prev_executor_finish_hook = ExecutorFinish_hook;
	ExecutorFinish_hook = pals_executor_finish;
	prev_needs_fmgr_hook = needs_fmgr_hook;
	needs_fmgr_hook = pals_needs_fmgr;
	prev_relation_stats_hook = get_relation_stats_hook;
	get_relation_stats_hook = pals_relation_stats;
	prev_index_stats_hook = get_index_stats_hook;
	get_index_stats_hook = pals_index_stats;
	prev_rel_pathlist_hook = set_rel_pathlist_hook;
	set_rel_pathlist_hook = pals_rel_pathlist;

	/* shared memory is set up by the postmaster: only when preloaded */
	if (!process_shared_preload_libraries_in_progress)
		return;
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = pals_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = pals_shmem_startup;
}
