from django.core.management.base import BaseCommand, CommandError

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

    def handle(self, *args, paths, skip_invalid=False, **options):
        try:
            report = import_sources(paths, skip_invalid=skip_invalid)
        except BatchError as exc:
            lines = "\n".join(f"  {error}" for error in exc.errors)
            raise CommandError(
                f"{len(exc.errors)} document(s) could not be imported; nothing was written:\n{lines}"
            ) from None
        for label, names in (("created", report.created), ("updated", report.updated), ("unchanged", report.unchanged)):
            for name in names:
                self.stdout.write(f"{label}: {name}")
        for error in report.skipped:
            self.stderr.write(f"skipped: {error}")
        self.stdout.write(
            self.style.SUCCESS(
                f"{len(report.created)} created, {len(report.updated)} updated, "
                f"{len(report.unchanged)} unchanged, {len(report.skipped)} skipped"
            )
        )
