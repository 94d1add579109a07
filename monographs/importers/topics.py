"""Topic pages of format A: pages about a condition, a procedure or a test rather than a drug.

Seed A's site keeps its drug pages under one section (`settings.DRUGREF_MEDICATION_URI_PREFIX`,
`treatment/other/medication/`); its other pages are topics, often written at three reading levels
whose uris end in the topic, `…/more-info` and `…/detailed` (front matter `type: level1/2/3`).
The loader asks `topic_page` first; a page it names is a topic only when its title names no known
drug (loader.find_drug), so a drug page filed elsewhere on the site still becomes the drug's monograph.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.conf import settings
from django.utils.text import slugify

from ..models import Monograph, Topic, unique_slug
from .known import Known
from .sources import FORMAT_A, ParsedDocument, SourceError

_LEVEL_TYPE = re.compile(r"^\s*level\s*-?\s*([123])\s*$", re.IGNORECASE)
# The end of a uri naming a reading level other than the first: the topic's own uri is what precedes it.
_LEVEL_SUFFIXES = {path: level for level, path in Monograph.LEVEL_PATHS.items() if path}


@dataclass(frozen=True)
class TopicPage:
    key: str  # the topic's uri (a level's uri without its level suffix), normalised like a LegacyPath
    level: int


def in_medication_section(path: str) -> bool:
    prefix = (getattr(settings, "DRUGREF_MEDICATION_URI_PREFIX", "") or "").strip().strip("/")
    if not prefix:
        return True  # no section configured: every page is a drug's, as before topics existed
    path = path.strip("/")
    return path == prefix or path.startswith(prefix + "/")


def topic_page(doc: ParsedDocument) -> TopicPage | None:
    """The topic and reading level of a format A page outside the medication section, else None.

    The level comes from `type: level1/2/3` when the page says it, else from the uri's end
    (`/more-info` 2, `/detailed` 3, anything else 1).  A page without a uri cannot be placed: it stays
    a drug's page, as before.
    """
    if doc.format != FORMAT_A or not doc.legacy_paths:
        return None
    path = doc.legacy_paths[0]
    if in_medication_section(path):
        return None
    parent, _, last = path.rpartition("/")
    suffix_level = _LEVEL_SUFFIXES.get(last.lower()) if parent else None
    key = parent if suffix_level else path
    page_type = doc.meta.get("type")
    typed = _LEVEL_TYPE.match(page_type) if isinstance(page_type, str) else None
    level = int(typed.group(1)) if typed else (suffix_level or Monograph.Level.BASIC)
    return TopicPage(key=key, level=level)


def topic_monograph(doc: ParsedDocument, page: TopicPage, known: Known) -> Monograph:
    """The monograph of `page`'s reading level of its topic, both created when new.

    A new topic is named by the first of its pages imported; the first-level page renames it when its
    monograph is created, since that page names the topic for readers.  `known` is what the import batch
    knows: the new monograph's slug is chosen by it and made known to it.
    """
    monograph = Monograph.objects.select_related("topic").filter(source_key=doc.source_key).first()
    if monograph is not None:
        if monograph.topic_id is None:
            raise SourceError(
                doc.path,
                f"this document was imported as a monograph of the drug {monograph.drug}, but it is now a topic "
                f"page (its uri lies outside {settings.DRUGREF_MEDICATION_URI_PREFIX!r} and its title names no "
                "drug); move or delete the old monograph in the admin first",
            )
        if monograph.topic.source_key != page.key or monograph.level != page.level:
            raise SourceError(
                doc.path,
                f"this document was imported as level {monograph.level} of the topic “{monograph.topic}”, "
                f"but its uri and type now make it level {page.level} of {page.key}",
            )
        return monograph
    topic = Topic.objects.filter(source_key=page.key).first()
    if topic is None:
        topic = Topic.objects.create(name=doc.title, slug=unique_slug(Topic, doc.title), source_key=page.key)
    elif page.level == Monograph.Level.BASIC and topic.name != doc.title:
        topic.name = doc.title
        topic.save(update_fields=["name"])
    taken = topic.monographs.filter(level=page.level).first()
    if taken is not None:
        raise SourceError(
            doc.path,
            f"the topic “{topic}” already has a level {page.level} page ({taken.source_key}); "
            "two documents cannot be the same reading level of one topic",
        )
    level_name = slugify(Monograph.Level(page.level).label)
    return known.new_monograph(
        f"{topic.slug}-{level_name}",
        topic=topic,
        level=page.level,
        kind=Monograph.Kind.PATIENT,
        source_key=doc.source_key,
    )
