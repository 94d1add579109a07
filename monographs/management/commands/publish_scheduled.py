from django.core.management.base import BaseCommand
from django.utils import timezone

from monographs.models import Revision
from monographs.workflow import WorkflowError


class Command(BaseCommand):
    help = (
        "Publish approved revisions whose go-live time has come.  Idempotent and safe to run every minute "
        "from cron: a revision already published is no longer approved, so it is never published twice."
    )

    def handle(self, *args, **options):
        due = Revision.objects.filter(status=Revision.Status.APPROVED, publish_at__lte=timezone.now()).select_related(
            "monograph", "scheduled_by"
        )
        published = failed = 0
        for revision in due:
            try:
                # The publisher who scheduled it confirmed any broken links then.
                revision.publish(revision.scheduled_by, confirm_broken_links=True, comment="Scheduled publication")
            except WorkflowError as exc:
                failed += 1
                self.stderr.write(f"r{revision.number} of {revision.monograph.slug}: {exc}")
                continue
            published += 1
            self.stdout.write(f"published r{revision.number} of {revision.monograph.slug}")
        self.stdout.write(f"{published} published, {failed} refused")
