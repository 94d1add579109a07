"""Worker processes for the batch work that is pure CPU: reading source documents, rendering bodies.

An import reads its documents and renders their bodies here while its own process writes the rows
(monographs/importers/loader.py); `loaddata` and `rerender` render the pages they store here
(monographs/prerender.py).  On 2 cores a 1,000-document import spent half its time reading and
rendering in one process while the other core idled.

The processes are forked from the one doing the batch, so they have its settings and code and start at
once; they never use its database connection (they are handed text and give back text) and leave by
`os._exit`, so they cannot close it either.  Media storage must be a local folder: rendering checks that
the files a page shows exist, and a forked process must not share another's open connection to a bucket.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from contextlib import nullcontext

from django.core.files.storage import FileSystemStorage, default_storage

# Fewer items than this are done in the batch's own process: forking costs more than it saves.
PARALLEL_FROM = 64


def cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1


def pool(items: int, *storages, initializer=None):
    """A pool of one worker process per core for `items` pieces of work, as a context manager; or a
    `nullcontext(None)` when they are too few, there is one core, or a storage (default_storage, and any
    other given) is not a local folder."""
    local = all(isinstance(storage, FileSystemStorage) for storage in (default_storage, *storages))
    if items < PARALLEL_FROM or cores() < 2 or not local:
        return nullcontext(None)
    return multiprocessing.get_context("fork").Pool(cores(), initializer=_start, initargs=(initializer,))


def _start(initializer) -> None:
    # A profiler of the batch's process (the benchmark's) is inherited across fork and would measure,
    # and slow, work nobody reads.
    sys.setprofile(None)
    if initializer is not None:
        initializer()


def render_plain(body: str):
    """A body without tables, rendered as `rendering.render_page` renders it (see rendering.rendered_ahead)."""
    from .rendering import render_document

    return render_document(body, {})
