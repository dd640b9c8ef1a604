/*
 * redact_rewrite.c
 *     The rewrite of the query tree the planner receives, for a redacted
 *     class: masked columns replaced wherever the query reads them, row
 *     filters added as security quals, masked conditions turned back into
 *     indexable ones where that is safe, writes held to the rows the class
 *     reads whole, unbound inheritance parents read through their bound
 *     children's rules, relations the class reads no row of not read at all,
 *     statistics (pg_statistic rows, counters) of bound relations hidden,
 *     and their system columns (xmin, ctid ...) read as NULL.
 *     The rules come from redact_policy.c; redact_hooks.c calls
 *     redact_level from the planner hook.  The files of the mechanism:
 *     redact_internal.h.
 */
#include "redact_internal.h"

#include "access/transam.h"
#include "catalog/pg_aggregate.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_statistic.h"
#include "catalog/pg_statistic_ext_data.h"
#include "executor/spi.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "optimizer/planner.h"
#include "parser/parse_relation.h"
#include "parser/parsetree.h"
#include "rewrite/rewriteManip.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"

/* ----------------------------------------------------------------------
 * The query rewrite
 * ---------------------------------------------------------------------- */

/* The view a subquery entry was expanded from (how to tell differs by version: compat.c). */
static Oid
expanded_view(RangeTblEntry *rte)
{
	return pals_expanded_view(rte);
}

/* The relation a range table entry reads: a table, or an expanded view. */
static Oid
read_relid(RangeTblEntry *rte)
{
	if (rte->rtekind == RTE_RELATION)
		return rte->relkind == RELKIND_VIEW ? InvalidOid : rte->relid;
	return expanded_view(rte);
}

typedef struct MaskContext
{
	RteRules  **rules;			/* by range table index, NULL: untouched */
	bool	   *system_hidden;	/* by range table index: see hidden_system_column */
	int			nrtes;
	int			sublevels_up;
	List	   *rtable;			/* of the level being rewritten */
} MaskContext;

/* ----------------------------------------------------------------------
 * System columns of bound relations
 *
 * xmin, xmax, cmin and cmax say which transaction (and which command in
 * it) wrote or locked a row: a loan severed by a return and the fine that
 * return unlinked carry the same xmin, and so do a loan kept in place and
 * the payment taken in the transaction that settled it, so equal xmins pair
 * a hidden row with one that names its patron (age(xmin) and
 * pg_xact_commit_timestamp(xmin) turn it into a time).  ctid is the row's
 * physical place, which follows the order rows were written in, and
 * physical order pairs rows as well as time does.  For every class but
 * operational, these columns of a bound relation (a source, a copy, an
 * account, the patrons, private history: any relation the class reads under
 * rules, the target of an INSERT too) read as NULL wherever the query names
 * them, like a masked column: the ILS (operational) keeps them (an ORM's
 * optimistic locking on xmin), a report that selects them keeps running,
 * and a condition on them matches nothing.  tableoid, which partition a row
 * is in, is left: the partition key is a column the class reads anyway.
 * The rules' own calls (the last-borrower test reads tableoid and ctid) are
 * added after this rewrite and read the stored values.
 * ---------------------------------------------------------------------- */
static bool
hidden_system_column(const MaskContext *mc, const Var *v)
{
	return v->varattno < 0 && v->varattno != TableOidAttributeNumber &&
		(int) v->varlevelsup == mc->sublevels_up && v->varno >= 1 && v->varno <= mc->nrtes &&
		mc->system_hidden[v->varno];
}

static Expr *
at_level(Expr *e, int sublevels_up)
{
	e = copyObject(e);
	if (sublevels_up > 0)
		IncrementVarSublevelsUp((Node *) e, sublevels_up, 0);
	return e;
}

/* Does the query read a masked column (or a whole row) of a rewritten relation? */
static bool
reads_masked_walker(Node *node, MaskContext *mc)
{
	if (node == NULL)
		return false;
	if (IsA(node, Var))
	{
		Var		   *v = (Var *) node;
		RteRules   *r;

		if (hidden_system_column(mc, v))
			return true;
		return (int) v->varlevelsup == mc->sublevels_up && v->varno >= 1 && v->varno <= mc->nrtes &&
			(r = mc->rules[v->varno]) != NULL && v->varattno >= 0 && v->varattno <= r->natts &&
			(v->varattno == 0 || r->masks[v->varattno] != NULL);
	}
	if (IsA(node, Query))
	{
		bool		found;

		mc->sublevels_up++;
		found = query_tree_walker((Query *) node, reads_masked_walker, mc, 0);
		mc->sublevels_up--;
		return found;
	}
	return expression_tree_walker(node, reads_masked_walker, mc);
}

/*
 * Is node "column IS [NOT] NULL" on a column whose mask reads NULL exactly
 * where the column is NULL (a closed time read coarsened: see
 * redact_mask_keeps_nulls in redact_policy.c)?  The mask's test and the
 * column's answer alike on every row, so the test is left on the stored
 * column: WHERE returned_at IS NULL (a desk's open loans) is then a
 * condition the planner can match to a partial index WHERE returned_at IS
 * NULL, prune partitions by, and prove a patron mask's condition from
 * (hidden_excluded), instead of a test of the mask on every row.
 */
static bool
null_test_kept(Node *node, MaskContext *mc)
{
	NullTest   *t;
	Var		   *v;
	RteRules   *r;

	if (!IsA(node, NullTest))
		return false;
	t = (NullTest *) node;
	if (t->argisrow || t->arg == NULL || !IsA(t->arg, Var))
		return false;
	v = (Var *) t->arg;
	return (int) v->varlevelsup == mc->sublevels_up && v->varno >= 1 && v->varno <= mc->nrtes &&
		(r = mc->rules[v->varno]) != NULL && v->varattno > 0 &&
		redact_mask_keeps_nulls(r, v->varattno);
}

