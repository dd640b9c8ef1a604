/*
 * redact_copies.c
 *     Redaction of derived copies (bind_copy): a summary, a notice, a link
 *     table keyed by a loan row carries that row's patron, so what a class
 *     reads of the copy follows what it reads of the source row.
 *
 *     "The class reads the source row's patron" is decided by the class's
 *     own rules of the source, not by a second copy of them: the rule is
 *
 *         EXISTS (SELECT 1 FROM source s
 *                  WHERE s.key1 = copy.key1 AND ... AND s.keyN = copy.keyN
 *                    AND s.patron IS NOT NULL AND s.patron <> placeholder)
 *
 *     with that subquery rewritten for the class like any query
 *     (redact_level): its patron column is masked, its rows filtered, as
 *     the class would read them.  So a copy of a severed loan, of a loan
 *     whose patron staff read masked (not the item's last borrower, settled),
 *     of another patron's loan (patron class), of any loan (collections,
 *     auditor), hides what severing the source would take from it; and the
 *     two cannot disagree when the source's rules change.
 *
 *     The key must name one row.  With a key that two rows may hold, a
 *     second row (a decoy a writer inserts, or an open loan re-keyed by
 *     UPDATE) that the class reads would open the copies of a hidden row.
 *     bind_copy accepts only a key made unique by a unique index of the
 *     source (_copy_unique_key); the equality compared here is that of the
 *     source column's default operator class, with its collation, the one
 *     the index enforces.  Where the rows the EXISTS reads are not all
 *     under such an index (the source an inheritance parent with children,
 *     or the index dropped or made deferrable since), the rule also asks
 *     that no second row holds the key, read unredacted:
 *
 *         AND NOT EXISTS (SELECT 1 FROM source s WHERE <key> OFFSET 1)
 *
 *     so a shared key reads as a hidden source.  The check is made when the
 *     rules are built, which a change of the source's indexes or children
 *     makes again (relcache invalidation, redact_relcache_callback), so the
 *     usual case costs one index probe per copy row, as before.
 *
 *     A copy with several sources (bind_copy(..., more_sources): a loan in
 *     issues while out and in old_issues once returned, one issue_id) is the
 *     copy of the one row, in any source, that holds its key: the rule is
 *     the OR of each source's rule, AND NOT two sources holding the key at
 *     once, read unredacted (copy_source_visible), so a decoy in the other
 *     source, or a move half done, reads as a hidden source.
 *
 *     A copy of a copy (bind_copy with a copy as its source: Evergreen's
 *     rendered notice keyed by its event, the event a copy of the
 *     circulation) follows its source copy the same way: the subquery reads
 *     the source copy as the class reads it (its own rule is in its masks
 *     and row filter) and asks that its row still carries what severing it
 *     takes (copy_source_state: its patron, its link; for 'delete' the row
 *     itself).  A 'keep' copy masks only hide_columns, so its own rule is
 *     put into the subquery instead.  The chain is built recursively, one
 *     subquery per copy up to the loan; bind_copy refuses a cycle.
 *
 *     A copy row whose source row was deleted or severed stays severed for
 *     good.  Severing does that for the rows it changes (they lose their
 *     patron or link); the rows a trigger of the ILS kept from it (pending)
 *     have their key recorded in pals_privacy.copy_tomb, and the rule ends
 *
 *         AND NOT EXISTS (SELECT 1 FROM copy_tomb t WHERE t.relation = copy
 *                           AND copy.key1 = t.key[1]::type1 AND ...)
 *
 *     (not_tombed), so that no row given the key later (a new loan with the
 *     old key, the severed row re-identified, a decoy in another source)
 *     opens them.  Probed after the source's rule, only for rows whose
 *     source the class reads; hashable.
 *
 *     The subqueries read the source without a check of the caller's
 *     privileges on it (as PostgreSQL reads an inheritance child through its
 *     parent): what the caller learns is that boolean, computed under the
 *     caller's class.  The rules are built once per class
 *     (redact_rules_for) and the subqueries are part of them.
 */
#include "redact_internal.h"
#include "compat.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/nbtree.h"
#include "access/relation.h"
#include "catalog/namespace.h"
#include "catalog/pg_am.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_class.h"
#include "catalog/pg_index.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_opclass.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "commands/defrem.h"
#include "nodes/nodeFuncs.h"
#include "parser/parse_coerce.h"
#include "nodes/makefuncs.h"
#include "parser/parse_node.h"
#include "parser/parse_oper.h"
#include "parser/parse_relation.h"
#include "parser/parsetree.h"
#include "access/tupmacs.h"
#include "access/transam.h"
#include "access/xact.h"
#include "optimizer/optimizer.h"
#include "storage/proc.h"
#include "utils/snapmgr.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "parser/parse_func.h"
#include "common/hashfn.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/syscache.h"
#include "utils/inval.h"
#include "executor/executor.h"
#include "optimizer/planner.h"
#include "optimizer/plancat.h"
#include "optimizer/pathnode.h"
#include "nodes/pathnodes.h"
#include "storage/lmgr.h"
#include "tcop/dest.h"
#include "access/xact.h"
#include "utils/resowner.h"

PG_FUNCTION_INFO_V1(pals_privacy_copy_memo);
PG_FUNCTION_INFO_V1(pals_privacy_copy_memo_keep);

static Expr *
not_null(Expr *e)
{
	NullTest   *n = makeNode(NullTest);

	n->arg = e;
	n->nulltesttype = IS_NOT_NULL;
	n->argisrow = false;
	n->location = -1;
	return (Expr *) n;
}

/*
 * source.column = copy.column, by the equality of the source column's
 * default btree operator class (the one a unique index on it enforces), in
 * the source column's collation; NULL if the types do not compare so.
 */
static Expr *
key_equal(Oid source, const char *skey, Index srti, Oid relid, const char *ckey, Index crti)
{
	Var		   *sv = pals_bound_var(source, skey, srti, 0);
	Var		   *cv = pals_bound_var(relid, ckey, crti, 1);
	Oid			opclass = GetDefaultOpClass(sv->vartype, BTREE_AM_OID);
	Oid			family;
	Oid			intype;
	Oid			op;
	Node	   *left;
	Node	   *right;
	OpExpr	   *eq;

	if (!OidIsValid(opclass))
		return NULL;
	family = get_opclass_family(opclass);
	intype = get_opclass_input_type(opclass);
	left = coerce_to_target_type(NULL, (Node *) sv, sv->vartype, intype, -1,
								 COERCION_IMPLICIT, COERCE_IMPLICIT_CAST, -1);
	if (left == NULL)
		return NULL;
	/* a cross-type member of the family (integers), else the copy's key coerced */
	op = get_opfamily_member(family, intype, cv->vartype, BTEqualStrategyNumber);
	right = (Node *) cv;
	if (!OidIsValid(op))
	{
		right = coerce_to_target_type(NULL, (Node *) cv, cv->vartype, intype, -1,
									  COERCION_IMPLICIT, COERCE_IMPLICIT_CAST, -1);
		op = get_opfamily_member(family, intype, intype, BTEqualStrategyNumber);
		if (right == NULL || !OidIsValid(op))
			return NULL;
	}
	eq = (OpExpr *) make_opclause(op, BOOLOID, false, (Expr *) left, (Expr *) right,
								  InvalidOid, sv->varcollid);
	set_opfuncid(eq);
	return (Expr *) eq;
}

/*
 * Do the rows an EXISTS over the source reads hold each key at most once?
 * A unique index of the source made of key columns only (the checks of
 * _copy_unique_key), and no inheritance child outside it: a partitioned
 * table's unique index covers its partitions, a plain parent's does not
 * cover its children.
 */
static bool
key_unique(Relation rel, List *source_keys)
{
	List	   *indexes;
	ListCell   *lc;
	bool		unique = false;

	if (rel->rd_rel->relkind == RELKIND_RELATION && rel->rd_rel->relhassubclass &&
		has_subclass(RelationGetRelid(rel)))
		return false;
	indexes = RelationGetIndexList(rel);
	foreach(lc, indexes)
	{
		HeapTuple	tup = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(lfirst_oid(lc)));
		Form_pg_index ix;
		bool		ok;

		if (!HeapTupleIsValid(tup))
			continue;
		ix = (Form_pg_index) GETSTRUCT(tup);
		ok = ix->indisunique && ix->indimmediate && ix->indisvalid && ix->indislive &&
			heap_attisnull(tup, Anum_pg_index_indpred, NULL) &&
			heap_attisnull(tup, Anum_pg_index_indexprs, NULL);
		if (ok)
		{
			bool		isnull;
			oidvector  *classes = (oidvector *) DatumGetPointer(SysCacheGetAttr(INDEXRELID, tup,
																			  Anum_pg_index_indclass, &isnull));
			oidvector  *collations = (oidvector *) DatumGetPointer(SysCacheGetAttr(INDEXRELID, tup,
																				 Anum_pg_index_indcollation, &isnull));

			for (int k = 0; ok && k < ix->indnkeyatts; k++)
			{
				AttrNumber	attno = ix->indkey.values[k];
				Form_pg_attribute att;
				bool		among = false;
				ListCell   *lk;

				if (attno <= 0)
				{
					ok = false;
					break;
				}
				att = TupleDescAttr(RelationGetDescr(rel), attno - 1);
				foreach(lk, source_keys)
					among |= strcmp(NameStr(att->attname), lfirst(lk)) == 0;
				ok = among && !att->attisdropped &&
					classes->values[k] == GetDefaultOpClass(att->atttypid, BTREE_AM_OID) &&
					collations->values[k] == att->attcollation;
			}
		}
		ReleaseSysCache(tup);
		if (ok)
		{
			unique = true;
			break;
		}
	}
	list_free(indexes);
	return unique;
}

