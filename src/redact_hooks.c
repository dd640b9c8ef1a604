/*
 * redact_hooks.c
 *     Where the redaction mechanism meets PostgreSQL: the planner hook (the
 *     rewrite of redact_rewrite.c, the preload guard left out where it is
 *     redundant, plan dependencies on role and configuration), the
 *     executor hook (row counts of bound relations), the fmgr hook (no SQL
 *     function inlined into a redacted query), the emit_log hook (DETAIL of
 *     integrity errors, server log lines), the utility hook (COPY to and
 *     from bound relations, EXPLAIN).  hooks.c installs them; the
 *     settings are guc.c's.  The files of the mechanism: redact_internal.h.
 */
#include "redact_internal.h"
#include "hooks.h"

#include "access/table.h"
#include "access/xact.h"
#include "catalog/pg_authid.h"
#include "catalog/namespace.h"
#include "commands/copy.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "optimizer/planner.h"
#include "parser/parse_coerce.h"
#include "parser/parse_collate.h"
#include "parser/parse_expr.h"
#include "parser/parse_relation.h"
#include "tcop/utility.h"
#include "utils/acl.h"
#include "utils/guc.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/plancache.h"
#include "utils/rls.h"

/* true while planning for a class that is redacted (see needs_fmgr) */
static int	planning_redacted = 0;

/* the class of the session's role when it last planned or ran a statement (see emit_log) */
static PalsClass last_class = PALS_CLASS_OPERATIONAL;

/* ----------------------------------------------------------------------
 * Is redaction in force for the current user?
 * ---------------------------------------------------------------------- */

/*
 * The purpose contact fields are read under: the role's, which the session's
 * setting may only repeat, never replace (classes.c).
 */
static const char *
effective_purpose(void)
{
	return pals_effective_purpose(pals_get_purpose());
}

/* Remember the class of the role the session acts as (see emit_log). */
static void
note_session_class(void)
{
	/* the role the session acts as (SET ROLE), not a function's owner */
	Oid			outer = GetOuterUserId();

	last_class = superuser_arg(outer) ? PALS_CLASS_OPERATIONAL : pals_class_of_role(outer);
}

/*
 * Fill in what applies to the current user (the extension being ready);
 * false when nothing does
 * (superusers, the extension owner, operational roles without a purpose).
 */
static bool
redaction_applies(Redaction *r)
{
	Oid			user;

	note_session_class();
	user = GetUserId();
	if (superuser_arg(user) || user == pals_registry()->extension_owner)
		return false;
	r->class = pals_current_class();
	r->purpose = effective_purpose();
	return r->class != PALS_CLASS_OPERATIONAL || r->purpose != NULL;
}

/*
 * While our planner hook plans a statement: what it decided for the user it
 * plans for.  The planner's statistics hooks ask for every column they
 * estimate (placeholder_stats.c), and the answer cannot change in the middle
 * of one planning.
 */
static bool planning_decided = false;
static bool planning_in_force = false;
static Oid	planning_user = InvalidOid;

/* Is the current user of a class whose reads are redacted (not operational)? */
bool
pals_redaction_in_force(void)
{
	Redaction	red;

	if (planning_decided && GetUserId() == planning_user)
		return planning_in_force;
	return pals_extension_ready() && redaction_applies(&red) && red.class != PALS_CLASS_OPERATIONAL;
}

/* ----------------------------------------------------------------------
 * Hooks
 * ---------------------------------------------------------------------- */

/*
 * The preload guard (a restrictive row-security policy calling _preloaded())
 * is there for backends without our hooks.  Planned here, in a preloaded
 * backend, it is true and redundant; left in, it is a security qual on every
 * bound relation, and PostgreSQL then keeps join conditions that are not
 * leakproof (a masked patron column) out of its index scans: a staff read
 * joining history to the patron table scanned the whole patron table.  It
 * is dropped where the class reads the relation whole (no mask, no row
 * filter): elsewhere PostgreSQL's own caution with statistics under
 * security quals (extended statistics) is worth keeping.
 */
