"""Django's `loaddata`, which then brings derived data up to date.

A fixture holds the editorial record only (monographs, revisions, credits, events…).  What is derived
from it — the search index and the cached pages — is refreshed here, in the same command an operator
types, so a restored backup or a loaded seed is a complete site with nothing more to run.
"""

from django.core.management.commands import loaddata
from django.db import transaction

from monographs.pagecache import content_changed
from monographs.search import reindex_all


class Command(loaddata.Command):
    help = loaddata.Command.help + " Then rebuilds the search index and marks cached pages stale."

    def handle(self, *fixture_labels, **options):
        super().handle(*fixture_labels, **options)
        if not self.loaded_object_count:
            return
        with transaction.atomic(using=self.using):
            count = reindex_all()
        content_changed()
        if self.verbosity >= 1:
            self.stdout.write(f"Search index rebuilt: {count} live monograph(s); cached pages marked stale.")