/*
 * SELECT 1 FROM source WHERE <the copy's key> [AND more], as a Query; the
 * source read unchecked.  NULL if a key column does not compare.
 */
static Query *
source_query(const CopyBinding *c, Oid source, List *source_keys, Relation rel, Oid relid, Index rti,
			 List *more, ParseState **pstate_out)
{
	ParseState *pstate = make_parsestate(NULL);
	ParseNamespaceItem *nsitem;
	Query	   *sub;
	RangeTblRef *rtr;
	List	   *quals = NIL;
	ListCell   *ls;
	ListCell   *lk;

	nsitem = addRangeTableEntryForRelation(pstate, rel, AccessShareLock, NULL, true, false);
	sub = makeNode(Query);
	sub->commandType = CMD_SELECT;
	sub->querySource = QSRC_ORIGINAL;
	sub->canSetTag = true;
	sub->rtable = pstate->p_rtable;
	pals_take_permissions(sub, pstate);
	pals_read_unchecked(sub, rt_fetch(nsitem->p_rtindex, sub->rtable));

	forboth(ls, source_keys, lk, c->key_columns)
	{
		Expr	   *eq = key_equal(source, lfirst(ls), nsitem->p_rtindex, relid, lfirst(lk), rti);

		if (eq == NULL)
		{
			free_parsestate(pstate);
			return NULL;
		}
		quals = lappend(quals, eq);
	}
	quals = list_concat(quals, more);
	rtr = makeNode(RangeTblRef);
	rtr->rtindex = nsitem->p_rtindex;
	sub->jointree = makeFromExpr(list_make1(rtr), (Node *) makeBoolExpr(AND_EXPR, quals, -1));
	sub->targetList = list_make1(makeTargetEntry((Expr *) makeConst(INT4OID, -1, InvalidOid, sizeof(int32),
																	Int32GetDatum(1), false, true),
												 1, pstrdup("visible"), false));
	if (pstate_out)
		*pstate_out = pstate;
	else
		free_parsestate(pstate);
	return sub;
}

static Expr *
sublink(SubLinkType type, Query *sub)
{
	SubLink    *link = makeNode(SubLink);

	link->subLinkType = type;
	link->subLinkId = 0;
	link->testexpr = NULL;
	link->operName = NIL;
	link->subselect = (Node *) sub;
	link->location = -1;
	return (Expr *) link;
}

/*
 * Does the class read the patron of the row of one source of the copy that
 * holds this copy row's key (the copy being range table entry rti of
 * relation relid)?  An EXISTS sublink, and a NOT EXISTS of a second row with
 * the key where the source does not guarantee one.  *held: whether the
 * source holds a row with the key at all, read unredacted (for the rule
 * across several sources); NULL where the source holds nothing we can read.
 */
static Expr *copy_rule(const CopyBinding *c, Oid relid, Index rti, const Redaction *red, bool *durable);

/* The copy binding of a relation that is a copy's source (a copy of a copy), or NULL. */
static const CopyBinding *
source_copy(Oid source)
{
	ListCell   *lc;

	foreach(lc, pals_registry()->copies)
		if (((const CopyBinding *) lfirst(lc))->relid == source)
			return lfirst(lc);
	return NULL;
}

/*
 * What a row of a source that is itself a copy (alias rti 1 of the
 * subquery) still carries, where the class reads it: its patron ('null',
 * 'patron:<id>'), its link ('unlink'); nothing for 'delete' (a row the
 * class may not read is filtered) and 'keep' (see source_visible).
 */
static List *
copy_source_state(const CopyBinding *m, ParseState *pstate)
{
	List	   *more = NIL;
	ListCell   *lc;

	switch (m->sever_with)
	{
		case COPY_SEVER_NULL:
		case COPY_SEVER_PLACEHOLDER:
			if (m->patron_column == NULL)
				return list_make1(makeBoolConst(false, false));
			more = list_make1(not_null((Expr *) pals_bound_var(m->relid, m->patron_column, 1, 0)));
			if (m->placeholder != NULL)
				more = lappend(more, make_op(pstate, list_make1(makeString("<>")),
											 (Node *) pals_bound_var(m->relid, m->patron_column, 1, 0),
											 (Node *) makeConst(UNKNOWNOID, -1, InvalidOid, -2,
																CStringGetDatum(pstrdup(m->placeholder)),
																false, false), NULL, -1));
			break;
		case COPY_SEVER_UNLINK:
			foreach(lc, m->key_columns)
				more = lappend(more, not_null((Expr *) pals_bound_var(m->relid, lfirst(lc), 1, 0)));
			break;
		case COPY_SEVER_DELETE:
		case COPY_SEVER_KEEP:
			break;
	}
	return more;
}

static Expr *
source_visible(const CopyBinding *c, Oid source, List *source_keys, Oid relid, Index rti,
			   const Redaction *red, Expr **held)
{
	const LoanBinding *b = pals_loan_binding_for(source);
	const CopyBinding *m = b == NULL ? source_copy(source) : NULL;
	Relation	rel;
	ParseState *pstate;
	Query	   *sub;
	Query	   *second;
	List	   *more;
	Var		   *patron;
	Expr	   *visible;

	if (held)
		*held = NULL;
	/* the source is no longer bound, or the binding is malformed: nothing reads as visible */
	if ((b == NULL && m == NULL) || c->key_columns == NIL || list_length(c->key_columns) != list_length(source_keys))
		return (Expr *) makeBoolConst(false, false);
	/* a chain of copies (bind_copy refuses a cycle; a catalog edited by hand) */
	check_stack_depth();
	rel = relation_open(source, AccessShareLock);

	sub = source_query(c, source, source_keys, rel, relid, rti, NIL, &pstate);
	if (sub == NULL)
	{
		relation_close(rel, NoLock);
		return (Expr *) makeBoolConst(false, false);	/* fail closed */
	}
	if (m != NULL)
	{
		/*
		 * A copy of a copy: the source copy's row as the class reads it
		 * still carries what its severing takes (its masks, its row filter:
		 * its own rule over its source, and so on up to the loan).
		 */
		more = copy_source_state(m, pstate);
		patron = NULL;
	}
	else
	{
		patron = pals_bound_var(source, b->patron_column, 1, 0);
		more = list_make1(not_null((Expr *) patron));
	}
	if (b != NULL && b->sever_with == SEVER_PLACEHOLDER)
	{
		Expr	   *other = make_op(pstate, list_make1(makeString("<>")),
									(Node *) copyObject(patron),
									(Node *) makeConst(UNKNOWNOID, -1, InvalidOid, -2,
													   CStringGetDatum(pstrdup(b->placeholder)),
													   false, false), NULL, -1);

		/*
		 * A strict <> is true only on a patron that is not NULL: the NOT NULL
		 * test would only repeat the class's rule of the patron column (its
		 * mask, once per source row), so it goes.
		 */
		if (IsA(other, OpExpr) && (set_opfuncid((OpExpr *) other), func_strict(((OpExpr *) other)->opfuncid)))
			more = list_make1(other);
		else
			more = lappend(more, other);
	}
	free_parsestate(pstate);
	((BoolExpr *) ((FromExpr *) sub->jointree)->quals)->args =
		list_concat(((BoolExpr *) ((FromExpr *) sub->jointree)->quals)->args, more);

	/* the source read as this class reads it */
	redact_level(sub, red);

	/*
	 * A 'keep' copy hides only its hide_columns, which say nothing of
	 * whether the class reads its row's source: its own rule, as its masks
	 * have it (the source copy being rti 1 here), decides.
	 */
	if (m != NULL && m->sever_with == COPY_SEVER_KEEP)
	{
		sub->jointree->quals = (Node *) makeBoolExpr(AND_EXPR,
													 list_make2(sub->jointree->quals,
																copy_rule(m, source, 1, red, NULL)), -1);
		sub->hasSubLinks = true;
	}

	/*
	 * OFFSET 0: the probe stays a correlated subplan.  Without it the
	 * planner also plans the EXISTS as a hashed IN over the whole source (an
	 * AlternativeSubPlan: every partition expanded, its index paths costed a
	 * second time) in every mask that holds the rule, and keeps one of the
	 * two at the end; the answers are kept per key (memoized below), so
	 * the probe per key is what runs.
	 */
	sub->limitOffset = (Node *) makeConst(INT8OID, -1, InvalidOid, sizeof(int64),
										  Int64GetDatum(0), false, FLOAT8PASSBYVAL);
	visible = sublink(EXISTS_SUBLINK, sub);

	if (!key_unique(rel, source_keys))
	{
		/* a second row holding the key, whatever the class reads of it */
		second = source_query(c, source, source_keys, rel, relid, rti, NIL, NULL);
		if (second == NULL)
			visible = (Expr *) makeBoolConst(false, false);
		else
		{
			second->limitOffset = (Node *) makeConst(INT8OID, -1, InvalidOid, sizeof(int64),
													 Int64GetDatum(1), false, FLOAT8PASSBYVAL);
			visible = makeBoolExpr(AND_EXPR,
								   list_make2(visible,
											  makeBoolExpr(NOT_EXPR, list_make1(sublink(EXISTS_SUBLINK, second)), -1)),
								   -1);
		}
	}
	/* any row with the key, whatever the class reads of it */
	if (held && (sub = source_query(c, source, source_keys, rel, relid, rti, NIL, NULL)) != NULL)
		*held = sublink(EXISTS_SUBLINK, sub);
	relation_close(rel, NoLock);
	return visible;
}