static Node *
mask_mutator(Node *node, MaskContext *mc)
{
	if (node == NULL)
		return NULL;
	if (null_test_kept(node, mc))
		return (Node *) copyObject(node);
	if (IsA(node, Var))
	{
		Var		   *v = (Var *) node;
		RteRules   *r;

		if (hidden_system_column(mc, v))
			return (Node *) makeNullConst(v->vartype, v->vartypmod, v->varcollid);
		if ((int) v->varlevelsup != mc->sublevels_up || v->varno < 1 || v->varno > mc->nrtes ||
			(r = mc->rules[v->varno]) == NULL || v->varattno < 0)
			return (Node *) copyObject(v);
		if (v->varattno > 0)
		{
			if (v->varattno > r->natts || r->masks[v->varattno] == NULL)
				return (Node *) copyObject(v);
			return (Node *) at_level(r->masks[v->varattno], mc->sublevels_up);
		}
		else
		{
			/* whole row: rebuild it from the masked columns */
			RowExpr    *row = makeNode(RowExpr);
			List	   *names = NIL;
			List	   *vars = NIL;
			ListCell   *lc;

			pals_expand_rte(rt_fetch(v->varno, mc->rtable), v->varno, 0, -1, true, &names, &vars);
			foreach(lc, vars)
			{
				Node	   *col = lfirst(lc);

				if (IsA(col, Var) && ((Var *) col)->varattno <= r->natts &&
					r->masks[((Var *) col)->varattno] != NULL)
					col = (Node *) r->masks[((Var *) col)->varattno];
				row->args = lappend(row->args, at_level((Expr *) col, mc->sublevels_up));
			}
			row->row_typeid = v->vartype;
			row->row_format = COERCE_IMPLICIT_CAST;
			row->colnames = v->vartype == RECORDOID ? names : NIL;
			row->location = -1;
			return (Node *) row;
		}
	}
	if (IsA(node, Query))
	{
		Query	   *q;

		mc->sublevels_up++;
		q = query_tree_mutator((Query *) node, mask_mutator, mc, QTW_DONT_COPY_QUERY);
		mc->sublevels_up--;
		return (Node *) q;
	}
	return expression_tree_mutator(node, mask_mutator, mc);
}

/* ----------------------------------------------------------------------
 * Masked conditions rewritten so that indexes still serve.
 *
 * WHERE mask(patron) = 42, with mask(patron) = CASE WHEN may_see THEN
 * patron END, can use no index on patron.  But a strict operator is true
 * only on a non-NULL mask, that is where may_see holds and on the stored
 * value: mask(x) op y is exactly may_see AND x op y (see unmask_quals for
 * where that may be used).
 * ---------------------------------------------------------------------- */

static bool
is_mask(Node *node)
{
	return node != NULL && IsA(node, CaseExpr) &&
		((CaseExpr *) node)->location == PALS_MASK_LOCATION;
}

static bool
contains_mask_walker(Node *node, void *context)
{
	if (node == NULL)
		return false;
	if (is_mask(node))
		return true;
	return expression_tree_walker(node, contains_mask_walker, context);
}

static bool
is_null_const(Node *node)
{
	return node == NULL || (IsA(node, Const) && ((Const *) node)->constisnull);
}

/* The column a mask hides, in place of the mask. */
static Node *
strip_masks_mutator(Node *node, void *context)
{
	if (node == NULL)
		return NULL;
	if (is_mask(node))
		return copyObject((Node *) ((CaseWhen *) linitial(((CaseExpr *) node)->args))->result);
	return expression_tree_mutator(node, strip_masks_mutator, context);
}

/* The condition under which a mask shows its column. */
static bool
mask_conditions_walker(Node *node, List **conditions)
{
	if (node == NULL)
		return false;
	if (is_mask(node))
	{
		*conditions = lappend(*conditions,
							  copyObject(((CaseWhen *) linitial(((CaseExpr *) node)->args))->expr));
		return false;
	}
	return expression_tree_walker(node, mask_conditions_walker, conditions);
}

/* Does an expression refer to an enclosing query (a correlated condition)? */
static bool
outer_reference_walker(Node *node, void *context)
{
	if (node == NULL)
		return false;
	if (IsA(node, Var))
		return ((Var *) node)->varlevelsup > 0;
	return expression_tree_walker(node, outer_reference_walker, context);
}

/*
 * The parameters of the statement being planned (pals_redact_planner): a
 * custom plan's values, which the planner may fold in as constants.
 */
static ParamListInfo bound_params = NULL;

ParamListInfo
redact_set_bound_params(ParamListInfo params)
{
	ParamListInfo old = bound_params;

	bound_params = params;
	return old;
}

/* Each mask in place of what it reads where it hides (its defresult). */
static Node *
hidden_reading_mutator(Node *node, void *context)
{
	if (node == NULL)
		return NULL;
	if (is_mask(node))
		return copyObject((Node *) ((CaseExpr *) node)->defresult);
	return expression_tree_mutator(node, hidden_reading_mutator, context);
}

/* A function not built in (see false_where_hidden). */
static bool
user_function_checker(Oid func_id, void *context)
{
	return func_id >= FirstNormalObjectId;
}

/* Does the expression call a function that is not built in? */
static bool
user_function_walker(Node *node, void *context)
{
	if (node == NULL)
		return false;
	if (check_functions_in_node(node, user_function_checker, context))
		return true;
	return expression_tree_walker(node, user_function_walker, context);
}

/*
 * Is condition c false (or NULL) wherever its masks hide, whatever the row?
 * A mask that reads what severing writes (the placeholder patron, see
 * mask_severed in redact_policy.c) is not NULL there: WHERE patron_id = 0
 * (the placeholder) is true on every hidden row, and must be evaluated on
 * the mask, never turned into <may see> AND patron_id = 0 (which would read
 * the severed rows but not those kept identified).  patron_id = 42 is false
 * there, decided now from the constants (and a custom plan's parameters).
 */
static bool
false_where_hidden(Node *c)
{
	PlannerGlobal *glob = makeNode(PlannerGlobal);
	PlannerInfo *root = makeNode(PlannerInfo);
	Node	   *v;

	/*
	 * The condition is evaluated here, then again by the planner and the
	 * executor: only a built-in function is sure to answer the same each
	 * time.  One a session may create (in pg_temp) can be declared IMMUTABLE
	 * and answer 42 here and the placeholder later, which would make the
	 * security qual read the severed rows but not those kept identified
	 * (test attack_sameread2): such a condition is read on the mask.  (The
	 * masks, which call the extension's own functions, are out of it by
	 * then: each reads its placeholder.)
	 */
	v = hidden_reading_mutator(copyObject(c), NULL);
	if (user_function_walker(v, NULL))
		return false;
	glob->boundParams = bound_params;
	root->glob = glob;
	root->query_level = 1;
	v = eval_const_expressions(root, v);
	return v != NULL && IsA(v, Const) &&
		(((Const *) v)->constisnull || !DatumGetBool(((Const *) v)->constvalue));
}

/*
 * Do the query's other WHERE conditions (others: c's fellow conjuncts, which
 * stay and are evaluated on every row returned) imply every mask of c shows
 * its value?  Then no row the query returns is one the masks hide, and what
 * c reads there does not matter: WHERE patron_id = $1 AND returned_at IS
 * NULL on loans whose mask shows every open loan.  Without this, a prepared
 * patron_id = $1 on a placeholder binding (where false_where_hidden cannot
 * decide until $1 is known) kept its mask, and with it no index: its generic
 * plan read the whole relation, and the plan cache planned the desk's
 * patron-account queries at every execution (bench/staff_read.sql at 0.3 of
 * base, issue 17).  predicate_implied_by proves only from what it can match
 * (a premise that reads a mask itself proves nothing about the column).
 */
