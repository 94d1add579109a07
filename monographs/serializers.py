"""Django's JSON fixture format, read as a stream and written in batches (settings.SERIALIZATION_MODULES).

The bytes are Django's, byte for byte.  What changes is memory and how often the database is asked:

- writing (`dumpdata --natural-foreign`): Django fetches each related row whole to ask it for its
  key — a revision, body and all, once for every FAQ, event and credit.  Here a key is read from its
  columns only, once per row (`related_key`).
- reading (`loaddata`): Django parses the whole file before it writes the first row (1.1 GB of memory
  for a 363 MB fixture).  Here ijson reads it a record at a time, and records are handled in runs of
  one model, `CHUNK` at a time, so memory stays flat whatever the fixture's size.  The natural foreign
  keys a run names are looked up together, one query per related model (`_prefetch`), and remembered
  for a while (at most `KNOWN_LIMIT` keys, then the memory starts afresh).
- with the project's `loaddata` (monographs/management/commands/loaddata.py), new rows are handed to a
  `BatchWriter` and inserted `CHUNK` at a time (bulk_create) instead of one INSERT each; and a model
  whose table was empty when the load began skips Django's "is this row there already?" query for
  each object — nothing can be there but what this load wrote, and a key met twice is caught by the
  table's unique constraint, after which that batch is written one by one, Django's way, so loading
  twice still changes nothing.
"""

from __future__ import annotations

import io
from collections import defaultdict
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from itertools import groupby, islice

import ijson
from django.core.exceptions import FieldDoesNotExist, ObjectDoesNotExist
from django.core.serializers import base
from django.core.serializers import json as django_json
from django.core.serializers.python import Deserializer as PythonDeserializer
from django.db import DatabaseError, IntegrityError, connections, models, transaction

from .models import known_natural_keys, related_key

# Records handled, and new rows inserted, together.  Larger batches are no faster, and a batch of
# 500 revisions (bodies, SQL and parameters) took 30 MB at once.
CHUNK = 100
KNOWN_LIMIT = 50_000  # natural keys remembered before the memory starts afresh


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


# The load in progress, when the project's loaddata runs one (see BatchWriter).
_writer: ContextVar[BatchWriter | None] = ContextVar("fixture_batch_writer", default=None)


@contextmanager
def batched_writes(using: str):
    """For the block, objects read by this module's Deserializer may be written in batches."""
    writer = BatchWriter(using)
    token = _writer.set(writer)
    try:
        yield writer
    finally:
        _writer.reset(token)