/*
 * Does the class read the patron of the source row of this copy row?  With
 * one source, that source's rule.  With several (bind_copy called once per
 * source: a loan in issues while out, in old_issues once returned, one id),
 * the copy row is the copy of the one row of any source that holds its key:
 * visible where one source's rule says so, and no two sources hold the key
 * (a decoy in another source, or a key in both, reads as a hidden source):
 *
 *     (visible_1 OR ... OR visible_n)
 *     AND NOT ((held_1 AND held_2) OR ... OR (held_n-1 AND held_n))
 */
static Expr *
copy_source_visible(const CopyBinding *c, Oid relid, Index rti, const Redaction *red)
{
	Expr	   *held = NULL;
	Expr	   *visible = source_visible(c, c->source, c->source_keys, relid, rti, red,
										 c->more_sources != NIL ? &held : NULL);
	List	   *any;
	List	   *holders;
	List	   *pairs = NIL;
	ListCell   *ls;
	ListCell   *lk;

	if (c->more_sources == NIL)
		return visible;
	any = list_make1(visible);
	holders = held ? list_make1(held) : NIL;
	forboth(ls, c->more_sources, lk, c->more_source_keys)
	{
		visible = source_visible(c, lfirst_oid(ls), lfirst(lk), relid, rti, red, &held);
		any = lappend(any, visible);
		if (held)
			holders = lappend(holders, held);
	}
	for (int i = 0; i < list_length(holders); i++)
		for (int j = i + 1; j < list_length(holders); j++)
			pairs = lappend(pairs, makeBoolExpr(AND_EXPR,
												list_make2(copyObject(list_nth(holders, i)),
														   copyObject(list_nth(holders, j))), -1));
	visible = makeBoolExpr(OR_EXPR, any, -1);
	if (pairs != NIL)
		visible = makeBoolExpr(AND_EXPR,
							   list_make2(visible,
										  makeBoolExpr(NOT_EXPR,
													   list_make1(list_length(pairs) == 1 ? linitial(pairs)
																  : makeBoolExpr(OR_EXPR, pairs, -1)), -1)),
							   -1);
	return visible;
}

/*
 * NOT EXISTS (SELECT 1 FROM pals_privacy.copy_tomb t
 *              WHERE t.relation = <copy> AND copy.k1 = (t.key[1])::type1 AND ...):
 * the copy row's key is not one whose copies were severed for good (a row
 * the ILS kept when its source row was deleted or severed, recorded by
 * _copy_tomb_record).  The stored key is text in a canonical form (ISO
 * dates, UTC), read back into each key column's type, so the comparison is
 * the column's own equality whatever the reading session's TimeZone or
 * DateStyle; hashable, so the planner may hash the (few) keys once per
 * query instead of probing per row.  NULL where the table is missing (the
 * library newer than the installed script, which had no copies).
 */
static Expr *
not_tombed(const CopyBinding *c, Oid relid, Index rti)
{
	Oid			nsp = get_namespace_oid("pals_privacy", true);
	Oid			tomb = OidIsValid(nsp) ? get_relname_relid("copy_tomb", nsp) : InvalidOid;
	Relation	rel;
	ParseState *pstate;
	ParseNamespaceItem *nsitem;
	Query	   *sub;
	RangeTblRef *rtr;
	List	   *quals;
	ListCell   *lk;
	int			n = 0;

	if (!OidIsValid(tomb))
		return NULL;
	rel = relation_open(tomb, AccessShareLock);
	pstate = make_parsestate(NULL);
	nsitem = addRangeTableEntryForRelation(pstate, rel, AccessShareLock, NULL, true, false);
	sub = makeNode(Query);
	sub->commandType = CMD_SELECT;
	sub->querySource = QSRC_ORIGINAL;
	sub->canSetTag = true;
	sub->rtable = pstate->p_rtable;
	pals_take_permissions(sub, pstate);
	pals_read_unchecked(sub, rt_fetch(nsitem->p_rtindex, sub->rtable));

	quals = list_make1(make_op(pstate, list_make1(makeString("=")),
							   (Node *) pals_bound_var(tomb, "relation", nsitem->p_rtindex, 0),
							   (Node *) makeConst(REGCLASSOID, -1, InvalidOid, sizeof(Oid),
												  ObjectIdGetDatum(relid), false, true),
							   NULL, -1));
	foreach(lk, c->key_columns)
	{
		Var		   *cv = pals_bound_var(relid, lfirst(lk), rti, 1);
		SubscriptingRef *element = makeNode(SubscriptingRef);
		Node	   *stored;

		/* t.key[n] */
		element->refcontainertype = TEXTARRAYOID;
		element->refelemtype = TEXTOID;
		element->refrestype = TEXTOID;
		element->reftypmod = -1;
		element->refcollid = DEFAULT_COLLATION_OID;
		element->refupperindexpr = list_make1(makeConst(INT4OID, -1, InvalidOid, sizeof(int32),
														Int32GetDatum(++n), false, true));
		element->reflowerindexpr = NIL;
		element->refexpr = (Expr *) pals_bound_var(tomb, "key", nsitem->p_rtindex, 0);
		element->refassgnexpr = NULL;
		stored = coerce_to_target_type(pstate, (Node *) element, TEXTOID, cv->vartype, -1,
									   COERCION_EXPLICIT, COERCE_EXPLICIT_CAST, -1);
		if (stored == NULL)
		{
			/* a key that cannot be read back: every row of the copy reads as hidden */
			free_parsestate(pstate);
			relation_close(rel, NoLock);
			return (Expr *) makeBoolConst(false, false);
		}
		quals = lappend(quals, make_op(pstate, list_make1(makeString("=")), (Node *) cv, stored, NULL, -1));
	}
	free_parsestate(pstate);
	rtr = makeNode(RangeTblRef);
	rtr->rtindex = nsitem->p_rtindex;
	sub->jointree = makeFromExpr(list_make1(rtr), (Node *) makeBoolExpr(AND_EXPR, quals, -1));
	sub->targetList = list_make1(makeTargetEntry((Expr *) makeConst(INT4OID, -1, InvalidOid, sizeof(int32),
																	Int32GetDatum(1), false, true),
												 1, pstrdup("tombed"), false));
	relation_close(rel, NoLock);
	return makeBoolExpr(NOT_EXPR, list_make1(sublink(EXISTS_SUBLINK, sub)), -1);
}

/* ----------------------------------------------------------------------
 * The rule evaluated once per key and query
 *
 * A copy's rule stands in every masked column of the copy (fines: its
 * patron, its two link columns, its time), and each column's mask used to
 * evaluate it again: per row, one probe of the source with the source's
 * own rules (the last-borrower check) and one of copy_tomb for every
 * masked column the query reads.  The rule reads nothing of the copy row
 * but its key columns (the Vars key_equal and not_tombed put in the
 * subqueries), so within one executor run, under its one snapshot, it is a
 * function of the key: each mask reads
 *
 *     COALESCE(_copy_memo(rule, k1, ..., kn),
 *              _copy_memo_keep(rule, <the rule>, k1, ..., kn))
 *
 * _copy_memo answers from what this executor run has worked out for that
 * rule and key (NULL the first time: COALESCE then evaluates the rule);
 * _copy_memo_keep records the answer and returns it.  So every masked
 * column of a row, and every row with the same key, shares one evaluation.
 *
 * Where the rule reads nothing of the query but the copy row's key (every
 * rule the rewrite makes), the mask is _copy_memo(rule, k1, ..., kn) alone:
 * the rule is not in the query at all (the planner planned its subqueries
 * once per masked column, half of a copy read's instructions), but kept as
 * a query of its own, planned once per backend ("The rule planned once per
 * backend" below), which _copy_memo runs for a key it has no answer for,
 * started once per run and rescanned per key.  _copy_memo is PARALLEL
 * RESTRICTED: a parallel worker has no kept plans (and the mark below is
 * lost on the way to it).
 *
 * What keeps an answer from outliving what it was computed under:
 * - the answers live in the run's query context (fn_mcxt of the calls,
 *   es_query_cxt), a reset callback forgets them when the run ends: a
 *   plan executed again, a cursor of another transaction, a nested query
 *   of a function (its own run, its own snapshot) starts with none;
 * - the key is the stored bytes of every copy Var the rule reads (found
 *   by walking it, not assumed), so equal keys run the same computation;
 * - the rule number is per rule template (relation, class, settings), so
 *   two rules never share answers;
 * - only the calls the rewrite made (location PALS_MEMO_LOCATION, which no
 *   parsed query carries) read or write the answers: a query that names
 *   _copy_memo_keep(rule, true, key) stores nothing, and _copy_memo called
 *   by hand answers NULL, so no one can plant or read an answer.  A plan
 *   read back from text (a parallel worker) has lost the mark and simply
 *   evaluates the rule every time.
 * Anything the rule reads besides the key (the source rows, the tombs, the
 * session's class) is the same for the whole run: the class is fixed at
 * plan time and the run reads under one snapshot.
 *
 * Answers kept across statements.  A staff desk reads the same fines and
 * notices statement after statement, and each statement worked the rule
 * out again (a probe of the partitioned loans per key, or a scan of every
 * loan for a whole-table count).  A rule that reads nothing but the key and
 * data under the snapshot is a function of the key and of what the snapshot
 * sees, so its answers are also kept past their run (kept_answers), under
 * the rules last_borrower.c follows: reused only under a snapshot that sees
 * the same transactions committed (xmin, xmax, the transactions in
 * progress: snapshot_seen.c), and the same changes of the session's own (the same command of
 * the same transaction and subtransaction, or neither transaction having
 * written anything); so any transaction that wrote and ended, a change of
 * our own, a ROLLBACK TO SAVEPOINT, ends them.  Such a rule is "durable"
 * (rule_durable): every function it calls is immutable, or is
 * _last_borrower (itself a function of the tracker under the snapshot); it
 * reads no SQL value function (CURRENT_USER, CURRENT_DATE), no parameter,
 * no sequence.  A rule with anything else (the patron class's
 * session_patron(): a login; _acknowledged(): now() and the user; consent;
 * a collectible amount) keeps its answers for its run only.  The tomb probe
 * is left out of the test: its casts of the stored text (timestamptz_in is
 * stable) read a canonical form, UTC and ISO, the same under any TimeZone
 * or DateStyle.  The rule number is still the key's first part: a rule
 * rebuilt (a binding, an index, a setting changed) has a new number.  At
 * most KEPT_MAX_ANSWERS are kept; past that, answers are kept for their
 * run only, and a durable rule's lookup that misses the full store looks
 * in the run's (one lookup while the store has room).
 * ---------------------------------------------------------------------- */

