import logging
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from monographs.importers.assets import AssetLibrary
from monographs.importers.loader import BatchError, import_sources

# A batch this large shows a progress bar while it is read and written, when the output is a terminal.
PROGRESS_FROM = 50


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
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="read and import everything, print the report (every failing document included), then roll "
            "it all back: nothing is written (files under --assets are checked, not stored)",
        )

    def handle(self, *args, paths, skip_invalid=False, dry_run=False, assets=None, **options):
        library = None
        if assets is not None:
            folder = Path(assets)
            if not folder.is_dir():
                raise CommandError(f"--assets {assets}: not a directory")
            library = AssetLibrary(folder, write=not dry_run)
        # What the parser changed or could not keep in each document (it logs each as it goes; the same
        # list is stored in the revision's provenance for editors), printed here as a `warning:` line.
        warnings = _Collect()
        logger = logging.getLogger("monographs.importers")
        logger.addHandler(warnings)
        propagate, logger.propagate = logger.propagate, False  # printed once, below, not also by the root logger
        try:
            report = import_sources(
                paths,
                skip_invalid=skip_invalid,
                dry_run=dry_run,
                progress=self._progress(options["verbosity"]),
                assets=library,
            )
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
            self.stderr.write(f"{'error' if dry_run else 'skipped'}: {error}")
        failed = "error(s)" if dry_run else "skipped"
        counts = (
            f"{len(report.created)} created, {len(report.updated)} updated, {len(report.unchanged)} unchanged, "
            f"{len(report.skipped)} {failed}, {len(warnings.messages)} warning(s)"
        )
        if not dry_run:
            self.stdout.write(self.style.SUCCESS(counts))
            return
        self.stdout.write(self.style.WARNING(f"Dry run, nothing was written: {counts}"))
        if report.skipped and not skip_invalid:
            raise CommandError(
                f"{len(report.skipped)} document(s) could not be imported: without --dry-run this batch would "
                "write nothing (--skip-invalid imports the rest)"
            )

    def _progress(self, verbosity: int):
        """A progress bar on the terminal (on stderr, beside the report) for a large batch; quiet when the
        output goes to a file or a pipe, or with -v 0."""
        shown = verbosity >= 1 and self.stdout.isatty() and self.stderr.isatty()

        def progress(iterable, total: int, description: str):
            if not shown or total < PROGRESS_FROM:
                return iterable
            return tqdm(iterable, total=total, desc=description, unit="doc", file=self.stderr._out, leave=False)

        return progress


class _Collect(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())
