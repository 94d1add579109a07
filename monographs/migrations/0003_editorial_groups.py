"""The editorial roles are auth groups with their permissions: Authors, Proof-readers, Publishers."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

CONTENT = ["drug", "alias", "brandname", "drugclass", "author"]
REVISION_PARTS = [
    "revision",
    "faq",
    "comparison",
    "comparisonsubject",
    "comparisonattribute",
    "comparisoncell",
    "credit",
]
EVERYTHING = CONTENT + ["monograph", "legacypath", "workflowevent"] + REVISION_PARTS

GROUPS = {
    "Authors": [f"{verb}_{model}" for model in CONTENT + ["monograph"] + REVISION_PARTS for verb in ("add", "change")]
    + [f"view_{model}" for model in EVERYTHING],
    "Proof-readers": ["review_revision"] + [f"view_{model}" for model in EVERYTHING],
    "Publishers": ["publish_revision", "add_revision", "change_monograph"] + [f"view_{model}" for model in EVERYTHING],
}


def create_groups(apps, schema_editor):
    # Permissions are normally created after all migrations; the groups need them now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in GROUPS.items():
        group, _ = Group.objects.get_or_create(name=name)
        permissions = Permission.objects.filter(content_type__app_label="monographs", codename__in=codenames)
        missing = set(codenames) - set(permissions.values_list("codename", flat=True))
        if missing:
            raise RuntimeError(f"Missing permissions for {name}: {sorted(missing)}")
        group.permissions.set(permissions)


def remove_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=GROUPS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("monographs", "0002_workflow"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_groups, remove_groups)]
