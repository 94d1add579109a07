from django.core.management.base import BaseCommand

from monographs.workflow import publish_due


class Command(BaseCommand):
    help = (
        "Publish approved revisions whose go-live time has come.  Idempotent and safe to run every minute "
        "from cron, on every app server at once: each revision is published by one run only "
        "(monographs.workflow.publish_due)."
    )

    def handle(self, *args, **options):
        published, refused = publish_due()
        for revision, exc in refused:
            self.stderr.write(f"r{revision.number} of {revision.monograph.slug}: {exc}")
        for revision in published:
            self.stdout.write(f"published r{revision.number} of {revision.monograph.slug}")
        self.stdout.write(f"{len(published)} published, {len(refused)} refused")