static bool
hidden_excluded(Node *c, List *others)
{
	List	   *conditions = NIL;
	List	   *premises = NIL;
	ListCell   *lc;

	/* (a volatile expression may answer otherwise when evaluated again) */
	foreach(lc, others)
		if (!contain_volatile_functions(lfirst(lc)))
			premises = lappend(premises, lfirst(lc));
	if (premises == NIL)
		return false;
	mask_conditions_walker(c, &conditions);
	return conditions != NIL && !contain_volatile_functions((Node *) conditions) &&
		predicate_implied_by(conditions, premises, false);
}

/* Is a condition mask(x) op y with a strict, leakproof operator? */
static bool
unmaskable(Node *c, List *others)
{
	List	   *args;
	Oid			fn;
	ListCell   *la;
	bool		severed = false;

	if (IsA(c, OpExpr) && list_length(((OpExpr *) c)->args) == 2)
	{
		set_opfuncid((OpExpr *) c);
		fn = ((OpExpr *) c)->opfuncid;
		args = ((OpExpr *) c)->args;
	}
	else if (IsA(c, ScalarArrayOpExpr))
	{
		set_sa_opfuncid((ScalarArrayOpExpr *) c);
		fn = ((ScalarArrayOpExpr *) c)->opfuncid;
		args = ((ScalarArrayOpExpr *) c)->args;
	}
	else
		return false;
	/*
	 * each side is a mask itself or has none inside, and a mask reads NULL
	 * where it hides (not a closed time's '-infinity', mask_dated), or a
	 * constant (the placeholder patron, mask_severed) on which the
	 * condition is false
	 */
	foreach(la, args)
	{
		Node	   *arg = lfirst(la);
		Node	   *hidden = is_mask(arg) ? (Node *) ((CaseExpr *) arg)->defresult : NULL;

		if (is_mask(arg) ? !is_null_const(hidden) && !IsA(hidden, Const)
			: contains_mask_walker(arg, NULL))
			return false;
		if (hidden != NULL && !is_null_const(hidden))
			severed = true;
	}
	return contains_mask_walker(c, NULL) && get_func_leakproof(fn) && func_strict(fn) &&
		!contain_volatile_functions(c) && !checkExprHasSubLink(c) &&
		!outer_reference_walker(c, NULL) &&
		(!severed || false_where_hidden(c) || hidden_excluded(c, others));
}

/* The relations on the nullable side of an outer join. */
static void
nullable_relations(Node *jtnode, bool nullable, Bitmapset **out)
{
	ListCell   *lc;

	if (jtnode == NULL)
		return;
	if (IsA(jtnode, RangeTblRef))
	{
		if (nullable)
			*out = bms_add_member(*out, ((RangeTblRef *) jtnode)->rtindex);
	}
	else if (IsA(jtnode, FromExpr))
	{
		foreach(lc, ((FromExpr *) jtnode)->fromlist)
			nullable_relations(lfirst(lc), nullable, out);
	}
	else if (IsA(jtnode, JoinExpr))
	{
		JoinExpr   *j = (JoinExpr *) jtnode;

		nullable_relations(j->larg, nullable || j->jointype == JOIN_RIGHT || j->jointype == JOIN_FULL, out);
		nullable_relations(j->rarg, nullable || j->jointype == JOIN_LEFT || j->jointype == JOIN_FULL, out);
	}
}

/*
 * A WHERE condition mask(x) op y on one relation (not on the nullable side
 * of an outer join) is a restriction of that relation: it becomes one of its
 * security quals, <may see> AND x op y.  As a security qual it is evaluated
 * before any leaky condition of the query sees a row, and x op y can use an
 * index on x.  Conditions that join relations keep their masks: there the
 * stored value would reach the other side before <may see> is known.
 */
static void
unmask_quals(Query *q, RteRules **rules)
{
	Node	   *quals = q->jointree->quals;
	List	   *conjuncts;
	List	   *kept = NIL;
	Bitmapset  *nullable = NULL;
	ListCell   *lc;
	bool		changed = false;

	if (quals == NULL || !contains_mask_walker(quals, NULL))
		return;
	nullable_relations((Node *) q->jointree, false, &nullable);
	conjuncts = is_andclause(quals) ? ((BoolExpr *) quals)->args : list_make1(quals);
	foreach(lc, conjuncts)
	{
		Node	   *c = lfirst(lc);
		Relids		varnos;
		int			rti;
		RangeTblEntry *rte;
		List	   *conditions = NIL;

		if (!unmaskable(c, list_delete_ptr(list_copy(conjuncts), c)) ||
			bms_get_singleton_member((varnos = pull_varnos(NULL, c)), &rti) == false ||
			rules[rti] == NULL || bms_is_member(rti, nullable) ||
			(rte = rt_fetch(rti, q->rtable))->rtekind != RTE_RELATION)
		{
			kept = lappend(kept, c);
			continue;
		}
		mask_conditions_walker(c, &conditions);
		conditions = lappend(conditions, strip_masks_mutator(c, NULL));
		rte->securityQuals = lappend(rte->securityQuals, makeBoolExpr(AND_EXPR, conditions, -1));
		changed = true;
	}
	if (changed)
		q->jointree->quals = kept == NIL ? NULL
			: list_length(kept) == 1 ? linitial(kept)
			: (Node *) makeBoolExpr(AND_EXPR, kept, -1);
}

/* Put a row filter around an expanded view: SELECT * FROM (view) WHERE f. */
static void
filter_view(RangeTblEntry *rte, Expr *qual)
{
	Query	   *inner = rte->subquery;
	Query	   *outer = makeNode(Query);
	RangeTblEntry *irte = makeNode(RangeTblEntry);
	RangeTblRef *ref = makeNode(RangeTblRef);
	ListCell   *lc;

	irte->rtekind = RTE_SUBQUERY;
	irte->subquery = inner;
	irte->security_barrier = rte->security_barrier;
	irte->eref = copyObject(rte->eref);
	irte->inFromCl = true;
	ref->rtindex = 1;
	outer->commandType = CMD_SELECT;
	outer->querySource = QSRC_ORIGINAL;
	outer->canSetTag = true;
	outer->rtable = list_make1(irte);
	outer->jointree = makeFromExpr(list_make1(ref), (Node *) qual);
	foreach(lc, inner->targetList)
	{
		TargetEntry *te = lfirst(lc);

		if (te->resjunk)
			continue;
		outer->targetList = lappend(outer->targetList,
									makeTargetEntry((Expr *) makeVarFromTargetEntry(1, te),
													te->resno, te->resname, false));
	}
	rte->subquery = outer;
	rte->security_barrier = true;	/* the caller's quals stay outside */
}

