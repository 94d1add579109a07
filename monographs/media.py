"""What /media/ holds and serves: the file types, and whether an address is a file it would answer with.

Kept apart from monographs/uploads.py (which needs markdownx's views, and through them the renderer) so
the renderer and the importer can ask it too.
"""

import os
import posixpath
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.core.exceptions import SuspiciousFileOperation
from django.core.files.storage import default_storage

# Decided by the bytes, never by the file name or the browser's claimed type.  No SVG: it can carry script.
# Format → (stored extension, content type).  Pillow tries only these decoders.
ALLOWED_FORMATS = {
    "JPEG": ("jpg", "image/jpeg"),
    "PNG": ("png", "image/png"),
    "GIF": ("gif", "image/gif"),
    "WEBP": ("webp", "image/webp"),
}
# What /media/ serves, by extension: the types the upload form and `import_sources --assets` store.  Anything
# else is a 404, whoever put it under MEDIA_ROOT: drugref stores no other kind of file there.
SERVED_TYPES = {f".{extension}": content_type for extension, content_type in ALLOWED_FORMATS.values()}
SERVED_TYPES[".jpeg"] = "image/jpeg"
# Videos come in only through `import_sources --assets` (monographs/importers/assets.py checks their first bytes).
VIDEO_TYPES = {
    ".mp4": "video/mp4",
    ".m4v": "video/mp4",
    ".webm": "video/webm",
    ".ogv": "video/ogg",
    ".ogg": "video/ogg",
}
SERVED_TYPES.update(VIDEO_TYPES)
# Even a file that is not what its name says cannot run script or reach drugref's cookies: the browser must
# not guess another type (nosniff), and a document opened from /media/ gets a unique origin and no script.
MEDIA_HEADERS = {"X-Content-Type-Options": "nosniff", "Content-Security-Policy": "sandbox"}


def media_name(url: str) -> str | None:
    """The storage name a same-site media URL (`/media/…`) stands for, or None for any other URL."""
    parts = urlsplit(url.strip())
    if parts.scheme or parts.netloc:
        return None
    path = unquote(parts.path)
    prefix = "/" + settings.MEDIA_URL.strip("/") + "/"
    return path[len(prefix) :] if path.startswith(prefix) and len(path) > len(prefix) else None


def is_served_media(url: str) -> bool:
    """Whether /media/ answers `url` with a file: a stored file of a type `serve_media` serves."""
    name = media_name(url)
    if name is None or posixpath.splitext(name)[1].lower() not in SERVED_TYPES:
        return False
    try:
        path = default_storage.path(name)
    except NotImplementedError:  # a remote storage (S3): no local path, and no folders to mistake for files
        return default_storage.exists(name)
    except SuspiciousFileOperation:  # `..` out of the media folder
        return False
    return os.path.isfile(path)  # a folder named `x.png` exists too, and answers 404
