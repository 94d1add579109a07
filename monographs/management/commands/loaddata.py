"""Django's `loaddata`, streamed and batched, which then brings derived data up to date.

The fixture is read as a stream and new rows are inserted in batches (monographs/serializers.py:
`BatchWriter`), so a large fixture loads in flat memory and a few times faster than row by row.

A fixture holds the editorial record only (monographs, revisions, credits, events…).  What is derived
from it — the pre-rendered pages, the search index, the link graph and the cached pages — is refreshed here,
in the same command an operator types, so a restored backup or a loaded seed is a complete site with
nothing more to run.
"""

from django.core.management.commands import loaddata
from django.db import router, transaction

from monographs.consistency import record_all_reviews
from monographs.linkgraph import rebuild_all as rebuild_links
from monographs.pagecache import content_changed
from monographs.prerender import store_missing
from monographs.search import reindex_all
from monographs.serializers import batched_writes


class Command(loaddata.Command):
    help = (
        loaddata.Command.help + " Then stores the live revisions' rendered pages, rebuilds the search index "
        "and the link graph, and marks cached pages stale."
    )

    def handle(self, *fixture_labels, **options):
        super().handle(*fixture_labels, **options)
        if not self.loaded_object_count:
            return
        with transaction.atomic(using=self.using):
            rendered = store_missing(parallel=True)
            count = reindex_all()  # its text from the pages just stored: each page is rendered once
            links = rebuild_links()
            record_all_reviews()  # what each live comparison was checked against, when none is recorded
        content_changed()
        if self.verbosity >= 1:
            self.stdout.write(
                f"{rendered} page(s) rendered and stored; search index rebuilt: {count} live monograph(s); "
                f"link graph: {links} link(s); "
                "cached pages marked stale."
            )

    def loaddata(self, fixture_labels):
        with batched_writes(self.using) as self.writer:
            super().loaddata(fixture_labels)

    def save_obj(self, obj):
        """A new row goes to the batch writer; anything else is saved as Django saves it."""
        model = type(obj.object)
        if (
            model._meta.app_config in self.excluded_apps
            or model in self.excluded_models
            or not router.allow_migrate_model(self.using, model)
            or not self.writer.takes(obj)
        ):
            return super().save_obj(obj)
        self.models.add(model)
        if deferred := self.writer.add(obj):
            self.objs_with_deferred_fields.append(deferred)
        return True