#define MEMO_KEY_BYTES 64		/* longer keys are not kept (evaluated each time) */
#define MEMO_MAX_ANSWERS 65536	/* per executor run; past it, evaluated each time */
#define KEPT_MAX_ANSWERS 100000 /* kept across statements, at most */

typedef struct MemoKey
{
	int32		rule;
	int32		len;
	char		bytes[MEMO_KEY_BYTES];
} MemoKey;

/*
 * The answers: a simplehash keyed by the rule number and the key's bytes
 * (the generic dynahash call, its hash over the whole key and a second
 * lookup cost as much per masked value as base's whole read of it).  The
 * hash mixes the bytes in use eight at a time; bytes past len are never read.
 */
typedef struct MemoAnswer
{
	MemoKey		key;
	uint32		hash;
	char		status;
	bool		visible;
} MemoAnswer;

static inline uint64
memo_mix(uint64 h)
{
	h ^= h >> 33;
	h *= UINT64CONST(0xff51afd7ed558ccd);
	h ^= h >> 33;
	h *= UINT64CONST(0xc4ceb9fe1a85ec53);
	h ^= h >> 33;
	return h;
}

static inline uint32
memo_hash_key(const MemoKey *k)
{
	uint64		h = ((uint64) (uint32) k->rule << 32) | (uint32) k->len;
	const char *p = k->bytes;
	int			n = k->len;

	h = memo_mix(h);
	for (; n >= 8; p += 8, n -= 8)
	{
		uint64		w;

		memcpy(&w, p, 8);
		h = memo_mix(h ^ w);
	}
	if (n > 0)
	{
		uint64		w = 0;

		memcpy(&w, p, n);
		h = memo_mix(h ^ w);
	}
	return (uint32) (h ^ (h >> 32));
}

/* The first len bytes of a and b alike?  (Keys are short: inline, eight at a time.) */
static inline bool
memo_bytes_equal(const char *a, const char *b, int len)
{
	for (; len >= 8; a += 8, b += 8, len -= 8)
	{
		uint64		x;
		uint64		y;

		memcpy(&x, a, 8);
		memcpy(&y, b, 8);
		if (x != y)
			return false;
	}
	for (; len > 0; a++, b++, len--)
		if (*a != *b)
			return false;
	return true;
}

static inline bool
memo_key_equal(const MemoKey *a, const MemoKey *b)
{
	return a->rule == b->rule && a->len == b->len && memo_bytes_equal(a->bytes, b->bytes, a->len);
}

#define SH_PREFIX memotab
#define SH_ELEMENT_TYPE MemoAnswer
#define SH_KEY_TYPE MemoKey
#define SH_KEY key
#define SH_HASH_KEY(tb, k) memo_hash_key(&(k))
#define SH_EQUAL(tb, a, b) memo_key_equal(&(a), &(b))
#define SH_STORE_HASH
#define SH_GET_HASH(tb, a) ((a)->hash)
#define SH_SCOPE static inline
#define SH_DECLARE
#define SH_DEFINE
#include "lib/simplehash.h"

/* The answers of one executor run (one query context). */
typedef struct MemoRun
{
	MemoryContext context;
	memotab_hash *answers;
	/* the kept answers as this run found them valid, while no one renewed them */
	memotab_hash *kept;
	uint64		kept_generation;
	bool		kept_checked;
	MemoryContextCallback forget;
	struct MemoRun *next;
	/* the last answer read or worked out (the masks of one row ask in turn) */
	bool		has_last;
	bool		last_visible;
	MemoKey		last;
	struct RuleExec *execs;		/* the rule plans this run started */
} MemoRun;

/* What one call site keeps in fn_extra: its run, how its key arguments are stored. */
typedef struct MemoCall
{
	MemoRun    *run;
	bool		durable;		/* the rule's answers may outlive the run */
	bool		words;			/* every key argument passed by value, 4 or 8 bytes */
	int			first;			/* the first key argument */
	int			nargs;
	int16	   *typlen;
	bool	   *typbyval;
} MemoCall;

static MemoRun *memo_runs = NULL;	/* runs under way (nested queries nest them) */
static int32 memo_rules = 0;
static Bitmapset *durable_rules = NULL; /* rule numbers whose answers may outlive their run */

/* The answers of durable rules kept across statements, and what they were read under. */
static struct
{
	memotab_hash *answers;
	uint64		generation;		/* counts the stores made: a run's check of one holds while it lasts */
	MemoryContext context;
	LocalTransactionId lxid;
	CommandId	cid;
	SubTransactionId subxid;
	TransactionId own_xid;		/* of the transaction that read them, if it had one */
	PalsSeen	seen;			/* what the snapshot saw of other transactions */
} kept;

/*
 * The kept answers, if they hold under the active snapshot: the same
 * transactions seen committed, and the same own changes (the same command
 * of the same transaction and subtransaction, or no write in either
 * transaction).  Otherwise NULL, or (renew) an empty store for this
 * snapshot.  Only under an MVCC snapshot.
 */
static memotab_hash *
kept_answers(bool renew)
{
	Snapshot	snap = ActiveSnapshotSet() ? GetActiveSnapshot() : NULL;

	if (snap == NULL || snap->snapshot_type != SNAPSHOT_MVCC)
		return NULL;
	if (kept.answers != NULL && pals_seen_same(&kept.seen, snap))
	{
		if (kept.lxid == pals_my_lxid() && kept.cid == snap->curcid &&
			kept.subxid == GetCurrentSubTransactionId())
			return kept.answers;
		if (!TransactionIdIsValid(kept.own_xid) && !TransactionIdIsValid(GetTopTransactionIdIfAny()))
		{
			kept.lxid = pals_my_lxid();
			kept.cid = snap->curcid;
			kept.subxid = GetCurrentSubTransactionId();
			return kept.answers;
		}
	}
	if (!renew)
		return NULL;
	if (kept.context == NULL)
		kept.context = AllocSetContextCreate(TopMemoryContext, "pals_privacy copy rule answers kept",
											 ALLOCSET_DEFAULT_SIZES);
	kept.answers = NULL;		/* (gone with the reset, whatever fails below) */
	kept.generation++;			/* every run's check of the old store ends */
	MemoryContextReset(kept.context);
	kept.answers = memotab_create(kept.context, 256, NULL);
	kept.lxid = pals_my_lxid();
	kept.cid = snap->curcid;
	kept.subxid = GetCurrentSubTransactionId();
	kept.own_xid = GetTopTransactionIdIfAny();
	pals_seen_keep(&kept.seen, snap, kept.context);
	return kept.answers;
}

static void rule_execs_end(struct RuleExec *execs);

static void
memo_run_ended(void *arg)
{
	MemoRun   **p;

	for (p = &memo_runs; *p != NULL; p = &(*p)->next)
		if (*p == (MemoRun *) arg)
		{
			*p = (*p)->next;
			break;
		}
	rule_execs_end(((MemoRun *) arg)->execs);
}

/* The call site's state, NULL unless the rewrite made this call. */
static MemoCall *
memo_call(FunctionCallInfo fcinfo, int first)
{
	FmgrInfo   *f = fcinfo->flinfo;
	MemoCall   *m = (MemoCall *) f->fn_extra;
	MemoRun    *run;

	if (m != NULL)
		return m;
	if (f->fn_expr == NULL || !IsA(f->fn_expr, FuncExpr) ||
		((FuncExpr *) f->fn_expr)->location != PALS_MEMO_LOCATION)
		return NULL;
	for (run = memo_runs; run != NULL; run = run->next)
		if (run->context == f->fn_mcxt)
			break;
	if (run == NULL)
	{
		run = MemoryContextAllocZero(f->fn_mcxt, sizeof(MemoRun));
		run->context = f->fn_mcxt;
		run->answers = memotab_create(f->fn_mcxt, 256, NULL);
		run->forget.func = memo_run_ended;
		run->forget.arg = run;
		MemoryContextRegisterResetCallback(f->fn_mcxt, &run->forget);
		run->next = memo_runs;
		memo_runs = run;
	}
	m = MemoryContextAllocZero(f->fn_mcxt, sizeof(MemoCall));
	m->run = run;
	m->durable = !PG_ARGISNULL(0) && bms_is_member(PG_GETARG_INT32(0), durable_rules);
	m->first = first;
	m->nargs = PG_NARGS();
	m->typlen = MemoryContextAllocZero(f->fn_mcxt, sizeof(int16) * Max(1, m->nargs));
	m->typbyval = MemoryContextAllocZero(f->fn_mcxt, sizeof(bool) * Max(1, m->nargs));
	m->words = (m->nargs - first) * (1 + sizeof(int64)) <= MEMO_KEY_BYTES;
	for (int i = first; i < m->nargs; i++)
	{
		Oid			type = get_fn_expr_argtype(f, i);

		if (!OidIsValid(type))
			return NULL;		/* cannot tell: evaluate every time */
		get_typlenbyval(type, &m->typlen[i], &m->typbyval[i]);
		m->words &= m->typbyval[i] && (m->typlen[i] == sizeof(int64) || m->typlen[i] == sizeof(int32));
	}
	f->fn_extra = m;
	return m;
}

