/*
 * compat.h
 *     Every difference between the PostgreSQL versions pals_privacy supports
 *     (15, 16, 17, 18), in one place: the rest of the code calls the names
 *     below and contains no version test.  Simple renames are macros (they
 *     expand where the caller has included the server header concerned);
 *     differences that need a body are functions in compat.c.
 *
 *     Tested: 15 (Debian package) and 18 (source build, tools/build-pg.sh).
 *     16 and 17 follow PostgreSQL's documented API changes (release notes
 *     and the server headers) and are not built here.
 *
 *     Included by pals_privacy.h right after postgres.h.
 */
#ifndef PALS_COMPAT_H
#define PALS_COMPAT_H

#if PG_VERSION_NUM < 150000
#error "pals_privacy needs PostgreSQL 15 or later"
#endif

/* 16: the varlena macros (VARSIZE, VARDATA, SET_VARSIZE) left postgres.h. */
#if PG_VERSION_NUM >= 160000
#include "varatt.h"
#endif

/* 17: the backend's local transaction id moved into MyProc->vxid. */
#if PG_VERSION_NUM >= 170000
#define pals_my_lxid()	(MyProc->vxid.lxid)
#else
#define pals_my_lxid()	(MyProc->lxid)
#endif

/* 16 exports the item pointer <-> Datum conversions; 15 keeps them in tid.c. */
#if PG_VERSION_NUM < 160000
#define DatumGetItemPointer(X)	 ((ItemPointer) DatumGetPointer(X))
#define ItemPointerGetDatum(X)	 PointerGetDatum(X)
#define PG_GETARG_ITEMPOINTER(n) DatumGetItemPointer(PG_GETARG_DATUM(n))
#endif

/*
 * 16: table_tuple_update() reports which indexes need new entries as a
 * TU_UpdateIndexes (an enum: passing a bool's address overwrites the stack),
 * and ExecInsertIndexTuples() takes whether only summarizing indexes do.
 * Declare the variable as PalsUpdateIndexes and pass it on unchanged.
 */
#if PG_VERSION_NUM >= 160000
#define PalsUpdateIndexes	TU_UpdateIndexes
#define pals_update_needs_indexes(u)	((u) != TU_None)
#define pals_insert_index_tuples(rri, slot, estate, update, noDupErr, specConflict, arbiters, u) \
	ExecInsertIndexTuples((rri), (slot), (estate), (update), (noDupErr), (specConflict), (arbiters), \
						  (u) == TU_Summarizing)
#else
#define PalsUpdateIndexes	bool
#define pals_update_needs_indexes(u)	(u)
#define pals_insert_index_tuples(rri, slot, estate, update, noDupErr, specConflict, arbiters, u) \
	ExecInsertIndexTuples((rri), (slot), (estate), (update), (noDupErr), (specConflict), (arbiters))
#endif

/* 16: EvalPlanQualInit() takes the result relations (none for ours). */
#if PG_VERSION_NUM >= 160000
#define pals_epq_init(epq, estate, subplan, auxrowmarks, epqParam) \
	EvalPlanQualInit((epq), (estate), (subplan), (auxrowmarks), (epqParam), NIL)
#else
#define pals_epq_init(epq, estate, subplan, auxrowmarks, epqParam) \
	EvalPlanQualInit((epq), (estate), (subplan), (auxrowmarks), (epqParam))
#endif

/* 18: index_beginscan() takes an instrumentation struct (none). */
#if PG_VERSION_NUM >= 180000
#define pals_index_beginscan(heap, index, snapshot, nkeys, norderbys) \
	index_beginscan((heap), (index), (snapshot), NULL, (nkeys), (norderbys))
#else
#define pals_index_beginscan(heap, index, snapshot, nkeys, norderbys) \
	index_beginscan((heap), (index), (snapshot), (nkeys), (norderbys))
#endif

