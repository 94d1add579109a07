from django.apps import AppConfig


class MonographsConfig(AppConfig):
    name = "monographs"
    verbose_name = "Drug monographs"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from . import notifications, search, signals

        signals.content_changed.connect(search.on_content_changed, dispatch_uid="drugref-search")
        signals.moved.connect(notifications.on_moved, dispatch_uid="drugref-notifications")
