/*
 * hooks.h
 *     The mechanisms' hook entry points, which hooks.c calls: it installs
 *     every PostgreSQL hook pals_privacy uses once, and chains to the hook
 *     installed before it.  An entry point that decides whether (and when)
 *     the statement goes on takes the rest of the chain as `next`; the
 *     others only act, and hooks.c goes on after them.
 */
#ifndef PALS_HOOKS_H
#define PALS_HOOKS_H

#include "pals_privacy.h"

#include "executor/executor.h"
#include "optimizer/paths.h"
#include "optimizer/planner.h"
#include "tcop/utility.h"
#include "utils/selfuncs.h"

/* A ProcessUtility hook's parameters, and the arguments that pass them on. */
#define PALS_UTILITY_PARAMS \
	PlannedStmt *pstmt, const char *queryString, bool readOnlyTree, \
	ProcessUtilityContext context, ParamListInfo params, \
	QueryEnvironment *queryEnv, DestReceiver *dest, QueryCompletion *qc
#define PALS_UTILITY_ARGS pstmt, queryString, readOnlyTree, context, params, queryEnv, dest, qc

/* hooks.c: called once, from _PG_init */
extern void pals_hooks_init(void);

/* redact_hooks.c: planner, executor, fmgr, emit_log, utility */
extern PlannedStmt *pals_redact_planner(Query *parse, const char *query_string, int cursorOptions,
										ParamListInfo boundParams, planner_hook_type next);
extern void pals_redact_executor_start(QueryDesc *qd, int eflags, ExecutorStart_hook_type next);
extern bool pals_redact_needs_fmgr(Oid fn);
extern void pals_redact_emit_log(ErrorData *edata);
extern void pals_redact_utility(PALS_UTILITY_PARAMS, ProcessUtility_hook_type next);

/* placeholder_stats.c: the planner's statistics */
extern bool pals_placeholder_relation_stats(PlannerInfo *root, RangeTblEntry *rte, AttrNumber attnum,
											VariableStatData *vardata);
extern bool pals_hidden_index_stats(PlannerInfo *root, Oid indexOid, AttrNumber indexattnum,
									VariableStatData *vardata);
extern void pals_mask_statistics_pathlist(PlannerInfo *root, RelOptInfo *rel, Index rti, RangeTblEntry *rte);

/* placeholder_guard.c: sever_backlog's statement without the placeholder's foreign-key check */
extern void pals_placeholder_executor_start(QueryDesc *qd);

/* session.c: DISCARD ALL / RESET ALL, credentials kept out of the log, login failures in shared memory */
extern void pals_session_utility(PALS_UTILITY_PARAMS, ProcessUtility_hook_type next);
extern void pals_session_emit_log(ErrorData *edata);
extern void pals_session_shmem_request(void);
extern void pals_session_shmem_startup(void);

/* worker.c: the launcher's shared state */
extern void pals_worker_shmem_request(void);
extern void pals_worker_shmem_startup(void);

/* tracker_rewrite.c: the tracker rebuilt after VACUUM FULL, CLUSTER, ALTER TABLE, TRUNCATE */
extern void pals_tracker_rewrite_utility(PALS_UTILITY_PARAMS, ProcessUtility_hook_type next);

/* operations.c: procedures CALLed inside a transaction block */
extern void pals_operations_utility(PALS_UTILITY_PARAMS, ProcessUtility_hook_type next);

#endif							/* PALS_HOOKS_H */