/*
 * A view bound as a balance (bind_balance: the amount each patron owes, as
 * the ILS computes it from fines and payments) is read by staff and
 * collections as the ILS reads it: its body is not rewritten, its own rules
 * (collections: the patrons who owe) apply to what it returns, and it
 * becomes a security barrier, so only leakproof conditions of the query
 * (patron_id = 42, which an index serves) reach its body.  Rewritten, its
 * body would read a fine whose loan the class does not read without its
 * patron (redact_policy.c, copy_rules) and count it under no one: a patron
 * who paid would seem to owe less than nothing.  What the class learns is
 * the balance, which its class reads anyway.  A view bound as anything else
 * as well is rewritten as usual.  Returns the (entry, body) pairs set aside.
 */
static List *
set_aside_balance_views(Query *q, const Redaction *red)
{
	List	   *aside = NIL;
	ListCell   *lc;

	if (red->class != PALS_CLASS_STAFF && red->class != PALS_CLASS_COLLECTIONS)
		return NIL;
	foreach(lc, q->rtable)
	{
		RangeTblEntry *rte = lfirst(lc);
		Oid			view = expanded_view(rte);
		const RelPolicy *p;

		if (!OidIsValid(view))
			continue;
		p = redact_policy_for(view);
		if (!p->bound || p->balance == NULL || p->patrons || p->loan || p->card || p->history ||
			p->outbox || p->guardian || p->contacts != NIL || p->copy || p->account)
			continue;
		aside = lappend(aside, rte);
		aside = lappend(aside, rte->subquery);
		rte->subquery = NULL;
		rte->security_barrier = true;
	}
	return aside;
}

static void
restore_balance_views(List *aside)
{
	for (int i = 0; i + 1 < list_length(aside); i += 2)
		((RangeTblEntry *) list_nth(aside, i))->subquery = list_nth(aside, i + 1);
}

static bool
nested_walker(Node *node, const Redaction *red)
{
	if (node == NULL)
		return false;
	if (IsA(node, Query))
	{
		redact_level((Query *) node, red);
		return false;
	}
	return expression_tree_walker(node, nested_walker, (void *) red);
}

/* Statistics rows of bound relations (and of their indexes) are hidden. */
static void
filter_statistics(RangeTblEntry *rte, int rti)
{
	const Derived *d = redact_derived();
	Var		   *key;
	Oid			fn;

	if (rte->relid == StatisticRelationId)
	{
		key = makeVar(rti, Anum_pg_statistic_starelid, OIDOID, -1, InvalidOid, 0);
		fn = d->fn_stats_visible;
	}
	else
	{
		key = makeVar(rti, Anum_pg_statistic_ext_data_stxoid, OIDOID, -1, InvalidOid, 0);
		fn = d->fn_stats_ext_visible;
	}
	rte->securityQuals = lappend(rte->securityQuals, redact_call(fn, list_make1(key)));
}

/* ----------------------------------------------------------------------
 * Writes by a redacted class
 *
 * What a class reads must not depend on what it may write in the same
 * statement or transaction (UPDATE ... SET fines_settled_at = NULL
 * RETURNING patron_id would otherwise show the patron of a settled loan),
 * and a write must not hand hidden values to anything that sees the row
 * whole (the table's own triggers, a stored mask).  As row-level security
 * does with USING and WITH CHECK, judged by the row as it was before the
 * statement:
 *
 * - UPDATE and DELETE reach only rows the class may read, with every
 *   masked column shown (a security qual of the result relation; for
 *   INSERT ... ON CONFLICT DO UPDATE a conflict check, which fails);
 * - a row inserted or updated must be one the class may read (the
 *   relation's row filters as WITH CHECK options).
 *
 * A hidden patron can then never be shown by a change of the columns that
 * decide it (closed, settled, item), never be stored masked (SET patron_id
 * = patron_id), and never reach a trigger through a staff write.
 * ---------------------------------------------------------------------- */

/*
 * The condition under which column attno is shown whole to a write (false:
 * never; NULL: not masked): where the mask shows it, and where the stored
 * value is not what severing wrote (RteRules.writes: the placeholder, a
 * NULL patron or link), since such a row reads whole while a row kept
 * identified reads the same value masked, and a write that reached only the
 * former (UPDATE ... WHERE patron_id = 0 RETURNING id) would tell the two
 * apart.
 */
static Expr *
shown_when(RteRules *r, AttrNumber attno)
{
	Expr	   *m = r->masks[attno];
	Expr	   *shown;

	if (m == NULL)
		return NULL;
	if (!is_mask((Node *) m))
		return (Expr *) makeBoolConst(false, false);
	shown = copyObject(((CaseWhen *) linitial(((CaseExpr *) m)->args))->expr);
	if (r->writes != NULL && r->writes[attno] != NULL)
		shown = makeBoolExpr(AND_EXPR, list_make2(shown, copyObject(r->writes[attno])), -1);
	return shown;
}

static void
add_check(Query *q, WCOKind kind, RteRules *r, List *also)
{
	WithCheckOption *wco = makeNode(WithCheckOption);
	List	   *quals = list_concat(copyObject(r->filters), also);

	wco->kind = kind;
	wco->relname = get_rel_name(r->relid);
	wco->polname = pstrdup("pals_privacy");
	wco->qual = (Node *) (list_length(quals) == 1 ? linitial(quals) : makeBoolExpr(AND_EXPR, quals, -1));
	wco->cascaded = false;
	q->withCheckOptions = lappend(q->withCheckOptions, wco);
}

/* Every masked column of r shown: the row is one the class sees whole. */
static List *
all_shown(RteRules *r)
{
	List	   *shown = NIL;

	for (AttrNumber c = 1; c <= r->natts; c++)
		if (r->masks[c] != NULL)
			shown = lappend(shown, shown_when(r, c));
	return shown;
}

