import re

from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path

from monographs.preview import EditorMarkdownifyView
from monographs.uploads import EditorImageUploadView, serve_media
from monographs.views import sitemap_section_xml, sitemap_xml

urlpatterns = [
    path("admin/", admin.site.urls),
    # Before markdownx's own URLs, so its open upload and preview views are never reached.
    path("markdownx/upload/", EditorImageUploadView.as_view(), name="markdownx_upload"),
    path("markdownx/markdownify/", EditorMarkdownifyView.as_view(), name="markdownx_markdownify"),
    path("markdownx/", include("markdownx.urls")),
    path("sitemap.xml", sitemap_xml, name="sitemap"),
    path("sitemap-<slug:section>.xml", sitemap_section_xml, name="sitemap_section"),
    # Uploaded images from the media storage (MEDIA_ROOT or the bucket), with DEBUG on or off (django's static()
    # serves only with DEBUG on): only image types, with nosniff and a sandbox policy.  A proxy may serve
    # MEDIA_ROOT instead, with the same headers (README).
    re_path(rf"^{re.escape(settings.MEDIA_URL.lstrip('/'))}(?P<path>.*)$", serve_media, name="media"),
    path("", include("monographs.urls")),
]

handler404 = "monographs.views.page_not_found"
