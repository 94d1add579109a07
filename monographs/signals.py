"""One hook for every change readers can see.

The domain (monographs/workflow.py, the importer) announces that content changed; what depends on it —
the search index and the whole-page cache — follows.  The announcement moves the content generation on
(monographs.models.ContentGeneration: every cached page of every process becomes stale when the
transaction commits) and sends `content_changed`, which the search index listens to (connected in
MonographsConfig.ready).  The workflow never imports the page cache, and a new consumer is one more
receiver.

Both happen in the caller's transaction: a rollback takes the search index and the generation back too.
"""

from django.dispatch import Signal

from .models import ContentGeneration, Monograph

# Sent with monographs=[…] (whose live revision changed) and drugs=[…] (whose names, classes or
# monographs changed: every monograph of each is reindexed).
content_changed = Signal()


def announce(*, monographs=(), drugs=(), generation: bool = True) -> None:
    """Announce a change, at the end of the transaction that makes it.

    Moving the generation on locks its row until the transaction commits; the importer announces its
    whole batch once, at its end, so other processes' publishes wait for that commit only.  A caller that
    announces several times in one transaction may pass generation=False for all but the last.
    """
    # `generation` tells receivers that keep derived data stamped with the generation (the stored
    # consistency run) whether this announcement moves it on.
    content_changed.send(sender=None, monographs=list(monographs), drugs=list(drugs), generation=generation)
    if generation:
        ContentGeneration.move_on()


# How many ids one query names: SQLite builds before 3.32 take at most 999 parameters, and a batch (an
# import of 20,000 documents announces them all at once) is worked through in pieces of this size.
CHUNK = 500


def chunks(ids, size: int = CHUNK):
    ids = list(ids)
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def release(objects, seen: set | None = None) -> None:
    """Break the reference cycles that select_related and prefetch_related make among model instances (a
    revision holds its FAQs, each FAQ its revision; a drug its aliases, each alias its drug), so a batch a
    receiver is done with is freed when it is dropped, not at the garbage collector's rare full pass: a
    `loaddata` of 600 documents peaked 20 MB higher than one of 60 by such garbage alone."""
    seen = set() if seen is None else seen
    for obj in objects:
        if obj is None or id(obj) in seen:
            continue
        seen.add(id(obj))
        related = list(obj._state.fields_cache.values())
        obj._state.fields_cache = {}
        for rows in obj.__dict__.pop("_prefetched_objects_cache", {}).values():
            related.extend(rows._result_cache or ())
        release(related, seen)


def changed_monograph_ids(monographs=(), drugs=()) -> list[int]:
    """What an announcement covers, for its receivers: the monographs named and every monograph of the
    drugs named, each once, in id order (one query per CHUNK drugs, however many there are)."""
    ids = {monograph.pk for monograph in monographs}
    for chunk in chunks(sorted({drug.pk for drug in drugs})):
        ids.update(Monograph.objects.filter(drug_id__in=chunk).values_list("pk", flat=True))
    return sorted(ids)


# Sent with event=<WorkflowEvent> by workflow._record, inside the move's transaction: notifications listen.
moved = Signal()
