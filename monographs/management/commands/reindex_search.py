from django.core.management.base import BaseCommand

from monographs.search import reindex_all


class Command(BaseCommand):
    help = (
        "Rebuild the search index from the live revisions.  Needed after `loaddata` (which bypasses "
        "publishing); harmless at any time.  Text already indexed from the live revision is kept unless "
        "--rerender is given (e.g. after a change to how pages are rendered)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--rerender", action="store_true", help="render every live revision again")

    def handle(self, *args, rerender=False, **options):
        count = reindex_all(rerender=rerender)
        if options["verbosity"]:
            self.stdout.write(self.style.SUCCESS(f"indexed {count} live monograph(s)"))
