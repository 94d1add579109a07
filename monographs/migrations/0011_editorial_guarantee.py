"""The editorial guarantee: proposed changes (drug, class and monograph identity under review), proposal
events, and credits that keep the name as signed off.

Credits of revisions already signed off keep their Author's current name; Authors and Publishers may
propose changes (Proof-readers approve them, like revisions).
"""

import django.db.models.deletion
import monographs.models
import uuid
from django.conf import settings
from django.db import migrations, models


SIGNED_OFF = ["approved", "published", "superseded", "unpublished"]
PROPOSERS = ["Authors", "Publishers"]


def sign_existing_credits(apps, schema_editor):
    Credit = apps.get_model("monographs", "Credit")
    for credit in Credit.objects.filter(revision__status__in=SIGNED_OFF, signed_name="").select_related("author"):
        credit.signed_name = credit.author.name
        credit.save(update_fields=["signed_name"])


def let_authors_propose(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    permission = Permission.objects.get(content_type__app_label="monographs", codename="propose_change")
    view = Permission.objects.get(content_type__app_label="monographs", codename="view_proposedchange")
    for group in Group.objects.filter(name__in=PROPOSERS):
        group.permissions.add(permission)
    for group in Group.objects.filter(name__in=[*PROPOSERS, "Proof-readers"]):
        group.permissions.add(view)


class Migration(migrations.Migration):
    dependencies = [
        ("monographs", "0010_brand_notes_unpublished"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="workflowevent",
            options={"ordering": ["revision", "proposal", "sequence"]},
        ),
        migrations.AddField(
            model_name="credit",
            name="signed_name",
            field=models.CharField(
                blank=True,
                help_text="The name as it stood when the revision was signed off (empty while it is a draft)",
                max_length=200,
            ),
        ),
        migrations.AlterField(
            model_name="workflowevent",
            name="revision",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="events",
                to="monographs.revision",
            ),
        ),
        migrations.CreateModel(
            name="ProposedChange",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("uuid", models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
                (
                    "target",
                    models.CharField(
                        choices=[("drug", "drug"), ("drugclass", "drug class"), ("monograph", "monograph")],
                        max_length=20,
                    ),
                ),
                ("object_id", models.PositiveBigIntegerField()),
                (
                    "object_name",
                    models.CharField(help_text="What the object was called when this was proposed", max_length=300),
                ),
                ("before", models.JSONField(help_text="The object as it was when the change was proposed")),
                ("after", models.JSONField(help_text="The object as it will be once the change is applied")),
                ("note", models.TextField(blank=True, help_text="Why the change is needed")),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("proposed", "awaiting approval"),
                            ("applied", "approved and applied"),
                            ("rejected", "rejected"),
                            ("withdrawn", "withdrawn"),
                        ],
                        default="proposed",
                        editable=False,
                        max_length=20,
                    ),
                ),
                ("proposed_at", models.DateTimeField(default=monographs.models.now)),
                ("decided_at", models.DateTimeField(blank=True, null=True)),
                (
                    "decided_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "proposed_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="+", to=settings.AUTH_USER_MODEL
                    ),
                ),
            ],
            options={
                "ordering": ["-proposed_at", "-pk"],
                "permissions": [("propose_change", "Can propose a change to a drug, class or monograph")],
            },
        ),
        migrations.AddField(
            model_name="workflowevent",
            name="proposal",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="events",
                to="monographs.proposedchange",
            ),
        ),
        migrations.AddConstraint(
            model_name="workflowevent",
            constraint=models.UniqueConstraint(fields=("proposal", "sequence"), name="proposal_event_sequence_unique"),
        ),
        migrations.AddConstraint(
            model_name="workflowevent",
            constraint=models.CheckConstraint(
                condition=models.Q(("revision__isnull", True), ("proposal__isnull", True), _connector="XOR"),
                name="event_of_revision_or_proposal",
            ),
        ),
        migrations.AddIndex(
            model_name="proposedchange",
            index=models.Index(fields=["target", "object_id"], name="proposal_target"),
        ),
        migrations.AddConstraint(
            model_name="proposedchange",
            constraint=models.CheckConstraint(
                condition=models.Q(("status__in", ["proposed", "applied", "rejected", "withdrawn"])),
                name="proposal_status_valid",
            ),
        ),
        migrations.AddConstraint(
            model_name="proposedchange",
            constraint=models.CheckConstraint(
                condition=models.Q(("target__in", ["drug", "drugclass", "monograph"])), name="proposal_target_valid"
            ),
        ),
        migrations.RunPython(sign_existing_credits, migrations.RunPython.noop),
        migrations.RunPython(let_authors_propose, migrations.RunPython.noop),
    ]
