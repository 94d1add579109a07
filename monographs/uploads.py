"""Image uploads from the markdownx editor: editors only, real raster images only, size-limited."""

from django.conf import settings
from django.contrib.auth.mixins import PermissionRequiredMixin
from markdownx.exceptions import MarkdownxImageUploadError
from markdownx.forms import ImageForm
from markdownx.views import ImageUploadView
from PIL import Image, UnidentifiedImageError

# Decided by the bytes, never by the file name or the browser's claimed type.  No SVG: it can carry script.
ALLOWED_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "GIF": "image/gif", "WEBP": "image/webp"}


class VerifiedImageForm(ImageForm):
    def clean(self):
        upload = self.cleaned_data.get("image")
        if upload is not None:
            limit = settings.MARKDOWNX_UPLOAD_MAX_SIZE
            if upload.size > limit:
                raise MarkdownxImageUploadError(f"The image is {upload.size} bytes; the limit is {limit} bytes.")
            try:
                upload.seek(0)
                with Image.open(upload) as image:
                    detected = image.format
                    image.verify()
            except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
                raise MarkdownxImageUploadError(
                    "The file is not an image drugref accepts (JPEG, PNG, GIF, WebP)."
                ) from None
            if detected not in ALLOWED_FORMATS:
                raise MarkdownxImageUploadError(f"{detected} images are not accepted; use JPEG, PNG, GIF or WebP.")
            upload.seek(0)
            upload.content_type = ALLOWED_FORMATS[detected]
        return super().clean()


class EditorImageUploadView(PermissionRequiredMixin, ImageUploadView):
    """markdownx's upload view, for people who may edit revisions (anyone else gets 403)."""

    form_class = VerifiedImageForm
    permission_required = "monographs.change_revision"
    raise_exception = True
    http_method_names = ["post"]
