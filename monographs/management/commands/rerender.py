from django.core.management.base import BaseCommand
from django.db import transaction

from monographs import rendering
from monographs.pagecache import content_changed
from monographs.prerender import store_missing
from monographs.search import reindex_all


class Command(BaseCommand):
    help = (
        "Render and store the page of every live revision whose stored page is missing or was made by another "
        "renderer version (RENDERER_VERSION), then rebuild the search index's text from them."
    )

    def add_arguments(self, parser):
        parser.add_argument("--all", action="store_true", help="render every live revision again, current or not")

    def handle(self, *args, all=False, **options):  # noqa: A002 - the option's name
        with transaction.atomic():
            count = store_missing(everything=all, parallel=True)
            if count:
                reindex_all(rerender=True)
        if count:
            content_changed()
        if options["verbosity"] >= 1:
            self.stdout.write(f"{count} page(s) rendered by renderer version {rendering.RENDERER_VERSION}.")
