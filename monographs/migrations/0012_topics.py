"""Topics: monographs about no drug (a condition, a procedure, a test), at up to three reading levels.

Authors may add and edit topics (a change to an existing one is proposed, like a drug's); everyone in an
editorial group may view them.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


TOPIC_PERMISSIONS = {
    "Authors": ["add_topic", "change_topic", "view_topic"],
    "Proof-readers": ["view_topic"],
    "Publishers": ["view_topic"],
}


def let_editors_use_topics(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in TOPIC_PERMISSIONS.items():
        permissions = Permission.objects.filter(content_type__app_label="monographs", codename__in=codenames)
        for group in Group.objects.filter(name=name):
            group.permissions.add(*permissions)


class Migration(migrations.Migration):
    dependencies = [
        ("monographs", "0015_notifications"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="Topic",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("name", models.CharField(max_length=200)),
                ("slug", models.SlugField(max_length=200, unique=True)),
                (
                    "source_key",
                    models.CharField(
                        blank=True,
                        help_text="Identity of the source pages this topic is imported from (their uri without the level)",
                        max_length=300,
                        null=True,
                        unique=True,
                    ),
                ),
            ],
            options={
                "ordering": ["name"],
            },
        ),
        migrations.RemoveConstraint(
            model_name="proposedchange",
            name="proposal_target_valid",
        ),
        migrations.AddField(
            model_name="monograph",
            name="level",
            field=models.PositiveSmallIntegerField(
                blank=True,
                choices=[(1, "Introduction"), (2, "More information"), (3, "Detailed")],
                help_text="A topic's reading level (topics only)",
                null=True,
            ),
        ),
        migrations.AlterField(
            model_name="monograph",
            name="drug",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="monographs",
                to="monographs.drug",
            ),
        ),
        migrations.AlterField(
            model_name="proposedchange",
            name="target",
            field=models.CharField(
                choices=[("drug", "drug"), ("drugclass", "drug class"), ("monograph", "monograph"), ("topic", "topic")],
                max_length=20,
            ),
        ),
        migrations.AddConstraint(
            model_name="proposedchange",
            constraint=models.CheckConstraint(
                condition=models.Q(("target__in", ["drug", "drugclass", "monograph", "topic"])),
                name="proposal_target_valid",
            ),
        ),
        migrations.AddField(
            model_name="monograph",
            name="topic",
            field=models.ForeignKey(
                blank=True,
                help_text="For a monograph about no drug: the topic it is a reading level of",
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="monographs",
                to="monographs.topic",
            ),
        ),
        migrations.AddConstraint(
            model_name="monograph",
            constraint=models.CheckConstraint(
                condition=models.Q(("drug__isnull", True), ("topic__isnull", True), _connector="XOR"),
                name="monograph_of_drug_or_topic",
                violation_error_message="A monograph is about a drug or a topic: choose exactly one.",
            ),
        ),
        migrations.AddConstraint(
            model_name="monograph",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("level__isnull", True), ("topic__isnull", True)),
                    models.Q(
                        ("is_primary", False),
                        ("level__in", [1, 2, 3]),
                        ("level__isnull", False),
                        ("topic__isnull", False),
                    ),
                    _connector="OR",
                ),
                name="topic_monograph_has_level",
                violation_error_message="A topic's monograph needs a reading level and is never a drug's primary "
                "monograph; a drug's monograph has no reading level.",
            ),
        ),
        migrations.AddConstraint(
            model_name="monograph",
            constraint=models.UniqueConstraint(fields=("topic", "level"), name="one_monograph_per_topic_level"),
        ),
        migrations.RunPython(let_editors_use_topics, migrations.RunPython.noop),
    ]
