from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path

from monographs.uploads import EditorImageUploadView

urlpatterns = [
    path("admin/", admin.site.urls),
    # Before markdownx's own URLs, so its open upload view is never reached.
    path("markdownx/upload/", EditorImageUploadView.as_view(), name="markdownx_upload"),
    path("markdownx/", include("markdownx.urls")),
    path("", include("monographs.urls")),
] + static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
