/*
 * conditions.c
 *     "Closed" and "settled" of a loan binding as conditions over the row
 *     (closed_when, settled_when), not only columns: a lost loan that was
 *     paid is closed although its return column stays NULL.
 *
 *     A condition is SQL text over the bare column names of the bound
 *     relation.  It is parsed here, by one function, for every user of it:
 *     bind_loans() validates it (and the SQL of the extension gets it back
 *     deparsed, with its columns qualified by an alias of the caller's
 *     choice), the severing trigger evaluates it on the row it fired for,
 *     and redaction puts it into the rewritten query.  So the three agree.
 *
 *     What a condition may use is what a CHECK constraint may use (no
 *     subqueries, aggregates, window or set-returning functions), and only
 *     what is immutable: redaction evaluates it in the reading session, so
 *     nothing the reader's settings or clock change may decide it, and its
 *     literals are read under fixed settings.  It is parsed with pg_catalog
 *     alone as search path, so any function of another schema must be
 *     schema-qualified.
 */
#include "pals_privacy.h"

#include "access/relation.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "parser/parse_coerce.h"
#include "parser/parse_collate.h"
#include "parser/parse_expr.h"
#include "parser/parse_node.h"
#include "parser/parse_relation.h"
#include "parser/parser.h"
#include "rewrite/rewriteManip.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/ruleutils.h"

PG_FUNCTION_INFO_V1(pals_privacy_condition_sql);

typedef struct ConditionContext
{
	const char *what;
	Oid			relid;
} ConditionContext;

static void
condition_error_context(void *arg)
{
	ConditionContext *c = (ConditionContext *) arg;

	errcontext("%s of relation \"%s\"", c->what, get_rel_name(c->relid));
}

/*
 * Parse a condition over the columns of relid into a boolean expression
 * whose Vars have varno 1.  Errors say what is wrong.
 */
static Node *
parse_condition(Oid relid, const char *condition, const char *what)
{
	char	   *sql = psprintf("SELECT (%s)", condition);
	List	   *raw;
	SelectStmt *select;
	ResTarget  *target;
	Relation	rel;
	ParseState *pstate;
	ParseNamespaceItem *nsitem;
	Node	   *expr;
	ConditionContext ctx = {what, relid};
	int			fixed_settings = -1;
	ErrorContextCallback callback;

	callback.callback = condition_error_context;
	callback.arg = &ctx;
	callback.previous = error_context_stack;
	error_context_stack = &callback;

	raw = raw_parser(sql, RAW_PARSE_DEFAULT);
	select = list_length(raw) == 1 && IsA(linitial_node(RawStmt, raw)->stmt, SelectStmt)
		? (SelectStmt *) linitial_node(RawStmt, raw)->stmt : NULL;
	if (select == NULL || list_length(select->targetList) != 1 || select->fromClause != NIL ||
		select->whereClause != NULL || select->groupClause != NIL || select->havingClause != NULL ||
		select->windowClause != NIL || select->sortClause != NIL || select->limitCount != NULL ||
		select->limitOffset != NULL || select->distinctClause != NIL || select->intoClause != NULL ||
		select->withClause != NULL || select->valuesLists != NIL || select->lockingClause != NIL ||
		select->op != SETOP_NONE)
		ereport(ERROR,
				(errcode(ERRCODE_SYNTAX_ERROR),
				 errmsg("%s is not one expression: %s", what, condition),
				 errhint("Give a condition over the columns of the row, such as "
						 "stop_reason IN ('LOST', 'CLAIMSRETURNED') AND finished IS NOT NULL.")));
	target = linitial_node(ResTarget, select->targetList);

	/*
	 * A literal is read by its type's input function as it is parsed, under
	 * the session's settings ('2025-03-10' as a timestamptz is midnight in
	 * the session's TimeZone, '01/02/2025' a day in its DateStyle), and the
	 * condition is parsed again in every session that reads or severs the
	 * rows: a reader could move what the condition says by its own settings.
	 * So literals are read under fixed ones (UTC, ISO with MDY, postgres).
	 */
	if (strpbrk(condition, "'$") != NULL)
	{
		fixed_settings = NewGUCNestLevel();
		(void) set_config_option("TimeZone", "UTC", PGC_USERSET, PGC_S_SESSION,
								 GUC_ACTION_SAVE, true, 0, false);
		(void) set_config_option("DateStyle", "ISO, MDY", PGC_USERSET, PGC_S_SESSION,
								 GUC_ACTION_SAVE, true, 0, false);
		(void) set_config_option("IntervalStyle", "postgres", PGC_USERSET, PGC_S_SESSION,
								 GUC_ACTION_SAVE, true, 0, false);
	}

	rel = relation_open(relid, AccessShareLock);
	pstate = make_parsestate(NULL);
	pstate->p_sourcetext = sql;
	nsitem = addRangeTableEntryForRelation(pstate, rel, AccessShareLock, NULL, false, true);
	addNSItemToQuery(pstate, nsitem, true, true, true);
	expr = transformExpr(pstate, target->val, EXPR_KIND_CHECK_CONSTRAINT);
	expr = coerce_to_boolean(pstate, expr, what);
	assign_expr_collations(pstate, expr);
	if (contain_volatile_functions(expr))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must not call volatile functions: %s", what, condition),
				 errdetail("It is evaluated again whenever the row is read or severed, and must give the same answer.")));

	/*
	 * Nor anything stable: redaction evaluates the condition in the reading
	 * session, whose TimeZone, DateStyle, locale and clock are the reader's.
	 * A stable operator such as date >= timestamptz (settled when paid on
	 * the day of the return) was true under the ILS's TimeZone and false
	 * under the one a staff session set, and the hidden rows read as
	 * unsettled, with their patron.
	 */
	if (contain_mutable_functions(expr))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must not depend on the session's settings or the time: %s", what, condition),
				 errdetail("Redaction evaluates it in the reading session: a stable function or operator "
						   "(a date compared with a timestamp with time zone, a cast to text, now()) "
						   "gives the answer the reader's TimeZone, DateStyle or clock makes it give."),
				 errhint("Compare values of one type, or convert them with an immutable expression such as "
						 "(ended_at AT TIME ZONE 'UTC')::date.")));
	if (fixed_settings >= 0)
		AtEOXact_GUC(true, fixed_settings);
	free_parsestate(pstate);
	relation_close(rel, NoLock);

	error_context_stack = callback.previous;
	return expr;
}

