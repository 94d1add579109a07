"""Django's JSON fixture format, with fewer queries for natural keys (settings.SERIALIZATION_MODULES).

The output is Django's, byte for byte.  What changes is how often the database is asked:

- writing (`dumpdata --natural-foreign`): Django fetches each related row whole to ask it for its
  key — a revision, body and all, once for every FAQ, event and credit.  Here a key is read from its
  columns only, once per row (`related_key`).
- reading (`loaddata`): Django looks every natural foreign key up again — the same revision once
  per FAQ.  Here each key is looked up once per fixture, and the answer also serves the natural
  key `build_instance` asks of every new row.

Backups of a large corpus are dumped and restored in a fraction of the time, with the same rows.
"""

from django.core.serializers import base
from django.core.serializers import json as django_json

from .models import known_natural_keys, related_key


class Serializer(django_json.Serializer):
    def serialize(self, queryset, **options):
        with known_natural_keys():
            return super().serialize(queryset, **options)

    def handle_fk_field(self, obj, field):
        model = field.remote_field.model
        if self.use_natural_foreign_keys and hasattr(model, "NATURAL_KEY") and getattr(obj, field.attname) is not None:
            self._current[field.name] = related_key(obj, field.name)
        else:
            super().handle_fk_field(obj, field)


class Deserializer(django_json.Deserializer):
    def __iter__(self):
        with known_natural_keys() as known:
            self._known = known
            yield from super().__iter__()

    def _handle_fk_field_node(self, field, field_value):
        model = field.remote_field.model
        if not isinstance(field_value, list) or not hasattr(model, "natural_key"):
            return super()._handle_fk_field_node(field, field_value)
        key = tuple(field_value)
        pk = self._known.get((model, key))
        if pk is None:
            pk = super()._handle_fk_field_node(field, field_value)
            if pk is base.DEFER_FIELD:  # a forward reference: resolved later by Django, not remembered
                return pk
            self._known[model, key] = pk
            if field.remote_field.field_name == model._meta.pk.name:
                self._known[model, pk] = key  # what related_key() would read back
        return pk
