/*
 * tracker.h
 *     The last-borrower tracker, pals_privacy.last_borrower (tracker.c):
 *     written by severing (sever.c), read by _last_borrower()
 *     (last_borrower.c).
 */
#ifndef PALS_TRACKER_H
#define PALS_TRACKER_H

#include "storage/itemptr.h"
#include "utils/snapshot.h"

/* severing (SPI connected, safe search path) */
extern void pals_tracker_claim(const LoanBinding *b, const char *item);
extern bool pals_tracker_swap(const LoanBinding *b, const char *item, Oid relid, ItemPointer tid,
							  Oid *old_relid, ItemPointer old_tid, bool *old_pinned);
/* how pals_tracker_set() leaves the entry's pin (last_borrower.pinned) */
typedef enum PalsTrackerPin
{
	TRACKER_BY_DATE,			/* the dates' choice: a rebuild may take it again */
	TRACKER_PIN,				/* chosen against the dates: a rebuild keeps it while it is live */
	TRACKER_CARRY				/* as the entry was */
} PalsTrackerPin;
extern void pals_tracker_set(const LoanBinding *b, const char *item, Oid relid, ItemPointer tid,
							 PalsTrackerPin pin);
/* the item's last-borrower row was deleted, re-opened or moved: no last borrower until a close */
extern bool pals_tracker_bury(const LoanBinding *b, const char *item, Oid relid, ItemPointer tid);

/* _last_borrower() */
typedef void (*PalsTrackerEntryFn) (void *arg, Oid row_relid, ItemPointer row_tid, Datum item);
extern bool pals_tracker_names(Oid binding, text *item, Oid row_relid, ItemPointer row_tid,
							   Snapshot snap);
extern void pals_tracker_foreach(Oid binding, Snapshot snap, PalsTrackerEntryFn fn, void *arg);
extern double pals_tracker_size(void);

/* tracker_rewrite.c: has the relation a new file since the tracker was built (its entries stale)? */
extern bool pals_tracker_file_stale(Oid relid, Snapshot snap);

#endif							/* PALS_TRACKER_H */
