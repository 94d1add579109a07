import logging
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from monographs.importers.assets import AssetLibrary
from monographs.importers.loader import BatchError, import_sources


class Command(BaseCommand):
    help = (
        "Import source documents (files or directories) of both known formats into the database, "
        "in one transaction: if any document fails, nothing is written unless --skip-invalid is given."
    )

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", help="source files or directories of them")
        parser.add_argument(
            "--skip-invalid", action="store_true", help="import the valid documents and list each skipped file"
        )
        parser.add_argument(
            "--assets",
            metavar="DIR",
            help="a copy of the source site's files: each image, video and poster a document refers to by its "
            "site path (/images/x.jpg) is taken from DIR/images/x.jpg into media storage",
        )

    def handle(self, *args, paths, skip_invalid=False, assets=None, **options):
        library = None
        if assets is not None:
            folder = Path(assets)
            if not folder.is_dir():
                raise CommandError(f"--assets {assets}: not a directory")
            library = AssetLibrary(folder)
        # What the parser changed or could not keep in each document (it logs each as it goes; the same
        # list is stored in the revision's provenance for editors), printed here as a `warning:` line.
        warnings = _Collect()
        logger = logging.getLogger("monographs.importers")
        logger.addHandler(warnings)
        propagate, logger.propagate = logger.propagate, False  # printed once, below, not also by the root logger
        try:
            report = import_sources(paths, skip_invalid=skip_invalid, assets=library)
        except BatchError as exc:
            lines = "\n".join(f"  {error}" for error in exc.errors)
            raise CommandError(
                f"{len(exc.errors)} document(s) could not be imported; nothing was written:\n{lines}"
            ) from None
        finally:
            logger.removeHandler(warnings)
            logger.propagate = propagate
        for message in warnings.messages:
            self.stderr.write(f"warning: {message}")
        for label, names in (("created", report.created), ("updated", report.updated), ("unchanged", report.unchanged)):
            for name in names:
                self.stdout.write(f"{label}: {name}")
        for error in report.skipped:
            self.stderr.write(f"skipped: {error}")
        self.stdout.write(
            self.style.SUCCESS(
                f"{len(report.created)} created, {len(report.updated)} updated, "
                f"{len(report.unchanged)} unchanged, {len(report.skipped)} skipped, {len(warnings.messages)} warning(s)"
            )
        )


class _Collect(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())
