"""/feeds/updates/: an Atom feed of published revisions, newest first, with their change notes."""

import re

from django.contrib.syndication.views import Feed
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed
from django.utils.html import escape
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_safe

from .models import Revision
from .pagecache import generation_stamp, whole_page

FEED_SIZE = 50
# XML 1.0 forbids most control characters; one pasted into a field must not take the feed down.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def xml_text(text: str | None) -> str | None:
    return _NOT_XML.sub("", text) if text else text


class UpdatesFeed(Feed):
    feed_type = Atom1Feed
    title = "drugref: published updates"
    subtitle = "Every revision of a drugref monograph when it is published, with its change note."

    def link(self):
        return reverse("monographs:home")

    def items(self):
        # Superseded revisions were published too: they are the history of the page, but only of
        # monographs that are still live (the link of an unpublished one would lead nowhere).
        return (
            Revision.objects.filter(
                status__in=[Revision.Status.PUBLISHED, Revision.Status.SUPERSEDED],
                published_at__isnull=False,
                monograph__revisions__status=Revision.Status.PUBLISHED,
            )
            .select_related("monograph__drug", "monograph__topic")
            .prefetch_related("credits__author")
            .order_by("-published_at", "-pk")[:FEED_SIZE]
        )

    def item_title(self, revision):
        return xml_text(f"{revision.title} — {revision.monograph.kind_label()}, revision {revision.number}")

    def item_description(self, revision):
        # Atom carries this as HTML: the editor's text is escaped, never interpreted.
        parts = [f"<p>{escape(revision.change_note or 'Updated.')}</p>"]
        if revision.summary:
            parts.append(f"<p>{escape(revision.summary)}</p>")
        return xml_text("".join(parts))

    def item_link(self, revision):
        return revision.monograph.get_absolute_url()

    def item_guid(self, revision):
        return f"tag:drugref,2025:revision/{revision.monograph.slug}/{revision.number}"

    item_guid_is_permalink = False

    def item_pubdate(self, revision):
        return revision.published_at

    def item_updateddate(self, revision):
        return revision.published_at

    def item_author_name(self, revision):
        return xml_text(", ".join(author.name for author in revision.authors)) or None


# Cached under the content generation: feed readers poll it, and it cost 0.1 s a request at 20,000 monographs.
# Readers revalidate it every time, like the pages (ConditionalGetMiddleware answers 304 by its ETag).
updates_feed = cache_control(no_cache=True)(
    require_safe(whole_page(generation_stamp, content_type="application/atom+xml; charset=utf-8")(UpdatesFeed()))
)