static bool
reads_whole(RangeTblEntry *rte, const Redaction *red)
{
	const RelPolicy *p;
	RteRules   *r;

	if (red == NULL)
		return true;			/* not redacted */
	p = redact_policy_for(rte->relid);
	if (!p->bound)
		return true;
	r = redact_rules_for(rte->relid, 1, p, red);
	if (r->filters != NIL || r->read_filters != NIL)
		return false;
	for (AttrNumber a = 1; a <= r->natts; a++)
		if (r->masks[a] != NULL)
			return false;
	return true;
}

static bool
drop_preload_guard_walker(Node *node, void *context)
{
	if (node == NULL)
		return false;
	if (IsA(node, RangeTblEntry))
	{
		RangeTblEntry *rte = (RangeTblEntry *) node;
		List	   *kept = NIL;
		ListCell   *lc;

		if (rte->rtekind != RTE_RELATION || rte->securityQuals == NIL ||
			!reads_whole(rte, (const Redaction *) context))
			return false;
		foreach(lc, rte->securityQuals)
		{
			Node	   *qual = lfirst(lc);

			if (!(IsA(qual, FuncExpr) && ((FuncExpr *) qual)->funcid == redact_derived()->fn_preloaded))
				kept = lappend(kept, qual);
		}
		rte->securityQuals = kept;
		return false;
	}
	if (IsA(node, Query))
		return query_tree_walker((Query *) node, drop_preload_guard_walker, context,
								 QTW_EXAMINE_RTES_BEFORE);
	return expression_tree_walker(node, drop_preload_guard_walker, context);
}

/*
 * A query that names no relation at all, has no sublink or CTE and calls no
 * statistics counter: its plan is the same whoever plans it (redaction acts
 * on relations and counters only).  PL/pgSQL's simple expressions (x := x +
 * 1, NEW.col := ...) are such queries, and PL/pgSQL evaluates them on its
 * fast path only if their plan does not depend on the role: marked so, every
 * expression of every PL/pgSQL function (the ILS's triggers, the extension's
 * own) ran through the whole executor, 16 times slower.
 */
static bool
query_role_independent(Query *parse)
{
	ListCell   *lc;

	if (parse->commandType != CMD_SELECT || parse->hasSubLinks || parse->cteList != NIL ||
		parse->utilityStmt != NULL || parse->setOperations != NULL)
		return false;
	foreach(lc, parse->rtable)
		if (((RangeTblEntry *) lfirst(lc))->rtekind != RTE_RESULT)
			return false;
	return !query_tree_walker(parse, redact_calls_counter_walker, NULL, 0);
}

/* The plan reads no relation (checked after planning: inlined functions). */
static bool
plan_reads_no_relation(PlannedStmt *result)
{
	ListCell   *lc;

	if (result->relationOids != NIL)
		return false;
	foreach(lc, result->rtable)
		if (((RangeTblEntry *) lfirst(lc))->rtekind == RTE_RELATION)
			return false;
	return true;
}

static void
add_plan_dependencies(PlannedStmt *result)
{
	int			n;
	const Oid  *config = pals_config_relids(&n);

	/* a plan shaped for one role must not serve another */
	result->dependsOnRole = true;
	/* nor outlive a change of bindings or classes */
	for (int i = 0; i < n; i++)
		if (OidIsValid(config[i]))
			result->relationOids = lappend_oid(result->relationOids, config[i]);
}

/*
 * The rewrite, knowing a custom plan's parameter values (see
 * false_where_hidden in redact_rewrite.c).
 */
static void
redact_with_params(Query *parse, const Redaction *red, ParamListInfo params)
{
	ParamListInfo save = redact_set_bound_params(params);

	PG_TRY();
	{
		redact_level(parse, red);
	}
	PG_FINALLY();
	{
		redact_set_bound_params(save);
	}
	PG_END_TRY();
}

/*
 * Plan a query the rewrite already made for the session's class (a copy's
 * kept rule, redact_copies.c): as the planner hook plans a rewritten query
 * (SQL functions not inlined, the statistics hooks told the class is in
 * force), without rewriting it again.
 */