static bool
memo_append(MemoKey *k, const void *data, Size len)
{
	if (k->len + len > MEMO_KEY_BYTES)
		return false;
	memcpy(k->bytes + k->len, data, len);
	k->len += len;
	return true;
}

/* The stored bytes of the rule number and every key argument (NULLs marked); false if too long. */
static inline bool
memo_key(FunctionCallInfo fcinfo, const MemoCall *m, MemoKey *k)
{
	k->rule = PG_GETARG_INT32(0);
	k->len = 0;
	if (m->words)
	{
		/* the usual key (integers, timestamps): the same bytes as below, without the cases */
		for (int i = m->first; i < m->nargs; i++)
		{
			if (PG_ARGISNULL(i))
				k->bytes[k->len++] = 1;
			else if (m->typlen[i] == sizeof(int64))
			{
				int64		v = DatumGetInt64(PG_GETARG_DATUM(i));

				k->bytes[k->len++] = 0;
				memcpy(k->bytes + k->len, &v, sizeof(v));
				k->len += sizeof(v);
			}
			else
			{
				int32		v = DatumGetInt32(PG_GETARG_DATUM(i));

				k->bytes[k->len++] = 0;
				memcpy(k->bytes + k->len, &v, sizeof(v));
				k->len += sizeof(v);
			}
		}
		return true;
	}
	for (int i = m->first; i < m->nargs; i++)
	{
		Datum		d = PG_GETARG_DATUM(i);
		char		isnull = PG_ARGISNULL(i) ? 1 : 0;
		bool		ok = memo_append(k, &isnull, 1);

		if (isnull)
			continue;
		if (m->typbyval[i])
		{
			char		buf[sizeof(Datum)];

			store_att_byval(buf, d, m->typlen[i]);
			ok = ok && memo_append(k, buf, m->typlen[i]);
		}
		else if (m->typlen[i] == -1)
		{
			struct varlena *v = pg_detoast_datum_packed((struct varlena *) DatumGetPointer(d));
			int32		len = VARSIZE_ANY_EXHDR(v);

			ok = ok && memo_append(k, &len, sizeof(len)) && memo_append(k, VARDATA_ANY(v), len);
		}
		else if (m->typlen[i] == -2)
			ok = ok && memo_append(k, DatumGetCString(d), strlen(DatumGetCString(d)) + 1);
		else
			ok = ok && memo_append(k, DatumGetPointer(d), m->typlen[i]);
		if (!ok)
			return false;
	}
	return true;
}

/*
 * Is k the key of the run's last answer?  Every mask of a row asks for the
 * same key in turn (a fine's patron, link and time): the answer of a rule
 * for a key does not change within its run, so the last one serves without
 * a hash lookup or a test of the kept answers.
 */
static inline bool
memo_is_last(const MemoRun *run, const MemoKey *k)
{
	return run->has_last && memo_key_equal(&run->last, k);
}

static inline void
memo_set_last(MemoRun *run, const MemoKey *k, bool visible)
{
	memcpy(&run->last, k, offsetof(MemoKey, bytes) + k->len);
	run->last_visible = visible;
	run->has_last = true;
}

/*
 * Keep an answer worked out for a key: across statements for a durable rule
 * while the kept store has room, else for the run while it has room; and as
 * the run's last answer either way.
 */
static void
memo_store(MemoCall *m, const MemoKey *k, bool visible)
{
	memotab_hash *kept_now;
	bool		found;

	if (m->durable && (kept_now = kept_answers(true)) != NULL && kept_now->members < KEPT_MAX_ANSWERS)
		memotab_insert(kept_now, *k, &found)->visible = visible;
	else if (m->run->answers->members < MEMO_MAX_ANSWERS)
		memotab_insert(m->run->answers, *k, &found)->visible = visible;
	memo_set_last(m->run, k, visible);
}

/*
 * The kept answers for a durable rule's lookup, tested against the active
 * snapshot once per run, not per lookup: a store the run found valid holds
 * for it (the run reads under one snapshot) until someone renews the store
 * for another (kept.generation moves), when the run tests again.
 */
static inline memotab_hash *
memo_kept(MemoRun *run)
{
	if (!run->kept_checked || run->kept_generation != kept.generation)
	{
		run->kept = kept_answers(false);
		run->kept_generation = kept.generation;
		run->kept_checked = true;
	}
	return run->kept;
}


/* ----------------------------------------------------------------------
 * The rule planned once per backend
 *
 * The rule's subqueries (a probe of the source, with the class's own rules
 * of it, and of copy_tomb) were planned with every staff query, once per
 * masked column.  Instead the rule is kept as a query of the copy row's key
 * (rule_plan_register), planned once (a generic plan, made again when a
 * relation it reads, a function or a type changes: the invalidation
 * callbacks below), and run by _copy_memo for a key it has no answer for.
 * The relations it reads are locked before each start; a staff plan that
 * calls it depends on them (redact_copy_rule_relids), so a plan cached by
 * PREPARE or PL/pgSQL is made again when a source's indexes change, as it
 * was when the rule's subqueries were part of it.  (copyread3 prototype,
 * branch copyread3-planonce; started once per run here, not per key.)
 * ---------------------------------------------------------------------- */
typedef struct RulePlan
{
	int32		rule;			/* hash key */
	Query	   *query;			/* SELECT <rule>, key as $1..$n */
	int			nkeys;
	List	   *relids;			/* relations the query reads */
	List	   *probes;			/* of RuleProbe *: the sources it probes by their key */
	PlannedStmt *plan;			/* NULL: not planned yet, or stale */
	MemoryContext plancxt;
} RulePlan;

static HTAB *rule_plans = NULL;
static redact_plan_rewritten_type plan_rewritten = NULL;	/* redact_hooks.c's, set at load */
static MemoryContext rule_plans_cxt = NULL;
static List *stale_plan_cxts = NIL;	/* of plans gone stale, freed when no rule runs */
static int	rule_starts = 0;		/* rule plans being made (one may make another's) */

/* ----------------------------------------------------------------------
 * The source probed by its whole key
 *
 * The kept plan is generic: the key reaches it as parameters, and the
 * planner costs an index on part of the key (loans' checked_out_at) as
 * highly as the unique index on all of it (loans' primary key, id and
 * checked_out_at): both estimate one row.  On the demo the copies' keys
 * fall on checkout times two dozen loans share, so each probe fetched and
 * tested (the class's masks, _last_borrower) about 24 rows for the one
 * it wanted.  While the rule is planned, the indexes of a source (and of
 * its partitions and inheritance children) made only of some of the key's
 * columns are left out of what the planner sees, where an index on the
 * whole key is there to probe instead (get_relation_info_hook).  The
 * answer is the same either way; only the path changes.  A relation that
 * is not a source, and a source without such an index, keep all theirs.
 * ---------------------------------------------------------------------- */
typedef struct RuleProbe
{
	Oid			source;
	List	   *keys;			/* of char *: the source's key columns */
} RuleProbe;

static List *planning_probes = NIL; /* of RuleProbe *: while a rule is planned */
static get_relation_info_hook_type prev_relation_info = NULL;

/* A copy of a list of column names (the registry's go with its next reload). */
static List *
key_names(List *names)
{
	List	   *copy = NIL;
	ListCell   *lc;

	foreach(lc, names)
		copy = lappend(copy, pstrdup(lfirst(lc)));
	return copy;
}

/* The sources a copy's rule probes by key: its own, and a source copy's, up the chain. */
static List *
rule_probes(const CopyBinding *c, List *probes, int depth)
{
	const CopyBinding *m;
	RuleProbe  *p;
	ListCell   *ls;
	ListCell   *lk;

	if (c == NULL || depth > 16)
		return probes;			/* (bind_copy refuses a cycle; a catalog edited by hand) */
	p = palloc0(sizeof(RuleProbe));
	p->source = c->source;
	p->keys = key_names(c->source_keys);
	probes = lappend(probes, p);
	if ((m = source_copy(c->source)) != NULL)
		probes = rule_probes(m, probes, depth + 1);
	forboth(ls, c->more_sources, lk, c->more_source_keys)
	{
		p = palloc0(sizeof(RuleProbe));
		p->source = lfirst_oid(ls);
		p->keys = key_names(lfirst(lk));
		probes = lappend(probes, p);
		if ((m = source_copy(lfirst_oid(ls))) != NULL)
			probes = rule_probes(m, probes, depth + 1);
	}
	return probes;
}

/* Are the key columns of index ix all among attnos (n of them), and all of attnos among them? */
static bool
index_key_columns(const IndexOptInfo *ix, const AttrNumber *attnos, int n, bool *covers)
{
	int			among = 0;

	for (int i = 0; i < ix->nkeycolumns; i++)
	{
		bool		found = false;

		for (int k = 0; k < n; k++)
			found |= ix->indexkeys[i] == attnos[k];
		if (!found)
		{
			*covers = false;
			return false;
		}
	}
	for (int k = 0; k < n; k++)
		for (int i = 0; i < ix->nkeycolumns; i++)
			if (ix->indexkeys[i] == attnos[k])
			{
				among++;
				break;
			}
	*covers = among == n;
	return true;
}

