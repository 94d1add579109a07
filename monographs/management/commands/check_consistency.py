from django.core.management.base import BaseCommand, CommandError

from monographs.consistency import KINDS, forget, report


class Command(BaseCommand):
    help = (
        "Print the consistency report (as /admin/consistency/ shows it) and exit with status 1 when a finding "
        "has not been dismissed: for content CI or cron."
    )

    def add_arguments(self, parser):
        parser.add_argument("--show-dismissed", action="store_true", help="Also print dismissed findings")

    def handle(self, *args, show_dismissed=False, **options):
        forget()
        result = report(cached=True)  # a fresh run, stored for the dashboard's count
        for kind, heading in KINDS.items():
            shown = [(f, d) for f, d in result.rows if f.kind == kind and (show_dismissed or d is None)]
            if not shown:
                continue
            self.stdout.write(f"{heading} ({len(shown)})")
            for finding, dismissal in shown:
                self.stdout.write(f"  - {finding.message}")
                for line in finding.evidence:
                    self.stdout.write(f"      {line}")
                if dismissal is not None:
                    self.stdout.write(f"      dismissed by {dismissal.dismissed_by}: {dismissal.reason}")
        open_count, dismissed = len(result.open), len(result.dismissed)
        summary = f"{open_count} finding(s) not dismissed, {dismissed} dismissed."
        if open_count:
            raise CommandError(summary, returncode=1)
        self.stdout.write(summary)
