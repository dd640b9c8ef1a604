/*
 * direct_write.h
 *     A row written through the executor without SQL; heap-header reads
 *     (direct_write.c).  Used by severing and the tracker.
 */
#ifndef PALS_DIRECT_WRITE_H
#define PALS_DIRECT_WRITE_H

#include "nodes/execnodes.h"
#include "utils/relcache.h"
#include "utils/snapshot.h"

/*
 * A change to one relation made through the executor without SQL, as an
 * UPDATE of a row would make it: constraints, indexes, and (with triggers)
 * the table's row triggers, whose AFTER events fire at pals_direct_end.  No
 * permission is checked: the extension decides these changes.
 */
typedef struct DirectWrite
{
	Relation	rel;
	EState	   *estate;
	ResultRelInfo *rri;
	EPQState	epqstate;
	bool		triggers;
} DirectWrite;

extern void pals_direct_begin(DirectWrite *w, Oid relid, AclMode perms, int nupdated,
							  const AttrNumber *updated, bool triggers);
extern TupleTableSlot *pals_direct_slot(DirectWrite *w);
extern TupleTableSlot *pals_direct_changed(DirectWrite *w, TupleTableSlot *old, int ncols,
										   AttrNumber *attnos, Datum *values, bool *nulls);
extern void pals_direct_end(DirectWrite *w);

extern Snapshot pals_statement_snapshot(void);
extern bool pals_row_locked_by_other(Oid relid, ItemPointer tid);
extern bool pals_row_is_current(Relation rel, ItemPointer tid);

/* placeholder_guard.c: triggers of our own, and the foreign-key check of a guarded placeholder, left out of a sever */
#define PALS_LEAVE_OUT_SEVER		0x01	/* pals_privacy_sever */
#define PALS_LEAVE_OUT_TOMBSTONE	0x02	/* pals_privacy_tombstone */
extern void pals_leave_out_own_triggers(EState *estate, ResultRelInfo *rri, int which);
extern void pals_placeholder_skip_fk_check(EState *estate, ResultRelInfo *rri, int npatron,
										   const AttrNumber *patron_attnos, const char *placeholder);

#endif							/* PALS_DIRECT_WRITE_H */