/* Patron ids and patron rows: changed or removed by operational roles only. */
static void
refuse_patron_writes(Query *q, const RelPolicy *p, const Redaction *red)
{
	AttrNumber	id;
	ListCell   *lc;

	if (p->patrons == NULL || red->class == PALS_CLASS_OPERATIONAL)
		return;
	if (q->commandType == CMD_DELETE)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("privacy class %s may not delete patrons", pals_class_name(red->class)),
				 errdetail("Whether a patron can be deleted tells whether rows the class may not see still refer to them."),
				 errhint("Expired patrons are removed by pals_privacy.purge_expired(); an operational role can remove others.")));
	id = get_attnum(p->patrons->relid, p->patrons->id_column);
	foreach(lc, q->commandType == CMD_UPDATE ? q->targetList
			: q->onConflict ? q->onConflict->onConflictSet : NIL)
		if (((TargetEntry *) lfirst(lc))->resno == id && !((TargetEntry *) lfirst(lc))->resjunk)
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("privacy class %s may not change patron ids", pals_class_name(red->class)),
					 errdetail("Whether an id can change tells whether rows the class may not see still refer to it."),
					 errhint("Ask an operational role to change it.")));
}

/* Does the query (at any depth) refer to a system column or a whole row of rti? */
typedef struct SysRefContext
{
	int			rti;
	int			sublevels_up;
} SysRefContext;

static bool
system_reference_walker(Node *node, SysRefContext *c)
{
	if (node == NULL)
		return false;
	if (IsA(node, Var))
		return ((Var *) node)->varno == c->rti && (int) ((Var *) node)->varlevelsup == c->sublevels_up &&
			((Var *) node)->varattno <= 0;
	if (IsA(node, Query))
	{
		bool		found;

		c->sublevels_up++;
		found = query_tree_walker((Query *) node, system_reference_walker, c, 0);
		c->sublevels_up--;
		return found;
	}
	return expression_tree_walker(node, system_reference_walker, c);
}

/* A relation's range table entry becomes a subquery (its permission check moved first). */
static void
become_subquery(RangeTblEntry *rte, Query *sub)
{
	rte->rtekind = RTE_SUBQUERY;
	rte->subquery = sub;
	rte->security_barrier = false;
	rte->relid = InvalidOid;
	rte->relkind = 0;
	rte->rellockmode = 0;
	rte->tablesample = NULL;
	rte->inh = false;
	rte->securityQuals = NIL;
}

/*
 * A relation the class may read no row of (staff on private history) is
 * not read at all: it becomes SELECT <NULL columns> WHERE false, so no
 * index probe fetches a hidden row (statistics counters, buffers), and the
 * relation stays in the range table for its permission check.  Where the
 * query refers to its system columns or whole rows, the row filter stays.
 */
static bool
read_nothing(Query *q, int rti)
{
	RangeTblEntry *rte = rt_fetch(rti, q->rtable);
	RangeTblEntry *keep;
	Query	   *sub;
	SysRefContext c = {rti, 0};
	int			natts;

	if (rte->rtekind != RTE_RELATION || rti == q->resultRelation ||
		query_tree_walker(q, system_reference_walker, &c, 0))
		return false;
	natts = redact_relation_natts(rte->relid);
	keep = copyObject(rte);
	keep->inFromCl = false;
	keep->inh = false;
	keep->securityQuals = NIL;
	sub = makeNode(Query);
	sub->commandType = CMD_SELECT;
	sub->querySource = QSRC_ORIGINAL;
	sub->canSetTag = true;
	sub->rtable = list_make1(keep);
	sub->jointree = makeFromExpr(NIL, (Node *) makeBoolConst(false, false));
	for (AttrNumber a = 1; a <= natts; a++)
	{
		HeapTuple	tup = SearchSysCache2(ATTNUM, ObjectIdGetDatum(rte->relid), Int16GetDatum(a));
		Form_pg_attribute att;
		Expr	   *value;

		if (!HeapTupleIsValid(tup))
			elog(ERROR, "cache lookup failed for attribute %d of relation %u", a, rte->relid);
		att = (Form_pg_attribute) GETSTRUCT(tup);
		value = att->attisdropped ? (Expr *) makeNullConst(INT4OID, -1, InvalidOid)
			: (Expr *) makeNullConst(att->atttypid, att->atttypmod, att->attcollation);
		sub->targetList = lappend(sub->targetList,
								  makeTargetEntry(value, a, pstrdup(NameStr(att->attname)), false));
		ReleaseSysCache(tup);
	}
	pals_move_permissions(q, rte, sub, keep);
	become_subquery(rte, sub);
	return true;
}

/*
 * An inheritance parent that is not bound itself, with a bound descendant
 * (a billable-transaction parent of loans): read through the parent, the
 * children's rows would escape their rules.  For a redacted class the
 * parent becomes
 *     SELECT <its columns> FROM ONLY parent
 *     UNION ALL SELECT <the same columns> FROM ONLY descendant ...
 * so every descendant's rows get that descendant's rules when the subquery
 * is rewritten in turn (and no arm is an inheritance parent the planner
 * would expand again).  The parent's
 * permission check moves to its own arm; the children are read through
 * the parent, as PostgreSQL reads them, without checks of their own.
 */
static void
fix_arm_permissions(Query *q, Query *setop, Oid parent, RangeTblEntry *parent_rte)
{
	ListCell   *lc;

	foreach(lc, setop->rtable)
	{
		RangeTblEntry *arm = lfirst(lc);
		RangeTblEntry *rel;

		if (arm->rtekind != RTE_SUBQUERY || arm->subquery->rtable == NIL)
			continue;
		rel = linitial(arm->subquery->rtable);
		if (rel->rtekind != RTE_RELATION)
			continue;
		if (rel->relid == parent)
			pals_move_permissions(q, parent_rte, arm->subquery, rel);
		else
			pals_read_unchecked(arm->subquery, rel);
	}
}

static void
expand_bound_children(Query *q, int rti)
{
	RangeTblEntry *rte = rt_fetch(rti, q->rtable);
	Oid			parent = rte->relid;
	StringInfoData cols;
	StringInfoData sql;
	/* every descendant as its own ONLY arm: no arm is expanded again by the planner */
	List	   *children = find_all_inheritors(parent, AccessShareLock, NULL);
	List	   *parsed;
	Query	   *sub;
	ListCell   *lc;
	int			natts = redact_relation_natts(parent);
	SysRefContext c = {rti, 0};

	if (query_tree_walker(q, system_reference_walker, &c, 0))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("system columns and whole rows of \"%s\" are not available to privacy class %s",
						get_rel_name(parent), pals_class_name(pals_current_class())),
				 errdetail("Inheritance children of \"%s\" are bound to pals_privacy.", get_rel_name(parent)),
				 errhint("Name the columns, or read the child relations.")));
	initStringInfo(&cols);
	for (AttrNumber a = 1; a <= natts; a++)
	{
		char	   *name = get_attname(parent, a, true);

		if (a > 1)
			appendStringInfoString(&cols, ", ");
		if (name == NULL)
			appendStringInfo(&cols, "NULL::pg_catalog.int4 AS pals_dropped_%d", a);
		else
			appendStringInfoString(&cols, quote_identifier(name));
	}
	initStringInfo(&sql);
	appendStringInfo(&sql, "SELECT %s FROM ONLY %s", cols.data,
					 quote_qualified_identifier(get_namespace_name(get_rel_namespace(parent)),
												get_rel_name(parent)));
	foreach(lc, children)
		if (lfirst_oid(lc) != parent)
			appendStringInfo(&sql, " UNION ALL SELECT %s FROM ONLY %s", cols.data,
						 quote_qualified_identifier(get_namespace_name(get_rel_namespace(lfirst_oid(lc))),
													get_rel_name(lfirst_oid(lc))));
	parsed = pg_analyze_and_rewrite_fixedparams(linitial_node(RawStmt, raw_parser(sql.data, RAW_PARSE_DEFAULT)),
												sql.data, NULL, 0, NULL);
	sub = linitial_node(Query, parsed);
	fix_arm_permissions(q, sub, parent, rte);
	become_subquery(rte, sub);	/* the parent's own row security is in its arm */
}