/* 18: expandRTE() takes which RETURNING row (old/new) Vars refer to. */
#if PG_VERSION_NUM >= 180000
#define pals_expand_rte(rte, rtindex, sublevels_up, location, include_dropped, colnames, colvars) \
	expandRTE((rte), (rtindex), (sublevels_up), VAR_RETURNING_DEFAULT, (location), (include_dropped), \
			  (colnames), (colvars))
#else
#define pals_expand_rte(rte, rtindex, sublevels_up, location, include_dropped, colnames, colvars) \
	expandRTE((rte), (rtindex), (sublevels_up), (location), (include_dropped), (colnames), (colvars))
#endif

/* 18: PortalRun() lost its run_once argument (always true for us). */
#if PG_VERSION_NUM >= 180000
#define pals_portal_run(portal, count, isTopLevel, dest, altdest, qc) \
	PortalRun((portal), (count), (isTopLevel), (dest), (altdest), (qc))
#else
#define pals_portal_run(portal, count, isTopLevel, dest, altdest, qc) \
	PortalRun((portal), (count), (isTopLevel), true, (dest), (altdest), (qc))
#endif

/*
 * The static inline functions below need these headers (they are the
 * redaction's, written on its branch: src/redact_*.c).
 */
#include "executor/executor.h"
#include "nodes/parsenodes.h"
#include "access/htup_details.h"
#include "catalog/pg_class.h"
#include "utils/syscache.h"
#include "parser/parse_node.h"
#include "access/sysattr.h"

/*
 * Permission checks of range table entries (PostgreSQL 16 keeps them in the
 * query's RTEPermissionInfo list; before, in the entry itself).
 *
 * pals_move_permissions: the check of outer_rte (in outer) is made on
 * sub_rte (in sub) instead; outer_rte requires nothing any more.
 * pals_clear_permissions: rte (in q) requires nothing.
 */
static inline void
pals_clear_permissions(Query *q, RangeTblEntry *rte)
{
#if PG_VERSION_NUM >= 160000
	/*
	 * Zeroed, the entry stays in the list (the planner still looks it up for
	 * an inheritance parent).  Assert-enabled servers object to an
	 * RTEPermissionInfo requiring nothing (ExecCheckPermissions): to be fixed.
	 */
	if (rte->perminfoindex != 0)
	{
		RTEPermissionInfo *perm = list_nth(q->rteperminfos, rte->perminfoindex - 1);

		perm->requiredPerms = 0;
		perm->selectedCols = perm->insertedCols = perm->updatedCols = NULL;
	}
#else
	rte->requiredPerms = 0;
	rte->checkAsUser = InvalidOid;
	rte->selectedCols = rte->insertedCols = rte->updatedCols = NULL;
	rte->extraUpdatedCols = NULL;
#endif
}

/*
 * pals_read_unchecked: rte (a relation in q) is read without a check of the
 * current user's privileges, as PostgreSQL reads an inheritance child
 * through its parent.  16+ wants an RTEPermissionInfo for every relation
 * it plans, requiring something: the owner's SELECT, which always holds.
 */
static inline void
pals_read_unchecked(Query *q, RangeTblEntry *rte)
{
#if PG_VERSION_NUM >= 160000
	if (rte->perminfoindex != 0)
	{
		RTEPermissionInfo *perm = list_nth(q->rteperminfos, rte->perminfoindex - 1);

		HeapTuple	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(rte->relid));

		if (!HeapTupleIsValid(tup))
			elog(ERROR, "cache lookup failed for relation %u", rte->relid);
		perm->requiredPerms = ACL_SELECT;
		perm->checkAsUser = ((Form_pg_class) GETSTRUCT(tup))->relowner;
		ReleaseSysCache(tup);
		perm->selectedCols = perm->insertedCols = perm->updatedCols = NULL;
	}
#else
	pals_clear_permissions(q, rte);
#endif
}