/* The condition text of "closed" (closed_when) or "settled" (settled_when); NULL if none. */
static char *
condition_text(const LoanBinding *b, bool closed)
{
	StringInfoData s;

	if (closed ? b->closed_when == NULL : b->settled_when == NULL)
		return NULL;
	initStringInfo(&s);
	if (!closed)
	{
		appendStringInfo(&s, "(%s) IS TRUE", b->settled_when);
		return s.data;
	}
	/* closed when the condition holds and a closed column dates it */
	appendStringInfo(&s, "(%s) IS TRUE AND (", b->closed_when);
	for (int i = 0; i < b->nclosed; i++)
		appendStringInfo(&s, "%s%s IS NOT NULL", i ? " OR " : "", quote_identifier(b->closed_columns[i]));
	appendStringInfoChar(&s, ')');
	return s.data;
}

/*
 * The binding's closed (or settled) condition over relation relid (the
 * bound relation, a partition or a child), with Vars of the given varno;
 * NULL when the binding has no such condition (its columns decide).
 */
Expr *
pals_loan_condition(const LoanBinding *b, bool closed, Oid relid, Index varno)
{
	char	   *text = condition_text(b, closed);
	int			nestlevel;
	Node	   *expr;

	if (text == NULL)
		return NULL;
	nestlevel = pals_safe_search_path();
	expr = parse_condition(relid, text, closed ? "closed_when" : "settled_when");
	pals_restore_search_path(nestlevel);
	if (varno != 1)
		ChangeVarNodes(expr, 1, varno, 0);
	return (Expr *) expr;
}

/*
 * Any other condition a binding gives over the rows of relid (a copy's
 * current_when), with Vars of the given varno.
 */
Expr *
pals_row_condition(const char *condition, const char *what, Oid relid, Index varno)
{
	int			nestlevel = pals_safe_search_path();
	Node	   *expr = parse_condition(relid, condition, what);

	pals_restore_search_path(nestlevel);
	if (varno != 1)
		ChangeVarNodes(expr, 1, varno, 0);
	return (Expr *) expr;
}