static PlannedStmt *
redact_plan_rewritten(Query *parse, const char *query_string)
{
	PlannedStmt *volatile result = NULL;
	bool		save_decided = planning_decided;
	bool		save_in_force = planning_in_force;
	Oid			save_user = planning_user;
	Redaction	red;
	bool		in_force = pals_extension_ready() && redaction_applies(&red) &&
		red.class != PALS_CLASS_OPERATIONAL;

	planning_redacted++;
	PG_TRY();
	{
		planning_decided = true;
		planning_in_force = in_force;
		planning_user = GetUserId();
		result = standard_planner(parse, query_string, 0, NULL);
	}
	PG_FINALLY();
	{
		planning_redacted--;
		planning_decided = save_decided;
		planning_in_force = save_in_force;
		planning_user = save_user;
	}
	PG_END_TRY();
	return result;
}

PlannedStmt *
pals_redact_planner(Query *parse, const char *query_string, int cursorOptions,
					ParamListInfo boundParams, planner_hook_type next)
{
	Redaction	red;
	bool		ready = pals_extension_ready();
	bool		active = ready && redaction_applies(&red);
	PlannedStmt *volatile result = NULL;
	List	   *rule_relids = NIL;
	bool		independent = ready && query_role_independent(parse);
	bool		save_decided = planning_decided;
	bool		save_in_force = planning_in_force;
	Oid			save_user = planning_user;

	if (ready && pals_preloaded())
		query_tree_walker(parse, drop_preload_guard_walker, active ? (void *) &red : NULL,
						  QTW_EXAMINE_RTES_BEFORE);
	if (ready && !active && redact_reads_statistics_walker((Node *) parse, NULL))
		query_tree_mutator(parse, redact_row_security_mutator, NULL, QTW_DONT_COPY_QUERY);
	if (active)
	{
		redact_with_params(parse, &red, boundParams);
		rule_relids = redact_copy_rule_relids(parse);
		if (red.class != PALS_CLASS_OPERATIONAL &&
			query_tree_walker(parse, redact_calls_counter_walker, NULL, 0))
			query_tree_mutator(parse, redact_counters_mutator, NULL, QTW_DONT_COPY_QUERY);
		planning_redacted++;
	}
	PG_TRY();
	{
		planning_decided = true;
		planning_in_force = active && red.class != PALS_CLASS_OPERATIONAL;
		planning_user = GetUserId();
		result = next(parse, query_string, cursorOptions, boundParams);
	}
	PG_FINALLY();
	{
		if (active)
			planning_redacted--;
		planning_decided = save_decided;
		planning_in_force = save_in_force;
		planning_user = save_user;
	}
	PG_END_TRY();
	if (ready && !(independent && plan_reads_no_relation(result)))
		add_plan_dependencies(result);
	/* the copy rules it calls read their sources with a plan of their own */
	if (rule_relids != NIL)
		result->relationOids = list_concat(result->relationOids, rule_relids);
	return result;
}

/*
 * Row counts of a plan on a bound relation count the rows the security
 * quals removed: how many loans patron 42 has behind a mask.  The executor
 * is where every way of asking for them meets.  For a redacted class, an
 * instrumented plan on a bound relation is refused inside EXPLAIN (however
 * it is reached: EXECUTE, CREATE TABLE AS, a function), and stripped of its
 * instrumentation elsewhere (auto_explain with log_analyze then logs the
 * plan without row counts).  An instrumentation switched on by a hook that
 * runs after ours (auto_explain listed before pals_privacy) cannot be taken
 * back: refused.  Plain EXPLAIN is fine.
 */
static int	explain_depth = 0;

