/*
 * snapshot_seen.c
 *     What an MVCC snapshot sees of other transactions, kept and compared.
 *
 *     Answers read under one snapshot (an item's last borrower, a copy
 *     rule's verdict) stay right under another that sees the same
 *     transactions as committed: the same xmin, xmax and transactions in
 *     progress between them.  (A transaction that ended in between left the
 *     in-progress list or, if it began after the first snapshot, moved xmax
 *     past itself.)  last_borrower.c and redact_copies.c keep their answers
 *     across statements on that ground; this is the one place that copies
 *     and compares the snapshot for them.
 *
 *     A snapshot whose subtransaction cache overflowed (another session has
 *     more than 64 subtransactions with an XID open, say a batch with a
 *     savepoint per row) can keep a subxcnt counted before, while its copy,
 *     which every active and registered snapshot is (CopySnapshot), has no
 *     subxip array: the XIDs are not used then (visibility looks the parent
 *     up in pg_subtrans and checks xip), except in recovery, where subxip
 *     holds the top-level XIDs too and is copied.  Reading subxip[0 ..
 *     subxcnt) of such a copy read through a NULL pointer: a staff backend
 *     crashed whenever two other sessions were in that state.
 */
#include "pals_privacy.h"

#include "utils/memutils.h"

/* How many of the snapshot's subtransaction XIDs it holds (CopySnapshot's rule). */
static int32
held_subxcnt(Snapshot snap)
{
	if (snap->subxcnt <= 0 || (snap->suboverflowed && !snap->takenDuringRecovery))
		return 0;
	Assert(snap->subxip != NULL);
	return snap->subxcnt;
}

/* Keep what snap sees of other transactions in seen, allocated in cxt. */
void
pals_seen_keep(PalsSeen *seen, Snapshot snap, MemoryContext cxt)
{
	seen->xmin = snap->xmin;
	seen->xmax = snap->xmax;
	seen->xcnt = snap->xcnt;
	seen->xip = MemoryContextAlloc(cxt, Max(snap->xcnt, 1) * sizeof(TransactionId));
	if (snap->xcnt > 0)
		memcpy(seen->xip, snap->xip, snap->xcnt * sizeof(TransactionId));
	seen->subxcnt = held_subxcnt(snap);
	seen->subxip = MemoryContextAlloc(cxt, Max(seen->subxcnt, 1) * sizeof(TransactionId));
	if (seen->subxcnt > 0)
		memcpy(seen->subxip, snap->subxip, seen->subxcnt * sizeof(TransactionId));
	seen->suboverflowed = snap->suboverflowed;
	seen->recovery = snap->takenDuringRecovery;
}

/* Does snap see the same transactions as committed as the kept one? */
bool
pals_seen_same(const PalsSeen *seen, Snapshot snap)
{
	int32		subxcnt = held_subxcnt(snap);

	return snap->xmin == seen->xmin && snap->xmax == seen->xmax &&
		snap->xcnt == seen->xcnt && subxcnt == seen->subxcnt &&
		snap->suboverflowed == seen->suboverflowed &&
		snap->takenDuringRecovery == seen->recovery &&
		(snap->xcnt == 0 ||
		 memcmp(snap->xip, seen->xip, snap->xcnt * sizeof(TransactionId)) == 0) &&
		(subxcnt == 0 ||
		 memcmp(snap->subxip, seen->subxip, subxcnt * sizeof(TransactionId)) == 0);
}
