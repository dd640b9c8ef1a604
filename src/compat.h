/*
 * compat.h
 *     Differences between the PostgreSQL versions pals_privacy builds
 *     against, so that the code below reads as one version.
 */
#ifndef PALS_COMPAT_H
#define PALS_COMPAT_H

#include "nodes/parsenodes.h"

/*
 * A range table entry moved into a subquery keeps its permission check
 * (PostgreSQL 16 keeps permissions in the query's RTEPermissionInfo list;
 * before, in the entry itself).  outer_rte loses its own.
 */
static inline void
pals_move_permissions(Query *outer, RangeTblEntry *outer_rte, Query *sub, RangeTblEntry *sub_rte)
{
#if PG_VERSION_NUM >= 160000
	if (outer_rte->perminfoindex != 0)
	{
		RTEPermissionInfo *perm = list_nth(outer->rteperminfos, outer_rte->perminfoindex - 1);

		sub->rteperminfos = list_make1(copyObject(perm));
		sub_rte->perminfoindex = 1;
		/* the outer entry stays in the outer list, with nothing required */
		perm->requiredPerms = 0;
		perm->selectedCols = perm->insertedCols = perm->updatedCols = NULL;
		outer_rte->perminfoindex = 0;
	}
#else
	outer_rte->requiredPerms = 0;
	outer_rte->checkAsUser = InvalidOid;
	outer_rte->selectedCols = outer_rte->insertedCols = outer_rte->updatedCols = NULL;
	outer_rte->extraUpdatedCols = NULL;
#endif
}

#endif							/* PALS_COMPAT_H */