static bool
plan_reads_bound(PlannedStmt *stmt)
{
	ListCell   *lc;

	foreach(lc, stmt->rtable)
	{
		RangeTblEntry *rte = lfirst(lc);

		if (rte->rtekind == RTE_RELATION && rte->relkind != RELKIND_VIEW &&
			(redact_policy_for(rte->relid)->bound || redact_bound_below(rte->relid)))
			return true;
		/* a bound view: its *OLD* entry (15), its subquery entry (16+) */
		if (rte->relkind == RELKIND_VIEW && OidIsValid(rte->relid) && redact_policy_for(rte->relid)->bound)
			return true;
	}
	return false;
}

static void
guard_row_counts(QueryDesc *qd, bool before)
{
	Redaction	red;

	if (qd->instrument_options == 0 || !pals_extension_ready() || !redaction_applies(&red) ||
		red.class == PALS_CLASS_OPERATIONAL || !plan_reads_bound(qd->plannedstmt))
		return;
	if (before && explain_depth == 0)
	{
		qd->instrument_options = 0;
		return;
	}
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("EXPLAIN ANALYZE of a query on a bound relation is not allowed for privacy class %s",
					pals_class_name(red.class)),
			 errdetail("Its row counts would count rows the class may not see."),
			 explain_depth > 0 ? errhint("Use EXPLAIN without ANALYZE, or ask an operational role.")
			 : errhint("A module loaded before pals_privacy instruments the plan (auto_explain with log_analyze?): "
					   "list pals_privacy first in shared_preload_libraries.")));
}

/*
 * A serializable transaction predicate-locks every tuple an index scan
 * fetches, before any qual runs: the hidden loans of patron 42 that a
 * probe on patron_id = 42 meets and the security quals then remove, and
 * the tracker pages _last_borrower() reads for them.  pg_locks shows those
 * SIReadLocks (relation, page, tuple) to every role of the cluster, from
 * any database, for as long as the transaction lives: which rows hold 42,
 * and by a probe on the key, which loans they are.  No filter of pg_locks
 * in this database can hide them from a session in another, so for a
 * redacted class a query on a bound relation is refused in serializable
 * isolation (repeatable read gives the same snapshot without the locks).
 */
static void
guard_predicate_locks(QueryDesc *qd, int eflags)
{
	Redaction	red;

	if (!IsolationIsSerializable() || (eflags & EXEC_FLAG_EXPLAIN_ONLY) || !pals_extension_ready() || !redaction_applies(&red) ||
		red.class == PALS_CLASS_OPERATIONAL || !plan_reads_bound(qd->plannedstmt))
		return;
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("a serializable transaction may not read bound relations for privacy class %s",
					pals_class_name(red.class)),
			 errdetail("Serializable isolation predicate-locks the rows its scans meet, rows the class may not see "
					   "too, and pg_locks shows those locks to every role."),
			 errhint("Use REPEATABLE READ or READ COMMITTED for this role's transactions.")));
}

void
pals_redact_executor_start(QueryDesc *qd, int eflags, ExecutorStart_hook_type next)
{
	guard_predicate_locks(qd, eflags);
	guard_row_counts(qd, true);
	next(qd, eflags);
	/* a hook that ran after ours may have turned row counts on */
	guard_row_counts(qd, false);
}

/*
 * A SQL function inlined into a query would escape the rewrite (inlining
 * happens inside the planner).  While planning a redacted query, SQL
 * functions ask for the fmgr hook, which keeps them from being inlined:
 * they run as functions, and their own statements are planned (and
 * redacted) when they run.
 */
bool
pals_redact_needs_fmgr(Oid fn)
{
	return planning_redacted > 0 && redact_is_sql_function(fn);
}

/*
 * Integrity errors echo stored values in their DETAIL ("Key (patron_id,
 * item_id)=(42, 7) already exists", "Failing row contains (...)"): a
 * redacted session gets the message without it (on bound tables PostgreSQL
 * writes no values into it at all: row security is on).
 * (Row security on bound tables keeps them out at the source, for roles
 * that do not own the table; this covers the rest.)
 */