class Deserializer(django_json.Deserializer):
    def __init__(self, stream_or_string, **options):
        # Not Django's JSON __init__: it reads the whole input and parses it into one list.
        PythonDeserializer.__init__(self, _records(stream_or_string), **options)
        self._writer = _writer.get()
        self._known, self._chunk_model, self._absent = {}, None, set()

    def __iter__(self):
        writer = self._writer
        with known_natural_keys() as known:
            self._known = known
            if writer:
                writer.active = True
            try:
                for label, run in groupby(self.stream, key=_model_label):
                    while chunk := list(islice(run, CHUNK)):
                        if writer:
                            writer.flush()  # the rows this chunk may name are in the database
                        if len(known) > KNOWN_LIMIT:
                            known.clear()
                        self._chunk_model, self._absent = _model_or_none(label), set()
                        self._prefetch(chunk)
                        for record in chunk:
                            yield from self._handle_object(record)
                if writer:
                    writer.flush()
            except ijson.JSONError as exc:
                raise base.DeserializationError(f"Invalid JSON: {exc}".strip()) from exc
            finally:
                if writer:
                    writer.active = False

    # Natural keys -------------------------------------------------------------------------------

    def _prefetch(self, records) -> None:
        """Look up, one query per related model, the natural foreign keys these records name.

        Only for models that list their key's columns in `NATURAL_KEY` (see monographs/models.py);
        others are looked up one key at a time, once each (`_resolve`).  A key asked for and not
        found is remembered as absent: a forward reference, or a key the load will report.
        """
        wanted: dict[type[models.Model], set[tuple]] = defaultdict(set)
        for record in records:
            model = _model_or_none(_model_label(record))
            fields = record.get("fields") if model else None
            if not isinstance(fields, dict):
                continue  # reported by _handle_object
            for name, value in fields.items():
                try:
                    field = model._meta.get_field(name)
                except FieldDoesNotExist:
                    continue
                if not field.remote_field or not isinstance(value, list):
                    continue
                for key in value if field.many_to_many else [value]:
                    if isinstance(key, list) and all(isinstance(part, (str, int)) for part in key):
                        wanted[field.remote_field.model].add(tuple(key))
        for model, keys in wanted.items():
            columns = getattr(model, "NATURAL_KEY", None)
            keys = {key for key in keys if (model, key) not in self._known}
            if not columns or not keys or any(len(key) != len(columns) for key in keys):
                continue
            rows = model._base_manager.db_manager(self.using).filter(**{f"{columns[0]}__in": {key[0] for key in keys}})
            for pk, *key in rows.values_list("pk", *columns):
                if (key := tuple(key)) in keys:
                    self._remember(model, key, pk)
                    keys.discard(key)
            self._absent.update((model, key) for key in keys)

    def _remember(self, model, key: tuple, pk) -> None:
        self._known[model, key] = pk
        self._known[model, pk] = key  # what related_key() would read back

    def _resolve(self, model, key: tuple):
        """The primary key of the row with this natural key, or None when there is none (yet)."""
        pk = self._known.get((model, key))
        if pk is not None:
            return pk
        if (model, key) in self._absent and model is not self._chunk_model:
            return None  # asked at the start of this chunk; only rows of the chunk's own model are written since
        manager = model._default_manager.db_manager(self.using)
        try:
            pk = manager.get_by_natural_key(*key).pk
        except ObjectDoesNotExist:
            if not (self._writer and self._writer.has_pending(model)):
                return None
            self._writer.flush()  # a reference back to a row still waiting in the batch
            try:
                pk = manager.get_by_natural_key(*key).pk
            except ObjectDoesNotExist:
                return None
        self._remember(model, key, pk)
        return pk

    @staticmethod
    def _by_primary_key(field) -> bool:
        model = field.remote_field.model
        return (
            hasattr(model._default_manager, "get_by_natural_key")
            # m2m values are always primary keys; a foreign key may point at another column
            and getattr(field.remote_field, "field_name", model._meta.pk.name) == model._meta.pk.name
            and not model._meta.pk.remote_field
        )

    def _handle_fk_field_node(self, field, field_value):
        if not isinstance(field_value, list) or not self._by_primary_key(field):
            return super()._handle_fk_field_node(field, field_value)
        pk = self._resolve(field.remote_field.model, tuple(field_value))
        if pk is None:  # Django's answer: a deferred field (a forward reference) or its error
            return super()._handle_fk_field_node(field, field_value)
        return pk

    def _handle_m2m_field_node(self, field, field_value):
        if not isinstance(field_value, list) or not self._by_primary_key(field):
            return super()._handle_m2m_field_node(field, field_value)
        model, pks = field.remote_field.model, []
        for value in field_value:
            pk = self._resolve(model, tuple(value)) if isinstance(value, list) else model._meta.pk.to_python(value)
            if pk is None:
                return super()._handle_m2m_field_node(field, field_value)
            pks.append(pk)
        return pks

    # Objects ------------------------------------------------------------------------------------

    def _handle_object(self, obj):
        try:
            try:
                Model = self._get_model_from_node(obj["model"])
            except base.DeserializationError:
                if self.ignorenonexistent:
                    return
                raise
            yield self._build(Model, obj)
        except base.DeserializationError:
            raise
        except Exception as exc:
            raise base.DeserializationError(f"Error deserializing object: {exc}") from exc

    def _build(self, Model, obj) -> base.DeserializedObject:  # noqa: N803 - Django's name for it
        """Django's PythonDeserializer._handle_object, except that the row's own natural key is not
        looked up where the batch writer knows the table held no row when the load began."""
        data, m2m_data, deferred_fields = {}, {}, {}
        if "pk" in obj:
            try:
                data[Model._meta.pk.attname] = Model._meta.pk.to_python(obj.get("pk"))
            except Exception as e:
                raise base.DeserializationError.WithData(e, obj["model"], obj.get("pk"), None) from e
        if Model not in self.field_names_cache:
            self.field_names_cache[Model] = {f.name for f in Model._meta.get_fields()}
        field_names = self.field_names_cache[Model]
        for field_name, field_value in obj["fields"].items():
            if self.ignorenonexistent and field_name not in field_names:
                continue
            field = Model._meta.get_field(field_name)
            if field.remote_field and isinstance(field.remote_field, models.ManyToManyRel):
                try:
                    values = self._handle_m2m_field_node(field, field_value)
                except base.M2MDeserializationError as e:
                    raise base.DeserializationError.WithData(e.original_exc, obj["model"], obj.get("pk"), e.pk) from e
                if values == base.DEFER_FIELD:
                    deferred_fields[field] = field_value
                else:
                    m2m_data[field.name] = values
            elif field.remote_field and isinstance(field.remote_field, models.ManyToOneRel):
                try:
                    value = self._handle_fk_field_node(field, field_value)
                except Exception as e:
                    raise base.DeserializationError.WithData(e, obj["model"], obj.get("pk"), field_value) from e
                if value == base.DEFER_FIELD:
                    deferred_fields[field] = field_value
                else:
                    data[field.attname] = value
            else:
                try:
                    data[field.name] = field.to_python(field_value)
                except Exception as e:
                    raise base.DeserializationError.WithData(e, obj["model"], obj.get("pk"), field_value) from e
        if self._writer and not self._writer.needs_lookup(Model):
            instance = Model(**data)
        else:
            instance = base.build_instance(Model, data, self.using)
        return base.DeserializedObject(instance, m2m_data, deferred_fields)


