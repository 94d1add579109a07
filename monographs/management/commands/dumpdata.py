"""Django's `dumpdata`, which never writes derived data.

The search index (`SearchEntry`, `SearchWord`), the pre-rendered pages (`RenderedRevision`), the link
graph (`InternalLink`) and the stored consistency run (with what it read of each drug) are built from the
editorial record; the project's `loaddata` builds them again after a load.  A fixture or a backup holds
the record only, whatever the operator types, so a renderer's output or an index of one version never
travels into a database of another.
"""

from django.core.management.commands import dumpdata

DERIVED = [
    "monographs.searchentry",
    "monographs.searchword",
    "monographs.renderedrevision",
    "monographs.internallink",  # the link graph: rebuilt from the live revisions by loaddata
    "monographs.consistencyrun",  # the stored run of the consistency checks
    "monographs.consistencyfinding",
    "monographs.consistencydrug",  # what the checks read of each drug, kept for incremental updates
    "monographs.consistencyname",
]


class Command(dumpdata.Command):
    help = (
        dumpdata.Command.help
        + " Derived tables (search index, pre-rendered pages, link graph, consistency run) are always left out."
    )

    def handle(self, *app_labels, **options):
        options["exclude"] = [*(options.get("exclude") or []), *DERIVED]
        return super().handle(*app_labels, **options)