void
pals_redact_emit_log(ErrorData *edata)
{
	if (last_class != PALS_CLASS_OPERATIONAL)
	{
		if (edata->elevel >= ERROR && edata->detail != NULL &&
			ERRCODE_TO_CATEGORY(edata->sqlerrcode) == ERRCODE_INTEGRITY_CONSTRAINT_VIOLATION)
		{
			if (edata->detail_log == NULL)
				edata->detail_log = edata->detail;
			edata->detail = NULL;
		}
		/*
		 * Server log messages stay in the server log, even with
		 * client_min_messages = log: auto_explain's EXPLAIN ANALYZE output
		 * (per-node row counts) is one of them.
		 */
		if (edata->elevel == LOG)
			edata->output_to_client = false;
	}
}

/*
 * Row security, which binding turns on, makes PostgreSQL refuse COPY FROM
 * for every role but the table's owner ("COPY FROM not supported with
 * row-level security"), and the ILS's bulk loads with it.  Where the
 * table's row security is only pals_privacy's (pass-through, and the
 * preload guard this backend satisfies) and the class may write every row
 * (no row filter: not the patron class, say), the COPY is run here as
 * PostgreSQL runs it (same permission checks, as the calling role; its
 * triggers fire), without that refusal: from STDIN, or from a server file
 * or program for a role PostgreSQL lets read one (pg_read_server_files,
 * pg_execute_server_program).  Anything else keeps it.
 */
static bool
copy_from_bound(CopyStmt *stmt, const char *queryString, QueryEnvironment *queryEnv,
				QueryCompletion *qc)
{
	Oid			relid;
	Relation	rel;
	ParseState *pstate;
	ParseNamespaceItem *nsitem;
	Node	   *where = NULL;
	CopyFromState cstate;
	uint64		processed;
	Redaction	red;
	const RelPolicy *p;

	if (!stmt->is_from || stmt->relation == NULL || superuser() ||
		!pals_preloaded() || !pals_extension_ready())
		return false;
	/* a server file or program: only for the roles PostgreSQL lets (else its own error) */
	if (stmt->filename != NULL &&
		!has_privs_of_role(GetUserId(), stmt->is_program ? ROLE_PG_EXECUTE_SERVER_PROGRAM
						   : ROLE_PG_READ_SERVER_FILES))
		return false;
	relid = RangeVarGetRelid(stmt->relation, RowExclusiveLock, true);
	if (!OidIsValid(relid) || !(p = redact_policy_for(relid))->bound ||
		check_enable_rls(relid, InvalidOid, true) != RLS_ENABLED)
		return false;
	red.class = PALS_CLASS_OPERATIONAL;
	red.purpose = NULL;
	if (redaction_applies(&red))
	{
		RteRules   *r = redact_rules_for(relid, 1, p, &red);

		if (r->filters != NIL || r->read_filters != NIL)
			return false;
	}
	rel = table_open(relid, NoLock);
	if (!redact_only_our_row_security(rel))
	{
		table_close(rel, NoLock);
		return false;
	}

	/* what DoCopy does for COPY ... FROM (STDIN, a file, a program), less the row-security refusal */
	pstate = make_parsestate(NULL);
	pstate->p_sourcetext = queryString;
	pstate->p_queryEnv = queryEnv;
	nsitem = addRangeTableEntryForRelation(pstate, rel, RowExclusiveLock, NULL, false, false);
	if (stmt->whereClause)
	{
		addNSItemToQuery(pstate, nsitem, false, true, true);
		where = transformExpr(pstate, stmt->whereClause, EXPR_KIND_COPY_WHERE);
		where = coerce_to_boolean(pstate, where, "WHERE");
		assign_expr_collations(pstate, where);
		where = eval_const_expressions(NULL, where);
		where = (Node *) canonicalize_qual((Expr *) where, false);
		where = (Node *) make_ands_implicit((Expr *) where);
	}
	pals_check_insert_permission(pstate, nsitem, CopyGetAttnums(RelationGetDescr(rel), rel, stmt->attlist));
	if (XactReadOnly && !rel->rd_islocaltemp)
		PreventCommandIfReadOnly("COPY FROM");
	cstate = BeginCopyFrom(pstate, rel, where, stmt->filename, stmt->is_program, NULL, stmt->attlist,
						   stmt->options);
	processed = CopyFrom(cstate);
	EndCopyFrom(cstate);
	table_close(rel, NoLock);
	free_parsestate(pstate);
	if (qc)
		SetQueryCompletion(qc, CMDTAG_COPY, processed);
	return true;
}

