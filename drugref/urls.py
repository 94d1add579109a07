from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.contrib.sitemaps.views import sitemap
from django.urls import include, path

from monographs.preview import EditorMarkdownifyView
from monographs.sitemaps import SITEMAPS
from monographs.uploads import EditorImageUploadView

urlpatterns = [
    path("admin/", admin.site.urls),
    # Before markdownx's own URLs, so its open upload and preview views are never reached.
    path("markdownx/upload/", EditorImageUploadView.as_view(), name="markdownx_upload"),
    path("markdownx/markdownify/", EditorMarkdownifyView.as_view(), name="markdownx_markdownify"),
    path("markdownx/", include("markdownx.urls")),
    path("sitemap.xml", sitemap, {"sitemaps": SITEMAPS}, name="sitemap"),
    path("", include("monographs.urls")),
] + static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

handler404 = "monographs.views.page_not_found"