def _model_label(record):
    return record.get("model") if isinstance(record, dict) else None


def _model_or_none(label):
    try:
        return PythonDeserializer._get_model_from_node(label)
    except base.DeserializationError:
        return None


def _records(stream_or_string):
    """The fixture's top-level list, one record at a time (ijson; its C backend when installed)."""
    if isinstance(stream_or_string, str):
        stream_or_string = stream_or_string.encode()
    if isinstance(stream_or_string, bytes):
        stream_or_string = io.BytesIO(stream_or_string)
    stream = _Bytes(stream_or_string)
    if stream.first_byte() != b"[":
        raise base.DeserializationError("A JSON fixture is a list of objects")
    return ijson.items(stream, "item", use_float=True)  # floats, as json.loads gives them


class _Bytes:
    """A byte stream for ijson over any file Django opens (stdin is text); the first byte can be peeked."""

    def __init__(self, stream):
        self.stream, self.head = stream, b""

    def _read(self, size) -> bytes:
        data = self.stream.read(size)
        return data.encode() if isinstance(data, str) else data

    def read(self, size=-1) -> bytes:
        if self.head and size:  # ijson reads 0 bytes first, to learn the stream's type
            data, self.head = self.head, b""
            return data
        return self._read(size)

    def first_byte(self) -> bytes:
        while not self.head.strip():
            data = self._read(65536)
            if not data:
                return b""
            self.head += data
        self.head = self.head.lstrip()
        return self.head[:1]


# Writing ----------------------------------------------------------------------------------------


def batchable(model) -> bool:
    """Whether new rows of `model` may be inserted by bulk_create rather than Model.save_base(raw=True).

    bulk_create sends no signals, runs the fields' pre_save (auto_now would overwrite the fixture's
    date), cannot write multi-table inheritance and sets m2m only through Django's own through tables.
    A model for which any of that matters is saved one by one, as Django does.
    """
    return (
        hasattr(model, "natural_key")
        and hasattr(model._default_manager, "get_by_natural_key")
        and not model._meta.parents
        and not any(getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False) for f in model._meta.fields)
        and all(f.remote_field.through._meta.auto_created for f in model._meta.local_many_to_many)
        and not any(
            signal.has_listeners(model)
            for signal in (models.signals.pre_save, models.signals.post_save, models.signals.m2m_changed)
        )
    )