/* EXPLAIN, with explain_depth telling the executor hook it is inside one */
static void
explain_utility(PALS_UTILITY_PARAMS, ProcessUtility_hook_type next)
{
	explain_depth++;
	PG_TRY();
	{
		next(PALS_UTILITY_ARGS);
	}
	PG_FINALLY();
	{
		explain_depth--;
	}
	PG_END_TRY();
}

/*
 * COPY table TO reads the table without the planner; for a redacted class
 * it becomes COPY (SELECT columns FROM ONLY table) TO, as PostgreSQL does
 * itself for row-level security.
 */
void
pals_redact_utility(PALS_UTILITY_PARAMS, ProcessUtility_hook_type next)
{
	Node	   *stmt = pstmt->utilityStmt;
	Redaction	red;
	bool		applies;

	/*
	 * Transaction control and SET must not run a query of ours first: it
	 * would take the transaction's snapshot, and BEGIN ISOLATION LEVEL or
	 * SET TRANSACTION ISOLATION LEVEL would then fail.
	 */
	if (IsA(stmt, TransactionStmt) || IsA(stmt, VariableSetStmt) || IsA(stmt, VariableShowStmt))
	{
		next(PALS_UTILITY_ARGS);
		return;
	}
	/* notes the session's class for every other statement (see emit_log) */
	applies = pals_extension_ready() && redaction_applies(&red);

	if (IsA(stmt, CopyStmt) && context == PROCESS_UTILITY_TOPLEVEL &&
		copy_from_bound((CopyStmt *) stmt, queryString, queryEnv, qc))
		return;

	if (applies && IsA(stmt, CopyStmt) && !((CopyStmt *) stmt)->is_from &&
		((CopyStmt *) stmt)->relation != NULL)
	{
		CopyStmt   *copy = (CopyStmt *) stmt;
		Oid			relid = RangeVarGetRelid(copy->relation, AccessShareLock, false);

		if (redact_policy_for(relid)->bound)
		{
			SelectStmt *select = makeNode(SelectStmt);
			RangeVar   *from;
			ListCell   *lc;

			pstmt = copyObject(pstmt);
			copy = (CopyStmt *) pstmt->utilityStmt;
			if (copy->attlist == NIL)
			{
				ColumnRef  *cr = makeNode(ColumnRef);
				ResTarget  *target = makeNode(ResTarget);

				cr->fields = list_make1(makeNode(A_Star));
				cr->location = -1;
				target->val = (Node *) cr;
				target->location = -1;
				select->targetList = list_make1(target);
			}
			foreach(lc, copy->attlist)
			{
				ColumnRef  *cr = makeNode(ColumnRef);
				ResTarget  *target = makeNode(ResTarget);

				cr->fields = list_make1(lfirst(lc));
				cr->location = -1;
				target->name = pstrdup(strVal(lfirst(lc)));
				target->val = (Node *) cr;
				target->location = -1;
				select->targetList = lappend(select->targetList, target);
			}
			from = makeRangeVar(get_namespace_name(get_rel_namespace(relid)),
								get_rel_name(relid), -1);
			from->inh = false;	/* COPY table TO copies that table only */
			select->fromClause = list_make1(from);
			copy->relation = NULL;
			copy->attlist = NIL;
			copy->query = (Node *) select;
			readOnlyTree = false;
		}
	}
	if (IsA(stmt, ExplainStmt))
		explain_utility(PALS_UTILITY_ARGS, next);
	else
		next(PALS_UTILITY_ARGS);
}

void
pals_redact_init(void)
{
	redact_copies_init(redact_plan_rewritten);
	CacheRegisterRelcacheCallback(redact_relcache_callback, (Datum) 0);
}
