import os
import subprocess
import sys
import tempfile
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

FIXTURE_APPS = ["monographs"]


class Command(BaseCommand):
    help = (
        "Rebuild fixtures/seed.json from fixtures/sources/ deterministically: import the sources into a "
        "fresh, empty SQLite database and dump it with natural keys."
    )

    def add_arguments(self, parser):
        parser.add_argument("--sources", default=str(Path(settings.BASE_DIR) / "fixtures" / "sources"))
        parser.add_argument("--output", default=str(Path(settings.BASE_DIR) / "fixtures" / "seed.json"))

    def handle(self, *args, sources, output, **options):
        manage = [sys.executable, str(Path(settings.BASE_DIR) / "manage.py")]
        with tempfile.TemporaryDirectory(prefix="drugref-fixtures-") as tmp:
            env = {
                **os.environ,
                "DATABASE_URL": f"sqlite:///{Path(tmp) / 'build.sqlite3'}",
                "DJANGO_SETTINGS_MODULE": "drugref.settings",
            }
            steps = [
                [*manage, "migrate", "--no-input", "-v", "0"],
                [*manage, "import_sources", sources, "-v", "0"],
                [
                    *manage,
                    "dumpdata",
                    *FIXTURE_APPS,
                    # The search index and the link graph are derived data: rebuilt by `reindex_search`
                    # and `rebuild_links` (and by loaddata), never shipped.
                    "--exclude",
                    "monographs.searchentry",
                    "--exclude",
                    "monographs.internallink",
                    # Recorded as the import publishes; loaddata records it afresh for the loaded content.
                    "--exclude",
                    "monographs.comparisonreview",
                    "--natural-foreign",
                    "--natural-primary",
                    "--indent",
                    "2",
                    "--output",
                    str(Path(tmp) / "seed.json"),
                ],
            ]
            for step in steps:
                result = subprocess.run(step, env=env, capture_output=True, text=True)
                if result.returncode:
                    raise CommandError(f"{' '.join(step[1:3])} failed:\n{result.stderr or result.stdout}")
            data = (Path(tmp) / "seed.json").read_text(encoding="utf-8")
        Path(output).write_text(data.rstrip("\n") + "\n", encoding="utf-8")
        self.stdout.write(self.style.SUCCESS(f"wrote {output}"))
