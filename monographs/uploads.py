"""Images from the markdownx editor: in, only re-encoded raster images; out, only as images that cannot run script.

An upload is a file an author chose, later opened by a proof-reader on drugref's own origin. So nothing of it
is trusted: not its name (the stored name's extension comes from the decoded format), not its bytes (only the
decoded pixels are kept and encoded again, so whatever rode after the image data or in its metadata is gone),
and not the serving of it (media answers carry `nosniff` and a `sandbox` policy, and only image types — and the
videos `import_sources --assets` brings in — are served at all).
"""

import io
import logging
import posixpath

from django.conf import settings
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpResponseNotModified
from django.utils.http import http_date
from django.views.decorators.http import require_safe
from django.views.static import was_modified_since
from markdownx.exceptions import MarkdownxImageUploadError
from markdownx.forms import ImageForm
from markdownx.views import ImageUploadView
from PIL import Image, ImageOps, ImageSequence

from .media import ALLOWED_FORMATS, MEDIA_HEADERS, SERVED_TYPES

logger = logging.getLogger(__name__)

# Modes every allowed encoder writes as they are; anything else (CMYK JPEGs, 16-bit PNGs…) becomes RGB(A).
KEPT_MODES = {"1", "L", "LA", "P", "RGB", "RGBA"}
NOT_AN_IMAGE = "The file is not an image drugref accepts (JPEG, PNG, GIF, WebP)."


def too_many_pixels(limit: int) -> MarkdownxImageUploadError:
    return MarkdownxImageUploadError(
        f"The image has too many pixels; the limit is {limit:,} (all frames of an animation together). "
        "Make it smaller and upload it again."
    )


def reencode(upload, limit: int) -> tuple[bytes, str]:
    """The upload's pixels, encoded afresh in the format they were decoded from, and that format.

    Each frame is copied pixel by pixel into a new image, so no chunk, comment, EXIF/XMP/ICC block or
    trailing byte of the upload reaches the stored file.  The pixel count (width × height, summed over the
    frames) is checked before each frame is decoded: a few kilobytes can declare gigapixels.
    Animations (GIF, WebP, APNG) stay animated, with their frame durations and loop count.
    """
    try:
        return decode_and_encode(upload, limit)
    except MarkdownxImageUploadError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise too_many_pixels(limit) from None
    except Exception as error:
        # Pillow's parsers report a malformed file with many exception types: besides OSError and
        # SyntaxError, a fuzz run of mutated GIF/PNG/JPEG/WebP files raised struct.error, IndexError and
        # RuntimeError.  Whichever it is, the file is not an image drugref can re-encode: a 400, not a 500.
        logger.info("Image upload refused: %s: %s", type(error).__name__, error)
        raise MarkdownxImageUploadError(NOT_AN_IMAGE) from None


def decode_and_encode(upload, limit: int) -> tuple[bytes, str]:
    upload.seek(0)
    with Image.open(upload, formats=list(ALLOWED_FORMATS)) as image:
        detected = "JPEG" if image.format == "MPO" else image.format  # a camera's JPEG with a second view
        loop = image.info.get("loop")
        frames, durations, pixels = [], [], 0
        for frame in ImageSequence.Iterator(image):
            # Counted before the frame is decoded, frame by frame: a later GIF frame may be far larger than
            # the size the header declares (Pillow grows the canvas to hold it).
            pixels += frame.width * frame.height
            if pixels > limit:
                raise too_many_pixels(limit)
            frames.append(clean_copy(frame))
            durations.append(frame.info.get("duration", 0))
            if detected == "JPEG":
                break
    options = {"quality": 90} if detected == "JPEG" else {}
    if len(frames) > 1:
        options.update(save_all=True, append_images=frames[1:], duration=durations)
        if loop is not None:
            options["loop"] = loop
    output = io.BytesIO()
    frames[0].save(output, detected, **options)
    return output.getvalue(), detected


def clean_copy(frame: Image.Image) -> Image.Image:
    """A new image holding only the frame's pixels (with its palette and transparent colour, if it has them),
    upright: a phone photo's EXIF rotation is applied, since the EXIF block itself is not kept.

    Palette images stay palette images: converting them to RGB would make the GIF encoder quantise every
    pixel again (ten times slower, and lossy).  The palette is attacker-chosen bytes too, like the pixels,
    which is why the serving headers, not re-encoding alone, are what stops a file from running as script.
    """
    upright = ImageOps.exif_transpose(frame)
    if upright.mode not in KEPT_MODES:
        upright = upright.convert("RGBA" if upright.has_transparency_data else "RGB")
    copy = Image.frombytes(upright.mode, upright.size, upright.tobytes())
    if upright.mode == "P":
        copy.putpalette(upright.getpalette())
    if "transparency" in upright.info:
        copy.info["transparency"] = upright.info["transparency"]
    return copy


class VerifiedImageForm(ImageForm):
    """markdownx's form, keeping its storage and naming but never the upload's bytes, name or claimed type."""

    def clean(self):
        upload = self.cleaned_data.get("image")
        if upload is not None:
            limit = settings.MARKDOWNX_UPLOAD_MAX_SIZE
            if upload.size > limit:
                raise MarkdownxImageUploadError(f"The image is {upload.size} bytes; the limit is {limit} bytes.")
            self.encoded, self.format = reencode(upload, settings.UPLOAD_MAX_PIXELS)
        return self.cleaned_data

    def save(self, commit=True):
        """markdownx's `_save` (random name under MARKDOWNX_MEDIA_PATH), given the re-encoded bytes and a
        name whose extension — the only part of it `_save` keeps — comes from the decoded format."""
        extension, content_type = ALLOWED_FORMATS[self.format]
        name = f"image.{extension}"
        image = ContentFile(self.encoded, name=name)
        image.content_type = content_type  # what a bucket stores with the object (its Content-Type)
        return self._save(image, name, commit)


class EditorImageUploadView(PermissionRequiredMixin, ImageUploadView):
    """markdownx's upload view, for people who may edit revisions (anyone else gets 403)."""

    form_class = VerifiedImageForm
    permission_required = "monographs.change_revision"
    raise_exception = True
    http_method_names = ["post"]


@require_safe
def serve_media(request, path):
    """The media storage's images (MEDIA_ROOT, or the bucket), with and without DEBUG.

    Read through `default_storage`, so every app server answers for every upload when the storage is shared;
    a name that leaves the storage's root is refused by the storage itself (400).
    """
    content_type = SERVED_TYPES.get(posixpath.splitext(path)[1].lower())
    if content_type is None:
        raise Http404("Only images are served from here.")
    try:
        image = default_storage.open(path, "rb")
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        raise Http404("No such image.") from None
    modified = default_storage.get_modified_time(path).timestamp()
    if was_modified_since(request.META.get("HTTP_IF_MODIFIED_SINCE"), modified):
        response = FileResponse(image, content_type=content_type)
        response["Last-Modified"] = http_date(modified)
    else:
        image.close()
        response = HttpResponseNotModified()
    for header, value in MEDIA_HEADERS.items():
        response[header] = value
    return response
