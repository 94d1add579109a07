"""Pre-rendered pages: a published revision's rendered body, contents and FAQ answers, stored.

A revision's content never changes once it is submitted, so what the renderer makes of it is worked
out once, when it goes live, and kept in `RenderedRevision` with the renderer's version
(`rendering.RENDERER_VERSION`).  A public page then reads it with the revision (one join, no
rendering); the search index takes its text from the same rendering.

- Written by `on_content_changed`, a receiver of monographs.signals.content_changed: every publish,
  import and unpublish announces the monographs whose live revision changed (workflow.py's one door).
- Written by the project's `loaddata` for every live revision of the fixture (`store_missing`).
- Rebuilt by `manage.py rerender` after the renderer changed (`store_missing` finds every row of
  another version).
- Derived data: left out of `dumpdata` (monographs/management/commands/dumpdata.py).

A page whose row is missing or from another renderer version is rendered live (`page_of`), so a
new renderer is never wrong, only slower until `rerender` has run.
"""

from __future__ import annotations

from django.db.models import Q

from . import rendering, workers
from .models import RenderedRevision, Revision
from .rendering import RenderedPage, page_prefetch, render_page
from .signals import changed_monograph_ids, chunks, release


def stored(revision: Revision) -> RenderedPage | None:
    """The revision's stored page when the current renderer made it, else None.

    Reads `revision.prerendered` (loaded with the revision by `select_related("prerendered")`, or
    fetched here)."""
    try:
        row = revision.prerendered
    except RenderedRevision.DoesNotExist:
        return None
    _forget(revision)
    if row.renderer_version != rendering.RENDERER_VERSION:
        return None
    return RenderedPage(
        html=row.html,
        toc=row.toc,
        faqs=[(question, answer) for question, answer, _ in row.faqs],
        faq_texts=[text for _, _, text in row.faqs],
    )


def _forget(revision: Revision) -> None:
    """Drop the revision's loaded row: it points back at the revision, and such reference cycles wait
    for the garbage collector's rare full passes, so a rebuild over every live revision grew with the
    corpus (11 MB at 400 documents)."""
    revision._state.fields_cache.pop("prerendered", None)


def _row(revision: Revision, page: RenderedPage) -> RenderedRevision:
    faqs = [[question, answer, text] for (question, answer), text in zip(page.faqs, page.faq_texts, strict=True)]
    return RenderedRevision(
        revision=revision, renderer_version=rendering.RENDERER_VERSION, html=page.html, toc=page.toc, faqs=faqs
    )


def store(revision: Revision, page: RenderedPage | None = None) -> RenderedPage:
    """Render `revision` (unless `page` is its rendering already) and keep the result."""
    page = page or render_page(revision)
    try:
        existing = revision.prerendered
    except RenderedRevision.DoesNotExist:
        existing = None
    _forget(revision)
    _row(revision, page).save(force_insert=existing is None)
    return page


def page_of(revision: Revision) -> RenderedPage:
    """The revision's page: stored, or rendered now (and stored, for a live revision)."""
    page = stored(revision)
    if page is None:
        page = store(revision) if revision.status == Revision.Status.PUBLISHED else render_page(revision)
    return page


def _outdated() -> Q:
    return Q(prerendered__isnull=True) | ~Q(prerendered__renderer_version=rendering.RENDERER_VERSION)


# Revisions rendered, then written, together: one query per related table to read them (page_prefetch),
# two to write them.  Small, since each holds a revision's Markdown and its rendered page.
BATCH = 50


def _store_batch(revisions: list[Revision], pool=None) -> int:
    """Render and store `revisions` (fetched with page_prefetch()); with `pool` (monographs/workers.py) the
    bodies without tables are rendered by its processes while this one renders those with tables."""
    plain = [revision.body for revision in revisions if not revision.comparisons.all()] if pool else []
    pending = pool.map_async(workers.render_plain, plain) if plain else None
    pages = {r.pk: render_page(r) for r in revisions if pending is None or r.comparisons.all()}
    if pending is not None:
        with rendering.rendered_ahead(dict(zip(plain, pending.get(), strict=True))):
            pages.update((r.pk, render_page(r)) for r in revisions if r.pk not in pages)
    rows = [_row(revision, pages[revision.pk]) for revision in revisions]
    RenderedRevision.objects.filter(revision__in=[revision.pk for revision in revisions]).delete()
    RenderedRevision.objects.bulk_create(rows)
    return len(rows)


def store_missing(revisions=None, everything: bool = False, parallel: bool = False) -> int:
    """Render and store every live revision (of `revisions`, a queryset) whose page is missing or from
    another renderer version (every one with `everything`); remove the rows of revisions no longer live.
    Returns how many were rendered.  `parallel`: many pages are rendered by worker processes
    (monographs/workers.py), as `loaddata` and `rerender` ask."""
    live = (revisions if revisions is not None else Revision.objects.all()).live()
    if revisions is None:
        RenderedRevision.objects.exclude(revision__status=Revision.Status.PUBLISHED).delete()
    if not everything:
        live = live.filter(_outdated())
    count, batch = 0, []
    with workers.pool(live.count() if parallel else 0) as pool:
        for revision in live.prefetch_related(*page_prefetch()).order_by("pk").iterator(chunk_size=BATCH):
            batch.append(revision)
            if len(batch) == BATCH:
                count += _store_batch(batch, pool)
                release(batch)
                batch = []
        return count + _store_batch(batch, pool)


def on_content_changed(sender, monographs=(), drugs=(), **kwargs) -> None:
    """Receiver of monographs.signals.content_changed: the live revisions of what changed are stored
    rendered (connected before the search index's receiver, which then reads them)."""
    for chunk in chunks(changed_monograph_ids(monographs, drugs)):
        store_missing(Revision.objects.filter(monograph_id__in=chunk))
