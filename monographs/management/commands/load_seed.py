from django.core.management import call_command
from django.core.management.base import BaseCommand

from monographs.models import Monograph


class Command(BaseCommand):
    help = (
        "Load the seed fixture into an empty database.  A database that already holds monographs is left "
        "alone, so editorial work is never overwritten by the seed (use `loaddata seed` to force it)."
    )

    def handle(self, *args, **options):
        if Monograph.objects.exists():
            self.stdout.write("Content present; the seed fixture is not loaded again.")
            return
        call_command("loaddata", "seed", verbosity=options["verbosity"])  # builds the search index too
