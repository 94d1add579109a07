from django.apps import AppConfig


class MonographsConfig(AppConfig):
    name = "monographs"
    verbose_name = "Drug monographs"
    default_auto_field = "django.db.models.BigAutoField"
