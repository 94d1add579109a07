from django.apps import AppConfig


class MonographsConfig(AppConfig):
    name = "monographs"
    verbose_name = "Drug monographs"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from . import pagecache, prerender, search, signals

        # In this order: the search index reads the page the first receiver stored.
        signals.content_changed.connect(prerender.on_content_changed, dispatch_uid="drugref-prerender")
        signals.content_changed.connect(search.on_content_changed, dispatch_uid="drugref-search")
        signals.content_changed.connect(pagecache.on_content_changed, dispatch_uid="drugref-pagecache")