static void
probe_relation_info(PlannerInfo *root, Oid relid, bool inhparent, RelOptInfo *rel)
{
	Oid			top = relid;
	int			parent;
	ListCell   *lc;

	if (prev_relation_info)
		prev_relation_info(root, relid, inhparent, rel);
	if (planning_probes == NIL || rel->indexlist == NIL)
		return;
	/* a partition or inheritance child: its topmost parent in the query */
	if ((parent = bms_next_member(rel->top_parent_relids, -1)) >= 0)
		top = planner_rt_fetch(parent, root)->relid;
	foreach(lc, planning_probes)
	{
		RuleProbe  *p = lfirst(lc);
		AttrNumber	attnos[INDEX_MAX_KEYS];
		int			n = 0;
		bool		whole = false;
		bool		covers;
		ListCell   *lk;
		ListCell   *li;

		if (p->source != top || list_length(p->keys) > INDEX_MAX_KEYS)
			continue;
		foreach(lk, p->keys)
			if ((attnos[n++] = get_attnum(relid, lfirst(lk))) == InvalidAttrNumber)
				return;
		foreach(li, rel->indexlist)
		{
			IndexOptInfo *ix = lfirst(li);

			if (ix->indpred == NIL && ix->amhasgettuple && index_key_columns(ix, attnos, n, &covers) && covers)
				whole = true;
		}
		if (!whole)
			return;
		foreach(li, rel->indexlist)
		{
			IndexOptInfo *ix = lfirst(li);

			if (index_key_columns(ix, attnos, n, &covers) && !covers)
				rel->indexlist = foreach_delete_current(rel->indexlist, li);
		}
		return;
	}
}

static void
rule_plans_stale(Datum arg, Oid relid)
{
	HASH_SEQ_STATUS st;
	RulePlan   *rp;

	if (rule_plans == NULL)
		return;
	hash_seq_init(&st, rule_plans);
	while ((rp = hash_seq_search(&st)) != NULL)
		if (rp->plan != NULL &&
			(!OidIsValid(relid) || list_member_oid(rp->plan->relationOids, relid)))
		{
			/* a run under way may be using it: freed once none is */
			MemoryContext old = MemoryContextSwitchTo(rule_plans_cxt);

			stale_plan_cxts = lappend(stale_plan_cxts, rp->plancxt);
			MemoryContextSwitchTo(old);
			rp->plan = NULL;
			rp->plancxt = NULL;
		}
}

static void
rule_plans_stale_all(Datum arg, int cacheid, uint32 hashvalue)
{
	rule_plans_stale(arg, InvalidOid);
}

typedef struct KeyVarCtx
{
	Index		rti;
	int			depth;
	List	   *vars;			/* the key Vars: columns 1..n of the key row k */
	bool		bad;
} KeyVarCtx;

/* The rule with the copy row's key columns read from the key row k (range table entry 1). */
static Node *
key_row_mutator(Node *node, KeyVarCtx *c)
{
	if (node == NULL)
		return NULL;
	if (IsA(node, Var))
	{
		Var		   *v = (Var *) node;

		if ((int) v->varlevelsup == c->depth && (Index) v->varno == c->rti)
		{
			int			i = 0;
			ListCell   *lc;

			foreach(lc, c->vars)
			{
				i++;
				if (((Var *) lfirst(lc))->varattno == v->varattno)
					return (Node *) makeVar(1, i, v->vartype, v->vartypmod, v->varcollid, v->varlevelsup);
			}
			c->bad = true;
		}
		else if ((int) v->varlevelsup >= c->depth)
			c->bad = true;		/* a Var of the query around the rule */
		return (Node *) copyObject(v);
	}
	if (IsA(node, Query))
	{
		Query	   *q;

		c->depth++;
		q = query_tree_mutator((Query *) node, key_row_mutator, c, 0);
		c->depth--;
		return (Node *) q;
	}
	return expression_tree_mutator(node, key_row_mutator, c);
}

static bool
relids_walker(Node *node, List **relids)
{
	if (node == NULL)
		return false;
	if (IsA(node, RangeTblEntry))
	{
		RangeTblEntry *rte = (RangeTblEntry *) node;

		if (rte->rtekind == RTE_RELATION)
			*relids = list_append_unique_oid(*relids, rte->relid);
		return false;
	}
	if (IsA(node, Query))
		return query_tree_walker((Query *) node, relids_walker, relids, QTW_EXAMINE_RTES_BEFORE);
	return expression_tree_walker(node, relids_walker, relids);
}

/* The relations the kept rules called in node read (their plans' and their nested rules'). */
static bool
rule_relids_walker(Node *node, List **relids)
{
	if (node == NULL)
		return false;
	if (IsA(node, FuncExpr) && ((FuncExpr *) node)->location == PALS_MEMO_LOCATION &&
		rule_plans != NULL && ((FuncExpr *) node)->args != NIL &&
		IsA(linitial(((FuncExpr *) node)->args), Const) &&
		!((Const *) linitial(((FuncExpr *) node)->args))->constisnull)
	{
		int32		n = DatumGetInt32(((Const *) linitial(((FuncExpr *) node)->args))->constvalue);
		RulePlan   *rp = hash_search(rule_plans, &n, HASH_FIND, NULL);
		ListCell   *lc;

		if (rp != NULL)
			foreach(lc, rp->relids)
				*relids = list_append_unique_oid(*relids, lfirst_oid(lc));
	}
	if (IsA(node, Query))
		return query_tree_walker((Query *) node, rule_relids_walker, relids, 0);
	return expression_tree_walker(node, rule_relids_walker, relids);
}

/*
 * The relations the kept copy rules a rewritten query calls read: its plan
 * depends on them as it did when the rule's subqueries were part of it (a
 * plan cached by PL/pgSQL or PREPARE is made again when a source's indexes
 * change, and so is the rule).
 */
List *
redact_copy_rule_relids(Query *parse)
{
	List	   *relids = NIL;

	if (rule_plans != NULL)
		rule_relids_walker((Node *) parse, &relids);
	return relids;
}

/*
 * Keep rule number n as
 *
 *     SELECT <rule> FROM (SELECT $1, ..., $n OFFSET 0) k
 *
 * the copy row's key columns read from k (false: the rule reads something
 * else of the query).  The key row is a subquery the planner keeps (OFFSET
 * 0), so the rule's subqueries stay correlated subplans with the key as
 * their parameters, as in the staff query: a started plan takes the next
 * key by a rescan (its partitions pruned again, its tombs hashed once).
 */
