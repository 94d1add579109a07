"""One hook for every change readers can see.

The domain (monographs/workflow.py, the importer) announces that content changed; what depends on it —
the search index and the whole-page cache — listens (connected in MonographsConfig.ready).  The
workflow never imports the page cache, and a new consumer is one more receiver.

Receivers run in the caller's transaction: a rollback takes the search index back too.
"""

from django.dispatch import Signal

# Sent with monographs=[…] (whose live revision changed) and drugs=[…] (whose names, classes or
# monographs changed: every monograph of each is reindexed).
content_changed = Signal()


def announce(*, monographs=(), drugs=()) -> None:
    content_changed.send(sender=None, monographs=list(monographs), drugs=list(drugs))


# Sent with event=<WorkflowEvent> by workflow._record, inside the move's transaction: notifications listen.
moved = Signal()
