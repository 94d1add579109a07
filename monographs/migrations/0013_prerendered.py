import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("monographs", "0016_consistency"),
    ]

    operations = [
        migrations.CreateModel(
            name="RenderedRevision",
            fields=[
                (
                    "revision",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="prerendered",
                        serialize=False,
                        to="monographs.revision",
                    ),
                ),
                ("renderer_version", models.PositiveIntegerField()),
                ("html", models.TextField(help_text="The body, comparison tables in place, sanitised")),
                ("toc", models.JSONField(default=list, help_text="Contents entries, as rendering.Rendered.toc")),
                (
                    "faqs",
                    models.JSONField(
                        default=list, help_text="[question, answer as HTML, answer as plain text] per FAQ"
                    ),
                ),
                ("rendered_at", models.DateTimeField(auto_now=True)),
            ],
        ),
    ]