static bool
rule_plan_register(int32 n, Expr *rule, Index rti, List *vars, const CopyBinding *binding)
{
	KeyVarCtx	c = {rti, 0, vars, false};
	Node	   *e;
	Query	   *q;
	Query	   *keyq;
	RangeTblEntry *rte;
	RangeTblRef *rtr;
	List	   *names = NIL;
	RulePlan   *rp;
	bool		found;
	MemoryContext old;
	ListCell   *lc;
	int			i = 0;

	if (rule_plans == NULL)
	{
		HASHCTL		ctl;

		rule_plans_cxt = AllocSetContextCreate(TopMemoryContext, "pals_privacy copy rule plans",
											   ALLOCSET_DEFAULT_SIZES);
		memset(&ctl, 0, sizeof(ctl));
		ctl.keysize = sizeof(int32);
		ctl.entrysize = sizeof(RulePlan);
		ctl.hcxt = rule_plans_cxt;
		rule_plans = hash_create("pals_privacy copy rule plans", 64, &ctl,
								 HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
		CacheRegisterRelcacheCallback(rule_plans_stale, (Datum) 0);
		CacheRegisterSyscacheCallback(PROCOID, rule_plans_stale_all, (Datum) 0);
		CacheRegisterSyscacheCallback(TYPEOID, rule_plans_stale_all, (Datum) 0);
		prev_relation_info = get_relation_info_hook;
		get_relation_info_hook = probe_relation_info;
	}
	e = key_row_mutator((Node *) rule, &c);
	if (c.bad)
		return false;
	old = MemoryContextSwitchTo(rule_plans_cxt);

	/* the key row: SELECT $1, ..., $n OFFSET 0 */
	keyq = makeNode(Query);
	keyq->commandType = CMD_SELECT;
	keyq->querySource = QSRC_ORIGINAL;
	keyq->canSetTag = true;
	keyq->jointree = makeFromExpr(NIL, NULL);
	foreach(lc, vars)
	{
		Var		   *v = lfirst(lc);
		Param	   *p = makeNode(Param);
		char		name[16];

		p->paramkind = PARAM_EXTERN;
		p->paramid = ++i;
		p->paramtype = v->vartype;
		p->paramtypmod = v->vartypmod;
		p->paramcollid = v->varcollid;
		p->location = -1;
		snprintf(name, sizeof(name), "k%d", i);
		keyq->targetList = lappend(keyq->targetList, makeTargetEntry((Expr *) p, i, pstrdup(name), false));
		names = lappend(names, makeString(pstrdup(name)));
	}
	keyq->limitOffset = (Node *) makeConst(INT8OID, -1, InvalidOid, sizeof(int64),
										   Int64GetDatum(0), false, FLOAT8PASSBYVAL);
	rte = makeNode(RangeTblEntry);
	rte->rtekind = RTE_SUBQUERY;
	rte->subquery = keyq;
	rte->eref = makeAlias("k", names);
	rte->inFromCl = true;
	rtr = makeNode(RangeTblRef);
	rtr->rtindex = 1;

	q = makeNode(Query);
	q->commandType = CMD_SELECT;
	q->querySource = QSRC_ORIGINAL;
	q->canSetTag = true;
	q->rtable = list_make1(rte);
	q->jointree = makeFromExpr(list_make1(rtr), NULL);
	q->targetList = list_make1(makeTargetEntry((Expr *) copyObject(e), 1, pstrdup("visible"), false));
	q->hasSubLinks = true;
	/* what the staff query's planning does to the statistics counters it calls */
	if (query_tree_walker(q, redact_calls_counter_walker, NULL, 0))
		q = query_tree_mutator(q, redact_counters_mutator, NULL, 0);
	rp = hash_search(rule_plans, &n, HASH_ENTER, &found);
	rp->query = q;
	rp->nkeys = list_length(vars);
	rp->relids = NIL;
	rp->probes = rule_probes(binding, NIL, 0);
	relids_walker((Node *) q, &rp->relids);
	rule_relids_walker((Node *) q, &rp->relids);	/* a copy of a copy: its source's rule */
	rp->plan = NULL;
	rp->plancxt = NULL;
	MemoryContextSwitchTo(old);
	return true;
}

/* ----------------------------------------------------------------------
 * A rule's plan started once per run of the query that calls it
 *
 * The first key a run has no answer for starts the rule's plan (a copy of
 * the kept plan, under the run's snapshot); every later key of the run is
 * a rescan of it with the key's values as $1..$n, as a subplan of the
 * staff query would be.  The plan holds buffer pins, relation references,
 * its snapshot between keys, under a resource owner of its own, a child of
 * the one the run's first miss ran under; it is ended when the run's query
 * context goes (the run's end, normally), or, where that owner was
 * released by an abort (the run's portal failed, its subtransaction rolled
 * back), only forgotten: its resources went with the owner.
 * ---------------------------------------------------------------------- */
typedef struct RuleExec
{
	int32		rule;
	int			nkeys;
	QueryDesc  *qd;
	ParamListInfo params;
	ResourceOwner owner;
	MemoryContext cxt;			/* under TopTransactionContext: the plan, the EState */
	LocalTransactionId lxid;
	bool		ran;			/* rescan before the next key */
	bool		abandoned;		/* its owner was released by someone else */
	bool		ending;
	struct RuleExec *next;		/* of the run */
	struct RuleExec *next_live; /* of the transaction */
} RuleExec;

static RuleExec *live_execs = NULL; /* started in this transaction, not ended */
static bool rule_exec_callbacks = false;

static void
rule_exec_unlink(RuleExec *e)
{
	RuleExec  **p;

	for (p = &live_execs; *p != NULL; p = &(*p)->next_live)
		if (*p == e)
		{
			*p = e->next_live;
			return;
		}
}

static bool
rule_exec_live(RuleExec *e)
{
	RuleExec   *l;

	for (l = live_execs; l != NULL; l = l->next_live)
		if (l == e)
			return true;
	return false;
}

/* An owner of ours released by someone else (an abort, a failed portal): its plan is gone. */
static void
rule_exec_released(ResourceReleasePhase phase, bool isCommit, bool isTopLevel, void *arg)
{
	RuleExec   *e;

	for (e = live_execs; e != NULL; e = e->next_live)
		if (e->owner == CurrentResourceOwner && !e->ending)
			e->abandoned = true;
}

/* The transaction's end: its memory (every plan's) goes, and its resource owners. */
static void
rule_exec_xact(XactEvent event, void *arg)
{
	if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_ABORT || event == XACT_EVENT_PREPARE ||
		event == XACT_EVENT_PARALLEL_COMMIT || event == XACT_EVENT_PARALLEL_ABORT)
		live_execs = NULL;
}

/* End the plans a run started (the run's query context is going). */
static void
rule_execs_end(RuleExec *execs)
{
	RuleExec   *e;

	for (e = execs; e != NULL; e = e->next)
	{
		if (!rule_exec_live(e) || e->lxid != pals_my_lxid())
			continue;			/* gone with its transaction */
		rule_exec_unlink(e);
		if (!e->abandoned)
		{
			ResourceOwner save = CurrentResourceOwner;
			bool		orderly = IsTransactionState();

			e->ending = true;
			CurrentResourceOwner = e->owner;
			if (orderly)
			{
				standard_ExecutorFinish(e->qd);
				standard_ExecutorEnd(e->qd);
				FreeQueryDesc(e->qd);
			}
			ResourceOwnerRelease(e->owner, RESOURCE_RELEASE_BEFORE_LOCKS, orderly, false);
			ResourceOwnerRelease(e->owner, RESOURCE_RELEASE_LOCKS, orderly, false);
			ResourceOwnerRelease(e->owner, RESOURCE_RELEASE_AFTER_LOCKS, orderly, false);
			CurrentResourceOwner = save;
			ResourceOwnerDelete(e->owner);
			MemoryContextDelete(e->cxt);
		}
	}
}