static inline void
pals_move_permissions(Query *outer, RangeTblEntry *outer_rte, Query *sub, RangeTblEntry *sub_rte)
{
#if PG_VERSION_NUM >= 160000
	if (outer_rte->perminfoindex != 0)
	{
		RTEPermissionInfo *perm = list_nth(outer->rteperminfos, outer_rte->perminfoindex - 1);

		sub->rteperminfos = list_make1(copyObject(perm));
		sub_rte->perminfoindex = 1;
	}
	else
		pals_clear_permissions(sub, sub_rte);
	pals_clear_permissions(outer, outer_rte);
	outer_rte->perminfoindex = 0;
#else
	sub_rte->requiredPerms = outer_rte->requiredPerms;
	sub_rte->checkAsUser = outer_rte->checkAsUser;
	sub_rte->selectedCols = bms_copy(outer_rte->selectedCols);
	sub_rte->insertedCols = bms_copy(outer_rte->insertedCols);
	sub_rte->updatedCols = bms_copy(outer_rte->updatedCols);
	sub_rte->extraUpdatedCols = bms_copy(outer_rte->extraUpdatedCols);
	pals_clear_permissions(outer, outer_rte);
#endif
}

/* A query built by hand from a ParseState takes its permission entries (16+ keeps them apart). */
static inline void
pals_take_permissions(Query *q, ParseState *pstate)
{
#if PG_VERSION_NUM >= 160000
	q->rteperminfos = pstate->p_rteperminfos;
#endif
}

/* COPY FROM: the caller may insert into these columns (attnums) of the relation. */
static inline void
pals_check_insert_permission(ParseState *pstate, ParseNamespaceItem *nsitem, List *attnums)
{
	ListCell   *lc;
#if PG_VERSION_NUM >= 160000
	RTEPermissionInfo *perm = nsitem->p_perminfo;

	perm->requiredPerms = ACL_INSERT;
	foreach(lc, attnums)
		perm->insertedCols = bms_add_member(perm->insertedCols,
											lfirst_int(lc) - FirstLowInvalidHeapAttributeNumber);
	ExecCheckPermissions(pstate->p_rtable, list_make1(perm), true);
#else
	RangeTblEntry *rte = nsitem->p_rte;

	rte->requiredPerms = ACL_INSERT;
	foreach(lc, attnums)
		rte->insertedCols = bms_add_member(rte->insertedCols,
										   lfirst_int(lc) - FirstLowInvalidHeapAttributeNumber);
	ExecCheckRTPerms(pstate->p_rtable, true);
#endif
}

/* Functions with a body per version: compat.c. */
struct EState;
struct RangeTblEntry;
struct Bitmapset;

/*
 * The view a range table entry expanded by the rewriter came from, or
 * InvalidOid.  15 leaves the view's *OLD* entry first in the subquery's range
 * table; 16 dropped that entry and keeps the view's relid and relkind on the
 * subquery entry itself.
 */
extern Oid	pals_expanded_view(struct RangeTblEntry *rte);

/*
 * Give an executor state a range table of one relation, checked for the
 * given permissions (16 keeps them in RTEPermissionInfo; 18 wants the
 * unpruned relations).  updatedCols: for UPDATE OF triggers.
 */
extern void pals_init_range_table(struct EState *estate, struct RangeTblEntry *rte,
								  uint64 perms, struct Bitmapset *updatedCols);

/*
 * A zone name as timezone(zone, ...) reads it (16 made that reading one
 * function, DecodeTimezoneName; 15 does it inline in each): a fixed-offset
 * abbreviation (*offset: seconds east of UTC), a zone (*tz), or anything
 * else (a dynamic abbreviation, an unknown name: the built-ins' business).
 */
#define PALS_ZONE_FIXED	0
#define PALS_ZONE_NAME	1
#define PALS_ZONE_OTHER	2
struct pg_tz;
extern int	pals_decode_zone(const char *name, int *offset, struct pg_tz **tz);

#endif							/* PALS_COMPAT_H */
