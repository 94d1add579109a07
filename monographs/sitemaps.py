"""/sitemap.xml: every public page, monographs with the date of their last publication.

One file (a `urlset`) while the site has at most `Section.limit` addresses, the protocol's maximum of
50,000 a file; beyond that /sitemap.xml is a sitemap index of its sections' pages (`/sitemap-<section>.xml`,
`?p=2`…), each of at most that many.  A 20,000-monograph site has about 23,000 addresses.
"""

from django.contrib.sitemaps import Sitemap
from django.db.models import Max, Q
from django.urls import reverse

from .models import Comparison, DrugClass, Monograph, Revision

LIVE = Q(revisions__status=Revision.Status.PUBLISHED)


class Section(Sitemap):
    limit = 50_000  # addresses a sitemap file may hold (sitemaps.org); Django's default, said here


class MonographSitemap(Section):
    changefreq = "monthly"
    priority = 0.8

    def items(self):
        return (
            Monograph.objects.filter(LIVE)
            .select_related("drug", "topic")
            .annotate(last_published=Max("revisions__published_at", filter=LIVE))
            .order_by("slug")
        )

    def lastmod(self, monograph):
        return monograph.last_published


class ComparisonSitemap(Section):
    changefreq = "monthly"
    priority = 0.5

    def items(self):
        return Comparison.objects.live().select_related("revision").order_by("slug")

    def lastmod(self, comparison):
        return comparison.revision.published_at


class ClassSitemap(Section):
    changefreq = "monthly"
    priority = 0.4

    def items(self):
        return DrugClass.objects.with_live_drugs().order_by("slug")


class PageSitemap(Section):
    changefreq = "daily"
    priority = 0.6

    def items(self):
        return ["monographs:home", "monographs:drug_index", "monographs:topic_index"]

    def location(self, name):
        return reverse(name)


SITEMAPS = {
    "pages": PageSitemap,
    "monographs": MonographSitemap,
    "comparisons": ComparisonSitemap,
    "classes": ClassSitemap,
}


def fits_one_file() -> bool:
    """Whether every address fits in one sitemap file (one COUNT query a section)."""
    return sum(section().paginator.count for section in SITEMAPS.values()) <= Section.limit