/* Start rule n's kept plan for a run (NULL: the rule has no kept plan). */
static RuleExec *
rule_exec_start(MemoRun *run, int32 n, FunctionCallInfo fcinfo, int first)
{
	RulePlan   *rp = rule_plans ? hash_search(rule_plans, &n, HASH_FIND, NULL) : NULL;
	RuleExec   *volatile e;
	MemoryContext cxt;
	MemoryContext old;
	ResourceOwner save;
	PlannedStmt *plan;
	ListCell   *lc;
	int			nparams = PG_NARGS() - first;
	List	   *volatile saved_probes = planning_probes;

	if (rp == NULL || rp->nkeys != nparams || !ActiveSnapshotSet() || CurrentResourceOwner == NULL)
		return NULL;
	if (rule_starts == 0 && stale_plan_cxts != NIL)
	{
		foreach(lc, stale_plan_cxts)
			MemoryContextDelete(lfirst(lc));
		list_free(stale_plan_cxts);
		stale_plan_cxts = NIL;
	}
	if (!rule_exec_callbacks)
	{
		RegisterResourceReleaseCallback(rule_exec_released, NULL);
		RegisterXactCallback(rule_exec_xact, NULL);
		rule_exec_callbacks = true;
	}
	rule_starts++;
	PG_TRY();
	{
		planning_probes = rp->probes;
		for (int tries = 0; rp->plan == NULL || tries == 0; tries++)
		{
			foreach(lc, rp->relids)
				LockRelationOid(lfirst_oid(lc), AccessShareLock);
			if (rp->plan == NULL)
			{
				MemoryContext pcxt = AllocSetContextCreate(rule_plans_cxt, "pals_privacy copy rule plan",
														   ALLOCSET_SMALL_SIZES);

				old = MemoryContextSwitchTo(pcxt);
				rp->plan = plan_rewritten ? plan_rewritten(copyObject(rp->query), "pals_privacy copy rule")
					: standard_planner(copyObject(rp->query), "pals_privacy copy rule", 0, NULL);
				rp->plancxt = pcxt;
				MemoryContextSwitchTo(old);
			}
			foreach(lc, rp->plan->rtable)
			{
				RangeTblEntry *rte = lfirst(lc);

				if (rte->rtekind == RTE_RELATION)
					LockRelationOid(rte->relid, rte->rellockmode);
			}
			if (tries > 10)
				elog(ERROR, "pals_privacy: the copy rule's plan keeps going stale");
		}
	}
	PG_FINALLY();
	{
		rule_starts--;
		planning_probes = saved_probes;
	}
	PG_END_TRY();

	cxt = AllocSetContextCreate(TopTransactionContext, "pals_privacy copy rule run", ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(cxt);
	plan = copyObject(rp->plan);
	e = palloc0(sizeof(RuleExec));
	e->rule = n;
	e->nkeys = nparams;
	e->cxt = cxt;
	e->lxid = pals_my_lxid();
	e->params = makeParamList(nparams);
	for (int i = 0; i < nparams; i++)
	{
		e->params->params[i].isnull = true;
		e->params->params[i].pflags = PARAM_FLAG_CONST;
		e->params->params[i].ptype = get_fn_expr_argtype(fcinfo->flinfo, first + i);
	}
	e->owner = ResourceOwnerCreate(CurrentResourceOwner, "pals_privacy copy rule");
	MemoryContextSwitchTo(old);

	/* live before it holds anything: an error below leaves it to the owner's release */
	e->next_live = live_execs;
	live_execs = e;
	save = CurrentResourceOwner;
	CurrentResourceOwner = e->owner;
	PG_TRY();
	{
		old = MemoryContextSwitchTo(cxt);
		/* (the query's snapshot registered with the plan's owner) */
		e->qd = CreateQueryDesc(plan, "pals_privacy copy rule", GetActiveSnapshot(), InvalidSnapshot,
								None_Receiver, e->params, NULL, 0);
		standard_ExecutorStart(e->qd, 0);
		MemoryContextSwitchTo(old);
	}
	PG_FINALLY();
	{
		CurrentResourceOwner = save;
	}
	PG_END_TRY();
	e->next = run->execs;
	run->execs = e;
	return e;
}

/* Evaluate the kept rule n for the key arguments first.. of fcinfo; false if it has no plan. */
static bool
rule_plan_run(MemoRun *run, int32 n, FunctionCallInfo fcinfo, int first, bool *visible)
{
	RuleExec   *volatile e;
	ResourceOwner save;
	MemoryContext old;
	TupleTableSlot *slot;
	bool		isnull;
	Datum		v;

	for (e = run->execs; e != NULL; e = e->next)
		if (e->rule == n && !e->abandoned)
			break;
	if (e == NULL && (e = rule_exec_start(run, n, fcinfo, first)) == NULL)
		return false;
	if (e->nkeys != PG_NARGS() - first)
		return false;
	for (int i = 0; i < e->nkeys; i++)
	{
		e->params->params[i].value = PG_GETARG_DATUM(first + i);
		e->params->params[i].isnull = PG_ARGISNULL(first + i);
	}
	save = CurrentResourceOwner;
	CurrentResourceOwner = e->owner;
	old = MemoryContextSwitchTo(e->qd->estate->es_query_cxt);
	PG_TRY();
	{
		if (e->ran)
			ExecReScan(e->qd->planstate);
		e->ran = true;
		slot = ExecProcNode(e->qd->planstate);
		*visible = !TupIsNull(slot) && (v = slot_getattr(slot, 1, &isnull), !isnull) && DatumGetBool(v);
	}
	PG_FINALLY();
	{
		MemoryContextSwitchTo(old);
		CurrentResourceOwner = save;
	}
	PG_END_TRY();
	return true;
}

/*
 * _copy_memo(rule, VARIADIC key "any"): the rule's answer for the key: kept,
 * or worked out by the rule's kept plan; NULL if none (a call the rewrite
 * did not make, or a rule without a kept plan: COALESCE then evaluates it).
 */
Datum
pals_privacy_copy_memo(PG_FUNCTION_ARGS)
{
	MemoCall   *m = likely(fcinfo->flinfo->fn_extra != NULL) ? (MemoCall *) fcinfo->flinfo->fn_extra
		: memo_call(fcinfo, 1);
	MemoKey		k;
	MemoAnswer *a;
	memotab_hash *kept_now;
	bool		keyed;
	bool		visible;

	if (m == NULL || PG_ARGISNULL(0))
		PG_RETURN_NULL();
	keyed = memo_key(fcinfo, m, &k);
	if (keyed)
	{
		if (memo_is_last(m->run, &k))
			PG_RETURN_BOOL(m->run->last_visible);
		if (m->durable && (kept_now = memo_kept(m->run)) != NULL)
		{
			a = memotab_lookup(kept_now, k);
			/* a full store: the newer answers were kept for the run only */
			if (a == NULL && kept_now->members >= KEPT_MAX_ANSWERS)
				a = memotab_lookup(m->run->answers, k);
		}
		else
			a = memotab_lookup(m->run->answers, k);
		if (a != NULL)
		{
			memo_set_last(m->run, &k, a->visible);
			PG_RETURN_BOOL(a->visible);
		}
	}
	if (!rule_plan_run(m->run, PG_GETARG_INT32(0), fcinfo, 1, &visible))
		PG_RETURN_NULL();
	if (keyed)
		memo_store(m, &k, visible);
	PG_RETURN_BOOL(visible);
}

/* _copy_memo_keep(rule, visible, VARIADIC key "any"): visible, kept for the key. */
Datum
pals_privacy_copy_memo_keep(PG_FUNCTION_ARGS)
{
	MemoCall   *m;
	MemoKey		k;
	bool		visible;

	if (PG_ARGISNULL(1))
		PG_RETURN_NULL();
	visible = PG_GETARG_BOOL(1);
	m = memo_call(fcinfo, 2);
	if (m == NULL || PG_ARGISNULL(0) || !memo_key(fcinfo, m, &k))
		PG_RETURN_BOOL(visible);
	memo_store(m, &k, visible);
	PG_RETURN_BOOL(visible);
}

typedef struct KeyVars
{
	Index		rti;
	int			depth;			/* query levels entered */
	List	   *vars;			/* of Var *, at level 0, one per column */
	bool		other;			/* a Var of the copy this cannot key by */
} KeyVars;

/* The copy's columns the rule reads (Vars of rti at the rule's own level). */
static bool
key_vars_walker(Node *node, KeyVars *kv)
{
	if (node == NULL)
		return false;
	if (IsA(node, Var))
	{
		Var		   *v = (Var *) node;
		ListCell   *lc;
		Var		   *top;

		if ((int) v->varlevelsup != kv->depth || (Index) v->varno != kv->rti)
			return false;
		if (v->varattno <= 0)
		{
			kv->other = true;	/* a whole row or a system column: not a key */
			return false;
		}
		foreach(lc, kv->vars)
			if (((Var *) lfirst(lc))->varattno == v->varattno)
				return false;
		top = copyObject(v);
		top->varlevelsup = 0;
		kv->vars = lappend(kv->vars, top);
		return false;
	}
	if (IsA(node, PlaceHolderVar) || IsA(node, Param))
	{
		kv->other = true;
		return false;
	}
	if (IsA(node, Query))
	{
		bool		r;

		kv->depth++;
		r = query_tree_walker((Query *) node, key_vars_walker, kv, 0);
		kv->depth--;
		return r;
	}
	return expression_tree_walker(node, key_vars_walker, kv);
}

/* A function a durable rule may call: immutable, or _last_borrower. */
static bool
not_durable_function(Oid fn, void *context)
{
	return fn != *(Oid *) context && func_volatile(fn) != PROVOLATILE_IMMUTABLE;
}

/* Does the rule read anything but its key and data under the snapshot? */
static bool
not_durable_walker(Node *node, void *context)
{
	if (node == NULL)
		return false;
	if (check_functions_in_node(node, not_durable_function, context))
		return true;
	if (IsA(node, SQLValueFunction) || IsA(node, NextValueExpr) || IsA(node, Param) ||
		IsA(node, CurrentOfExpr) || IsA(node, PlaceHolderVar))
		return true;
	if (IsA(node, Query))
		return query_tree_walker((Query *) node, not_durable_walker, context, 0);
	return expression_tree_walker(node, not_durable_walker, context);
}

/*
 * May the answers of this rule outlive their run?  (See "Answers kept
 * across statements" above.)
 */
static bool
rule_durable(Expr *rule)
{
	Oid			last_borrower = redact_derived()->fn_last_borrower;

	return !not_durable_walker((Node *) rule, &last_borrower);
}

static Oid
memo_function(const char *name, int nargs, Oid *types)
{
	return LookupFuncName(list_make2(makeString("pals_privacy"), makeString(pstrdup(name))),
						  nargs, types, true);
}

/*
 * _copy_memo(n, key), the rule kept as a query of its own (rule number n);
 * COALESCE(_copy_memo(n, key), _copy_memo_keep(n, rule, key)) where it
 * cannot be kept so; the rule as it is where the functions are missing (the
 * library newer than the installed script) or the rule reads no key or
 * something else of the row.
 */
static Expr *
memoized(Expr *rule, Index rti, bool durable, const CopyBinding *binding)
{
	Oid			t2[2] = {INT4OID, ANYOID};
	Oid			t3[3] = {INT4OID, BOOLOID, ANYOID};
	Oid			memo = memo_function("_copy_memo", 2, t2);
	Oid			keep = memo_function("_copy_memo_keep", 3, t3);
	KeyVars		kv = {rti, 0, NIL, false};
	Const	   *number;
	FuncExpr   *read;
	FuncExpr   *write;
	CoalesceExpr *c;

	if (!OidIsValid(memo) || !OidIsValid(keep) || IsA(rule, Const))
		return rule;
	key_vars_walker((Node *) rule, &kv);
	if (kv.other || kv.vars == NIL || list_length(kv.vars) > FUNC_MAX_ARGS - 2)
		return rule;
	number = makeConst(INT4OID, -1, InvalidOid, sizeof(int32), Int32GetDatum(++memo_rules), false, true);
	if (durable)
	{
		MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);

		durable_rules = bms_add_member(durable_rules, memo_rules);
		MemoryContextSwitchTo(old);
	}
	read = makeFuncExpr(memo, BOOLOID, list_concat(list_make1(number), copyObject(kv.vars)),
						InvalidOid, InvalidOid, COERCE_EXPLICIT_CALL);
	read->location = PALS_MEMO_LOCATION;
	if (rule_plan_register(memo_rules, rule, rti, kv.vars, binding))
		return (Expr *) read;
	write = makeFuncExpr(keep, BOOLOID, list_concat(list_make2(copyObject(number), rule), kv.vars),
						 InvalidOid, InvalidOid, COERCE_EXPLICIT_CALL);
	write->location = PALS_MEMO_LOCATION;
	c = makeNode(CoalesceExpr);
	c->coalescetype = BOOLOID;
	c->coalescecollid = InvalidOid;
	c->args = list_make2(read, write);
	c->location = -1;
	return (Expr *) c;
}

/*
 * The rule of a copy: its source's (copy_source_visible), and its key not
 * severed for good (not_tombed), in that order: the probe of the recorded
 * keys runs only for rows whose source the class reads.  Evaluated once per
 * key and executor run (memoized).
 */
static Expr *
copy_rule(const CopyBinding *c, Oid relid, Index rti, const Redaction *red, bool *durable)
{
	Expr	   *visible = copy_source_visible(c, relid, rti, red);
	Expr	   *alive = not_tombed(c, relid, rti);

	if (durable != NULL)
		*durable = rule_durable(visible);	/* the tombs' casts read canonical text */
	if (alive != NULL && !(IsA(visible, Const) && !DatumGetBool(((Const *) visible)->constvalue)))
		visible = makeBoolExpr(AND_EXPR, list_make2(visible, alive), -1);
	return visible;
}

static Expr *
copy_visible(const CopyBinding *c, Oid relid, Index rti, const Redaction *red)
{
	bool		durable;
	Expr	   *rule = copy_rule(c, relid, rti, red, &durable);

	return memoized(rule, rti, durable, c);
}

void
redact_copies_init(redact_plan_rewritten_type plan)
{
	redact_copy_visible = copy_visible;
	plan_rewritten = plan;
}
