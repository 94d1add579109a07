"""Django's `dumpdata`, which never writes derived data.

The search index (`SearchEntry`, `SearchWord`) and the pre-rendered pages (`RenderedRevision`) are
built from the editorial record; the project's `loaddata` builds them again after a load.  A fixture
or a backup holds the record only, whatever the operator types, so a renderer's output or an index of
one version never travels into a database of another.
"""

from django.core.management.commands import dumpdata

DERIVED = [
    "monographs.searchentry",
    "monographs.searchword",
    "monographs.renderedrevision",
    "monographs.consistencyrun",  # the stored run of the consistency checks
    "monographs.consistencyfinding",
]


class Command(dumpdata.Command):
    help = dumpdata.Command.help + " Derived tables (search index, pre-rendered pages) are always left out."

    def handle(self, *app_labels, **options):
        options["exclude"] = [*(options.get("exclude") or []), *DERIVED]
        return super().handle(*app_labels, **options)