/* The same as SQL over a row alias (for the extension's own statements). */
char *
pals_loan_condition_sql(const LoanBinding *b, bool closed, Oid relid, const char *alias)
{
	Expr	   *expr = pals_loan_condition(b, closed, relid, 1);
	int			nestlevel;
	char	   *sql;

	if (expr == NULL)
		return NULL;
	nestlevel = pals_safe_search_path();
	sql = deparse_expression((Node *) expr, deparse_context_for(alias, relid), true, false);
	pals_restore_search_path(nestlevel);
	return psprintf("(%s)", sql);
}

/*
 * Redaction's "current account" of a loan row under conditions: open (not
 * closed) or not settled.  NIL when the binding has no condition.
 */
List *
pals_loan_current_quals(const LoanBinding *b, Oid relid, Index varno)
{
	List	   *quals = NIL;
	Expr	   *closed;
	Expr	   *settled;

	if (b->closed_when == NULL && b->settled_when == NULL)
		return NIL;
	closed = pals_loan_condition(b, true, relid, varno);
	if (closed == NULL)
	{
		/* the columns decide: closed when any of them is set */
		List	   *any = NIL;

		for (int i = 0; i < b->nclosed; i++)
		{
			NullTest   *n = makeNode(NullTest);

			n->arg = (Expr *) pals_bound_var(relid, b->closed_columns[i], varno, 0);
			n->nulltesttype = IS_NOT_NULL;
			n->location = -1;
			any = lappend(any, n);
		}
		closed = list_length(any) == 1 ? linitial(any) : makeBoolExpr(OR_EXPR, any, -1);
	}
	quals = lappend(quals, makeBoolExpr(NOT_EXPR, list_make1(closed), -1));
	settled = pals_loan_condition(b, false, relid, varno);
	if (settled == NULL && b->settled_column != NULL)
	{
		NullTest   *n = makeNode(NullTest);

		n->arg = (Expr *) pals_bound_var(relid, b->settled_column, varno, 0);
		n->nulltesttype = IS_NOT_NULL;
		n->location = -1;
		settled = (Expr *) n;
	}
	if (settled != NULL)
		quals = lappend(quals, makeBoolExpr(NOT_EXPR, list_make1(settled), -1));
	return quals;
}

/*
 * The patron's reading-history opt-in over the patron row under alias, as
 * SQL that is never NULL: the boolean column, or keep_history_when (a
 * smallint privacy flag: 'privacy = 0').  The same as _optin_sql() in SQL.
 */
char *
pals_patron_optin_sql(const PatronBinding *p, const char *alias)
{
	int			nestlevel;
	Node	   *expr;
	char	   *sql;

	if (p->keep_history_column == NULL)
		return pstrdup("false");
	if (p->keep_history_when == NULL)
		return psprintf("coalesce(%s.%s, false)", quote_identifier(alias),
						quote_identifier(p->keep_history_column));
	nestlevel = pals_safe_search_path();
	expr = parse_condition(p->relid, p->keep_history_when, "keep_history_when");
	sql = deparse_expression(expr, deparse_context_for(alias, p->relid), true, false);
	pals_restore_search_path(nestlevel);
	return psprintf("coalesce((%s), false)", sql);
}

/*
 * pals_privacy._condition_sql(rel regclass, condition text, alias text, what text)
 * The condition parsed and checked against the relation, as SQL with its
 * columns qualified by alias.  Used by bind_loans() to validate, and by the
 * extension's SQL to build its statements.
 */
Datum
pals_privacy_condition_sql(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	char	   *condition = text_to_cstring(PG_GETARG_TEXT_PP(1));
	char	   *alias = text_to_cstring(PG_GETARG_TEXT_PP(2));
	char	   *what = text_to_cstring(PG_GETARG_TEXT_PP(3));
	int			nestlevel = pals_safe_search_path();
	Node	   *expr = parse_condition(relid, condition, what);
	char	   *sql = deparse_expression(expr, deparse_context_for(alias, relid), true, false);

	pals_restore_search_path(nestlevel);
	PG_RETURN_TEXT_P(cstring_to_text(psprintf("(%s)", sql)));
}
