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
 *                  WHERE s.source_key = copy.key_column
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
 *     The subquery reads the source without a check of the caller's
 *     privileges on it (as PostgreSQL reads an inheritance child through its
 *     parent): what the caller learns is that boolean, computed under the
 *     caller's class.  The rules are built once per class
 *     (redact_rules_for) and the subquery is part of them.
 */
#include "redact_internal.h"
#include "compat.h"

#include "access/relation.h"
#include "catalog/pg_type.h"
#include "nodes/makefuncs.h"
#include "parser/parse_node.h"
#include "parser/parse_oper.h"
#include "parser/parse_relation.h"
#include "parser/parsetree.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"

static AttrNumber
copy_column(Oid relid, const char *column)
{
	AttrNumber	attno = get_attnum(relid, column);

	if (attno == InvalidAttrNumber)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("pals_privacy: bound column \"%s\" of \"%s\" no longer exists",
						column, get_rel_name(relid)),
				 errhint("Bind the copy again with pals_privacy.unbind_copy() and pals_privacy.bind_copy().")));
	return attno;
}

static Var *
var_of(Oid relid, const char *column, Index varno, Index levelsup)
{
	AttrNumber	attno = copy_column(relid, column);
	Oid			type;
	int32		typmod;
	Oid			coll;

	get_atttypetypmodcoll(relid, attno, &type, &typmod, &coll);
	return makeVar(varno, attno, type, typmod, coll, levelsup);
}

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
 * Does the class read the patron of the source row of this copy row (the
 * copy being range table entry rti of relation relid)?  An EXISTS sublink.
 */
static Expr *
copy_source_visible(const CopyBinding *c, Oid relid, Index rti, const Redaction *red)
{
	const LoanBinding *b = pals_loan_binding_for(c->source);
	Relation	rel;
	ParseState *pstate;
	ParseNamespaceItem *nsitem;
	Query	   *sub;
	RangeTblRef *rtr;
	List	   *quals;
	Var		   *patron;
	SubLink    *link;

	if (b == NULL)				/* the source is no longer bound: nothing reads as visible */
		return (Expr *) makeBoolConst(false, false);
	rel = relation_open(c->source, AccessShareLock);
	pstate = make_parsestate(NULL);
	nsitem = addRangeTableEntryForRelation(pstate, rel, AccessShareLock, NULL, true, false);

	sub = makeNode(Query);
	sub->commandType = CMD_SELECT;
	sub->querySource = QSRC_ORIGINAL;
	sub->canSetTag = true;
	sub->rtable = pstate->p_rtable;
	pals_take_permissions(sub, pstate);
	pals_read_unchecked(sub, rt_fetch(nsitem->p_rtindex, sub->rtable));

	patron = var_of(c->source, b->patron_column, 1, 0);
	quals = list_make2(make_op(pstate, list_make1(makeString("=")),
							   (Node *) var_of(c->source, c->source_key, 1, 0),
							   (Node *) var_of(relid, c->key_column, rti, 1), NULL, -1),
					   not_null((Expr *) patron));
	if (b->sever_with == SEVER_PLACEHOLDER)
		quals = lappend(quals, make_op(pstate, list_make1(makeString("<>")),
									   (Node *) copyObject(patron),
									   (Node *) makeConst(UNKNOWNOID, -1, InvalidOid, -2,
														  CStringGetDatum(pstrdup(b->placeholder)),
														  false, false), NULL, -1));
	rtr = makeNode(RangeTblRef);
	rtr->rtindex = nsitem->p_rtindex;
	sub->jointree = makeFromExpr(list_make1(rtr), (Node *) makeBoolExpr(AND_EXPR, quals, -1));
	sub->targetList = list_make1(makeTargetEntry((Expr *) makeConst(INT4OID, -1, InvalidOid, sizeof(int32),
																	Int32GetDatum(1), false, true),
												 1, pstrdup("visible"), false));
	free_parsestate(pstate);
	relation_close(rel, NoLock);

	/* the source read as this class reads it */
	redact_level(sub, red);

	link = makeNode(SubLink);
	link->subLinkType = EXISTS_SUBLINK;
	link->subLinkId = 0;
	link->testexpr = NULL;
	link->operName = NIL;
	link->subselect = (Node *) sub;
	link->location = -1;
	return (Expr *) link;
}

void
redact_copies_init(void)
{
	redact_copy_visible = copy_source_visible;
}