/* Parents with bound children, read or written by a redacted class. */
static void
guard_bound_children(Query *q, const Redaction *red)
{
	int			rti = 0;
	ListCell   *lc;

	if (red->class == PALS_CLASS_OPERATIONAL)
		return;
	foreach(lc, q->rtable)
	{
		RangeTblEntry *rte = lfirst(lc);

		rti++;
		if (rte->rtekind != RTE_RELATION || !rte->inh || !redact_policy_for(rte->relid)->bound_below)
			continue;
		if (rti == q->resultRelation)
		{
			if (q->commandType == CMD_INSERT)
				continue;		/* goes to the parent itself */
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("privacy class %s may not update or delete through \"%s\"",
							pals_class_name(red->class), get_rel_name(rte->relid)),
					 errdetail("Inheritance children of \"%s\" are bound to pals_privacy.", get_rel_name(rte->relid)),
					 errhint("Write to the child relations, or use UPDATE ONLY / DELETE FROM ONLY.")));
		}
		expand_bound_children(q, rti);
	}
}

/* Rules with a sublink (a copy's source rule, redact_copies.c): every level may now hold one. */
static bool
mark_sublinks_walker(Node *node, void *context)
{
	if (node == NULL)
		return false;
	if (IsA(node, Query))
	{
		((Query *) node)->hasSubLinks = true;
		return query_tree_walker((Query *) node, mark_sublinks_walker, context, 0);
	}
	return expression_tree_walker(node, mark_sublinks_walker, context);
}

static bool
rule_has_sublinks(const RteRules *r)
{
	if (r == NULL)
		return false;
	if (checkExprHasSubLink((Node *) r->filters) || checkExprHasSubLink((Node *) r->read_filters))
		return true;
	for (int a = 1; a <= r->natts; a++)
		if (r->masks[a] != NULL && checkExprHasSubLink((Node *) r->masks[a]))
			return true;
	return false;
}

static bool
rules_have_sublinks(RteRules **rules, int nrtes, const RteRules *written)
{
	for (int rti = 1; rti <= nrtes; rti++)
		if (rule_has_sublinks(rules[rti]))
			return true;
	return rule_has_sublinks(written);
}