class BatchWriter:
    """New rows of the objects a load reads, inserted `CHUNK` at a time.

    The Deserializer flushes it before each run of records (whose keys may name the rows waiting
    here) and before looking up a key that may be one of them, so a reference never misses a row
    that is merely waiting.  Only objects read while it is `active` (by this module's Deserializer,
    which does those flushes) are taken; others are saved by the caller one by one.
    """

    def __init__(self, using: str):
        self.using = using
        self.active = False
        self.pending: dict[type[models.Model], list[base.DeserializedObject]] = {}
        self.deferred: list[DeferredFields] = []
        self.empty_at_start: dict[type[models.Model], bool] = {}
        self.can_batch = connections[using].features.can_return_rows_from_bulk_insert  # pks for m2m rows
        self.batchable: dict[type[models.Model], bool] = {}

    def _batches(self, model) -> bool:
        if model not in self.batchable:
            self.batchable[model] = self.can_batch and batchable(model)
        return self.active and self.batchable[model]

    def needs_lookup(self, model) -> bool:
        """False when the model's table held no row when this load first met the model."""
        if not self._batches(model):
            return True
        if model not in self.empty_at_start:
            self.empty_at_start[model] = not model._base_manager.using(self.using).exists()
        return not self.empty_at_start[model]

    def takes(self, obj: base.DeserializedObject) -> bool:
        return obj.object.pk is None and self._batches(type(obj.object))

    def add(self, obj: base.DeserializedObject) -> DeferredFields | None:
        """Hold a new row; what Django would keep for its forward references, if it has any."""
        self.pending.setdefault(type(obj.object), []).append(obj)
        if obj.deferred_fields:
            deferred = DeferredFields(obj)
            self.deferred.append(deferred)
            return deferred
        return None

    def has_pending(self, model) -> bool:
        return model in self.pending

    def flush(self) -> None:
        pending, self.pending = self.pending, {}
        for model, objs in pending.items():
            try:
                with transaction.atomic(using=self.using):
                    model._base_manager.using(self.using).bulk_create([obj.object for obj in objs])
                    self._write_m2m(model, objs)
                for obj in objs:
                    obj.m2m_data = None
            except IntegrityError:
                # A natural key met twice (a fixture loaded into itself, a hand-written duplicate):
                # this batch one by one, Django's way, each row found by its key and updated.
                for obj in objs:
                    obj.object.pk, obj.object._state.adding = None, True
                    self._save_one(model, obj)
            except (DatabaseError, ValueError) as e:
                e.args = (f"Could not load {model._meta.label} (a batch of {len(objs)} new rows): {e}",)
                raise
        for deferred in self.deferred:
            deferred.settle()
        self.deferred = []

    def _write_m2m(self, model, objs) -> None:
        rows = defaultdict(list)
        for obj in objs:
            for name, pks in (obj.m2m_data or {}).items():
                field = model._meta.get_field(name)
                through = field.remote_field.through
                source = through._meta.get_field(field.m2m_field_name()).attname
                target = through._meta.get_field(field.m2m_reverse_field_name()).attname
                rows[through] += [through(**{source: obj.object.pk, target: pk}) for pk in dict.fromkeys(pks)]
        for through, objects in rows.items():
            through._base_manager.using(self.using).bulk_create(objects)

    def _save_one(self, model, obj) -> None:
        instance = obj.object
        with suppress(model.DoesNotExist):
            instance.pk = model._default_manager.db_manager(self.using).get_by_natural_key(*instance.natural_key()).pk
        try:
            obj.save(using=self.using)
        except (DatabaseError, IntegrityError, ValueError) as e:
            e.args = (f"Could not load {model._meta.label}(pk={instance.pk}): {e}",)
            raise


class DeferredFields:
    """An object's forward references, kept until the end of the load (see Django's loaddata).

    Django keeps the whole object and saves it again at the end; this keeps its model, primary key
    and the references, so a fixture with many of them does not hold every such row in memory.
    """

    def __init__(self, obj: base.DeserializedObject):
        self.object, self.model, self.pk = obj.object, type(obj.object), None
        self.deferred_fields = obj.deferred_fields

    def settle(self) -> None:
        """Once the row is written: keep its primary key, let its data go."""
        self.pk, self.object = self.object.pk, None

    def save_deferred_fields(self, using=None) -> None:
        label, values = self.model._meta.label_lower, {}
        for field, field_value in self.deferred_fields.items():
            if isinstance(field.remote_field, models.ManyToManyRel):
                try:
                    pks = base.deserialize_m2m_values(field, field_value, using, handle_forward_references=False)
                except base.M2MDeserializationError as e:
                    raise base.DeserializationError.WithData(e.original_exc, label, self.pk, e.pk) from e
                instance = self.model(pk=self.pk)
                instance._state.db, instance._state.adding = using, False
                getattr(instance, field.name).set(pks)
            else:
                try:
                    values[field.attname] = base.deserialize_fk_value(
                        field, field_value, using, handle_forward_references=False
                    )
                except Exception as e:
                    raise base.DeserializationError.WithData(e, label, self.pk, field_value) from e
        if values:
            self.model._base_manager.using(using).filter(pk=self.pk).update(**values)
