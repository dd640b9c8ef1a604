/*
 * compat.h
 *     Differences between the PostgreSQL versions pals_privacy builds
 *     against, so that the code below reads as one version.
 */
#ifndef PALS_COMPAT_H
#define PALS_COMPAT_H

#include "executor/executor.h"
#include "nodes/parsenodes.h"
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

#endif							/* PALS_COMPAT_H */
