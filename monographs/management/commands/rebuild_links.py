from django.core.management.base import BaseCommand

from monographs.linkgraph import rebuild_all


class Command(BaseCommand):
    help = (
        "Rebuild the link graph (what links to what, among live monographs) from every live revision. "
        "Publishing keeps it up to date; run this after a change to the renderer or a bulk database edit."
    )

    def handle(self, *args, **options):
        count = rebuild_all()
        if options["verbosity"] >= 1:
            self.stdout.write(f"Link graph rebuilt: {count} internal link(s) in live revisions.")