/* Rewrite one query level (and, first, every query nested in it). */
void
redact_level(Query *q, const Redaction *red)
{
	int			nrtes = list_length(q->rtable);
	RteRules  **rules;
	List	  **saved;
	bool		any_mask = false;
	bool		any_system = false;
	bool	   *system_hidden;
	List	   *balance_views;
	int			rti;
	int			excluded = q->onConflict ? q->onConflict->exclRelIndex : 0;
	int			write_rti;
	RteRules   *written = NULL;
	const RelPolicy *written_policy = NULL;

	guard_bound_children(q, red);
	balance_views = set_aside_balance_views(q, red);
	query_tree_walker(q, nested_walker, (void *) red, 0);
	restore_balance_views(balance_views);
	if (nrtes == 0)
		return;

	rules = palloc0(sizeof(RteRules *) * (nrtes + 1));
	for (rti = 1; rti <= nrtes; rti++)
	{
		RangeTblEntry *rte = rt_fetch(rti, q->rtable);
		Oid			relid;
		const RelPolicy *p;
		RteRules   *r;

		if (rti == excluded)
			continue;			/* the row being inserted: the caller's own values */
		if (rti == q->resultRelation && q->commandType == CMD_INSERT &&
			(q->onConflict == NULL || q->onConflict->action != ONCONFLICT_UPDATE))
			continue;			/* INSERT reads nothing of its target */
		if (rte->rtekind == RTE_RELATION &&
			(rte->relid == StatisticRelationId || rte->relid == StatisticExtDataRelationId))
		{
			if (red->class != PALS_CLASS_OPERATIONAL)
				filter_statistics(rte, rti);
			continue;
		}
		if (!OidIsValid(relid = read_relid(rte)))
			continue;
		p = redact_policy_for(relid);
		if (!p->bound)
			continue;
		if (q->commandType == CMD_MERGE && rti == q->resultRelation)
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("MERGE into \"%s\" is not allowed for privacy class %s",
							get_rel_name(relid), pals_class_name(red->class)),
					 errhint("Use INSERT, UPDATE and DELETE.")));
		r = redact_rules_for(relid, rti, p, red);
		for (int a = 1; a <= r->natts; a++)
			any_mask |= r->masks[a] != NULL;
		rules[rti] = r;
	}

	/* system columns: see "System columns of bound relations" */
	system_hidden = palloc0(sizeof(bool) * (nrtes + 1));
	if (red->class != PALS_CLASS_OPERATIONAL)
		for (rti = 1; rti <= nrtes; rti++)
		{
			RangeTblEntry *rte = rt_fetch(rti, q->rtable);

			if (rte->rtekind == RTE_RELATION && rti != excluded &&
				rte->relid != StatisticRelationId && rte->relid != StatisticExtDataRelationId &&
				OidIsValid(read_relid(rte)) && redact_policy_for(rte->relid)->bound)
				any_system = system_hidden[rti] = true;
		}

	/* writes: see "Writes" */
	write_rti = q->resultRelation;
	if (write_rti > 0 && (q->commandType == CMD_INSERT || q->commandType == CMD_UPDATE ||
						  q->commandType == CMD_DELETE))
	{
		RangeTblEntry *rte = rt_fetch(write_rti, q->rtable);
		Oid			relid = read_relid(rte);
		const RelPolicy *p = OidIsValid(relid) ? redact_policy_for(relid) : NULL;

		if (p != NULL && p->bound)
		{
			refuse_patron_writes(q, p, red);
			written_policy = p;
			written = rules[write_rti] ? rules[write_rti] : redact_rules_for(relid, write_rti, p, red);
		}
	}

	if (any_mask || any_system)
	{
		MaskContext mc = {rules, system_hidden, nrtes, 0, q->rtable};
		List	   *arbiter_elems = NIL;
		Node	   *arbiter_where = NULL;

		/* the relations' own security quals (RLS) see stored values: set aside */
		saved = palloc0(sizeof(List *) * (nrtes + 1));
		for (rti = 1; rti <= nrtes; rti++)
		{
			saved[rti] = rt_fetch(rti, q->rtable)->securityQuals;
			rt_fetch(rti, q->rtable)->securityQuals = NIL;
		}

		/*
		 * ON CONFLICT (patron_id): the arbiter names the unique index, it
		 * reads no value; masked, no index matches it (42P10).  The row in
		 * conflict is judged by the conflict check below.
		 */
		if (q->onConflict != NULL)
		{
			arbiter_elems = q->onConflict->arbiterElems;
			arbiter_where = q->onConflict->arbiterWhere;
			q->onConflict->arbiterElems = NIL;
			q->onConflict->arbiterWhere = NULL;
		}
		/* rewritten only where the query reads a masked column */
		any_mask = query_tree_walker(q, reads_masked_walker, &mc, 0);
		if (any_mask)
			query_tree_mutator(q, mask_mutator, &mc, QTW_DONT_COPY_QUERY);
		for (rti = 1; rti <= nrtes; rti++)
			rt_fetch(rti, q->rtable)->securityQuals = saved[rti];
		if (q->onConflict != NULL)
		{
			q->onConflict->arbiterElems = arbiter_elems;
			q->onConflict->arbiterWhere = arbiter_where;
		}
		if (any_mask)
			unmask_quals(q, rules);
	}

	if (written != NULL)
	{
		bool		upsert = q->onConflict && q->onConflict->action == ONCONFLICT_UPDATE;

		/* a patron registering through the catalogue is not logged in yet */
		bool		registration = q->commandType == CMD_INSERT && written_policy->patrons != NULL &&
			red->class == PALS_CLASS_PATRON && q->onConflict == NULL;

		if (written->filters != NIL && q->commandType != CMD_DELETE && !registration)
			add_check(q, q->commandType == CMD_INSERT ? WCO_RLS_INSERT_CHECK : WCO_RLS_UPDATE_CHECK,
					  written, NIL);
		if (upsert)
		{
			if (written->filters != NIL)
				add_check(q, WCO_RLS_UPDATE_CHECK, written, NIL);
			/* the row in conflict: one the class reads whole */
			if (written->filters != NIL || written->read_filters != NIL || all_shown(written) != NIL)
				add_check(q, WCO_RLS_CONFLICT_CHECK, written,
						  list_concat(copyObject(written->read_filters), all_shown(written)));
		}
		else if (q->commandType != CMD_INSERT)
			written->filters = list_concat(written->filters, all_shown(written));
	}

	/*
	 * Row locks (SELECT ... FOR KEY SHARE / SHARE / NO KEY UPDATE / UPDATE,
	 * at this level: a view's locks were pushed into its query, a FOR ...
	 * OF names its relations): like an UPDATE, a lock reaches only rows the
	 * class reads whole, as row-level security applies UPDATE policies to
	 * locking reads.  Held in an open or prepared transaction, a lock on a
	 * hidden row would make the purge skip its patron and a return leave
	 * it pending.  The rows a locking read returns are those it locked.
	 */
	if (q->rowMarks != NIL)
	{
		ListCell   *lc;

		foreach(lc, q->rowMarks)
		{
			RowMarkClause *rc = lfirst_node(RowMarkClause, lc);

			if (rc->rti > 0 && (int) rc->rti <= nrtes && rules[rc->rti] != NULL)
				rules[rc->rti]->filters = list_concat(rules[rc->rti]->filters, all_shown(rules[rc->rti]));
		}
	}

	if (rules_have_sublinks(rules, nrtes, written))
	{
		q->hasSubLinks = true;
		query_tree_walker(q, mark_sublinks_walker, NULL, 0);
	}

	for (rti = 1; rti <= nrtes; rti++)
	{
		RangeTblEntry *rte = rt_fetch(rti, q->rtable);
		Expr	   *qual;
		List	   *filters;

		if (rules[rti] == NULL)
			continue;
		filters = list_concat_copy(rules[rti]->filters, rules[rti]->read_filters);
		if (filters == NIL)
			continue;
		qual = list_length(filters) == 1 ? linitial(filters) : makeBoolExpr(AND_EXPR, filters, -1);
		if (IsA(qual, Const) && !((Const *) qual)->constisnull &&
			!DatumGetBool(((Const *) qual)->constvalue) && read_nothing(q, rti))
			continue;
		if (rte->rtekind == RTE_RELATION)
			rte->securityQuals = lappend(rte->securityQuals, qual);
		else
		{
			ChangeVarNodes((Node *) qual, rti, 1, 0);
			filter_view(rte, qual);
		}
	}
}

/*
 * Statistics counters count the rows a scan fetched before the security
 * quals removed them: pg_stat_get_xact_tuples_fetched('loans'), or an
 * index's idx_tup_read, after a probe on patron_id = 42, tells how many
 * hidden loans patron 42 has.  For a redacted class, a counter of a bound
 * relation (or of one of its indexes) reads NULL, like its pg_stats; a
 * database-wide counter (pg_stat_database: tuples fetched by everyone)
 * reads NULL for every database.  Calls are found wherever a query can
 * make them: functions, operators built on them; an aggregate built on
 * one is refused.
 */
/* Is an aggregate (or window function) built on a statistics counter? */
static bool
aggregate_on_counter(Node *node)
{
	Oid			agg = IsA(node, Aggref) ? ((Aggref *) node)->aggfnoid : ((WindowFunc *) node)->winfnoid;
	HeapTuple	tup = SearchSysCache1(AGGFNOID, ObjectIdGetDatum(agg));
	bool		counter = false;

	if (HeapTupleIsValid(tup))
	{
		Form_pg_aggregate a = (Form_pg_aggregate) GETSTRUCT(tup);

		counter = redact_is_counter(a->aggtransfn) || redact_is_counter(a->aggfinalfn) ||
			redact_is_counter(a->aggmtransfn) || redact_is_counter(a->aggmfinalfn) || redact_is_counter(a->aggcombinefn);
		ReleaseSysCache(tup);
	}
	return counter;
}

/*
 * Does the query call a statistics counter, or an aggregate built on one?
 * (A look first: most queries call none, and the mutator below copies the
 * whole query.)
 */
