from django.core.management.base import BaseCommand

from monographs.search import reindex_all


class Command(BaseCommand):
    help = (
        "Rebuild the search index from the live revisions.  Needed after `loaddata` (which bypasses "
        "publishing); harmless at any time."
    )

    def handle(self, *args, **options):
        count = reindex_all()
        if options["verbosity"]:
            self.stdout.write(self.style.SUCCESS(f"indexed {count} live monograph(s)"))
