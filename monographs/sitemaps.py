"""/sitemap.xml: every public page, monographs with the date of their last publication."""

from django.contrib.sitemaps import Sitemap
from django.db.models import Max, Q
from django.urls import reverse

from .models import Comparison, DrugClass, Monograph, Revision

LIVE = Q(revisions__status=Revision.Status.PUBLISHED)


class MonographSitemap(Sitemap):
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


class ComparisonSitemap(Sitemap):
    changefreq = "monthly"
    priority = 0.5

    def items(self):
        return Comparison.objects.live().select_related("revision").order_by("slug")

    def lastmod(self, comparison):
        return comparison.revision.published_at


class ClassSitemap(Sitemap):
    changefreq = "monthly"
    priority = 0.4

    def items(self):
        return DrugClass.objects.with_live_drugs().order_by("slug")


class PageSitemap(Sitemap):
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
