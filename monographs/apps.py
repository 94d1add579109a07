from django.apps import AppConfig


class MonographsConfig(AppConfig):
    name = "monographs"
    verbose_name = "Drug monographs"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from . import consistency, linkgraph, notifications, prerender, search, signals

        # In this order: the search index reads the page the first receiver stored.
        signals.content_changed.connect(prerender.on_content_changed, dispatch_uid="drugref-prerender")
        signals.content_changed.connect(search.on_content_changed, dispatch_uid="drugref-search")
        signals.content_changed.connect(linkgraph.on_content_changed, dispatch_uid="drugref-linkgraph")
        signals.content_changed.connect(consistency.on_content_changed, dispatch_uid="drugref-consistency")
        signals.moved.connect(notifications.on_moved, dispatch_uid="drugref-notifications")