bool
redact_calls_counter_walker(Node *node, void *context)
{
	if (node == NULL)
		return false;
	if (IsA(node, Query))
		return query_tree_walker((Query *) node, redact_calls_counter_walker, context, 0);
	if (IsA(node, FuncExpr) && (redact_is_counter(((FuncExpr *) node)->funcid) ||
								redact_is_io_counter(((FuncExpr *) node)->funcid)))
		return true;
	if (IsA(node, OpExpr))
	{
		set_opfuncid((OpExpr *) node);
		if (redact_is_counter(((OpExpr *) node)->opfuncid))
			return true;
	}
	if ((IsA(node, Aggref) || IsA(node, WindowFunc)) && aggregate_on_counter(node))
		return true;
	return expression_tree_walker(node, redact_calls_counter_walker, context);
}

Node *
redact_counters_mutator(Node *node, void *context)
{
	if (node == NULL)
		return NULL;
	if (IsA(node, Query))
		return (Node *) query_tree_mutator((Query *) node, redact_counters_mutator, context, 0);
	if (IsA(node, OpExpr))
		set_opfuncid((OpExpr *) node);
	if (IsA(node, FuncExpr) && redact_is_io_counter(((FuncExpr *) node)->funcid))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("%s() is not available to privacy classes below operational",
						get_func_name(((FuncExpr *) node)->funcid)),
				 errdetail("I/O and WAL statistics and WAL positions count the blocks a query read and the WAL it wrote "
						   "(pruning the pages it fetched), those of rows the class may not see included.")));
	if ((IsA(node, FuncExpr) && redact_is_counter(((FuncExpr *) node)->funcid)) ||
		(IsA(node, OpExpr) && redact_is_counter(((OpExpr *) node)->opfuncid)))
	{
		Oid			fn = IsA(node, FuncExpr) ? ((FuncExpr *) node)->funcid : ((OpExpr *) node)->opfuncid;
		List	   *args = (List *) expression_tree_mutator((Node *) (IsA(node, FuncExpr) ? ((FuncExpr *) node)->args
																	: ((OpExpr *) node)->args),
														 redact_counters_mutator, context);
		Oid			type = exprType(node);
		Expr	   *call_it = (Expr *) makeFuncExpr(fn, type, args, exprCollation(node),
													exprInputCollation(node), COERCE_EXPLICIT_CALL);
		char	   *name = get_func_name(fn);
		CaseWhen   *w;
		CaseExpr   *c;

		if (strncmp(name, "pg_stat_get_db_", 15) == 0)
			return (Node *) makeNullConst(type, -1, exprCollation(node));
		w = makeNode(CaseWhen);
		w->expr = redact_call(redact_derived()->fn_stats_visible, list_make1(copyObject(linitial(args))));
		w->result = call_it;
		w->location = -1;
		c = makeNode(CaseExpr);
		c->casetype = type;
		c->casecollid = exprCollation(node);
		c->args = list_make1(w);
		c->defresult = (Expr *) makeNullConst(type, -1, exprCollation(node));
		c->location = -1;
		return (Node *) c;
	}
	if ((IsA(node, Aggref) || IsA(node, WindowFunc)) && aggregate_on_counter(node))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("aggregate %s is built on a statistics counter",
						get_func_name(IsA(node, Aggref) ? ((Aggref *) node)->aggfnoid : ((WindowFunc *) node)->winfnoid)),
				 errdetail("Statistics counters of bound relations are hidden from privacy classes below operational.")));
	return expression_tree_mutator(node, redact_counters_mutator, context);
}

/*
 * pg_stats and pg_stats_ext leave out every table with row security active
 * for the reader, which binding turns on: the ILS's own (operational) role
 * would lose the statistics of every bound table.  For a role the redaction
 * leaves alone, row security that is only pals_privacy's (a pass-through
 * and the preload guard) filters nothing, so there row_security_active()
 * answers false.  (Redacted classes get the statistics rows of bound
 * relations removed instead: filter_statistics.)
 */
bool
redact_reads_statistics_walker(Node *node, void *context)
{
	if (node == NULL)
		return false;
	if (IsA(node, Query))
	{
		ListCell   *lc;

		foreach(lc, ((Query *) node)->rtable)
		{
			RangeTblEntry *rte = lfirst(lc);

			if (rte->rtekind == RTE_RELATION &&
				(rte->relid == StatisticRelationId || rte->relid == StatisticExtDataRelationId))
				return true;
		}
		return query_tree_walker((Query *) node, redact_reads_statistics_walker, context, 0);
	}
	return expression_tree_walker(node, redact_reads_statistics_walker, context);
}

Node *
redact_row_security_mutator(Node *node, void *context)
{
	if (node == NULL)
		return NULL;
	if (IsA(node, Query))
		return (Node *) query_tree_mutator((Query *) node, redact_row_security_mutator, context, 0);
	if (IsA(node, FuncExpr) && ((FuncExpr *) node)->funcid == F_ROW_SECURITY_ACTIVE_OID)
	{
		FuncExpr   *f = (FuncExpr *) expression_tree_mutator(node, redact_row_security_mutator, context);
		CaseWhen   *w = makeNode(CaseWhen);
		CaseExpr   *c = makeNode(CaseExpr);

		w->expr = redact_call(redact_derived()->fn_own_row_security, list_make1(copyObject(linitial(f->args))));
		w->result = (Expr *) makeBoolConst(false, false);
		w->location = -1;
		c->casetype = BOOLOID;
		c->args = list_make1(w);
		c->defresult = (Expr *) f;
		c->location = -1;
		return (Node *) c;
	}
	return expression_tree_mutator(node, redact_row_security_mutator, context);
}

/*
 * Is node a mask (CASE WHEN <may see> THEN column END, as mask_mutator
 * puts it in place of a column)?  If so, which column of which range table
 * entry of the query level it is in does it show?  (placeholder_stats.c
 * gives the planner of a redacted class estimates for it.)
 */
bool
pals_masked_column(Node *node, Index *varno, AttrNumber *attno)
{
	CaseExpr   *c;
	Node	   *shown;

	if (!is_mask(node))
		return false;
	c = (CaseExpr *) node;
	/* NULL where it hides, or the placeholder patron (a Const: mask_severed) */
	if (list_length(c->args) != 1 || (c->defresult != NULL && !IsA(c->defresult, Const)))
		return false;
	shown = (Node *) ((CaseWhen *) linitial(c->args))->result;
	if (shown == NULL || !IsA(shown, Var) || ((Var *) shown)->varlevelsup != 0 || ((Var *) shown)->varattno <= 0)
		return false;
	*varno = ((Var *) shown)->varno;
	*attno = ((Var *) shown)->varattno;
	return true;
}
