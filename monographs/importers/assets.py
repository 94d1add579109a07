"""Images, videos and posters a source page refers to, brought into media storage (`import_sources --assets DIR`).

A source page names its files by the source site's absolute paths (`/images/jaw.jpg`).  With an assets
directory holding a copy of that site's files, each file is found at DIR + its path, checked, and stored
through Django's `default_storage` (the local media folder today, an S3 bucket tomorrow); the page then
refers to the stored file's URL.  A file that is not there, or not acceptable, stays referred to by its
old path with a warning: the renderer shows no broken image for it and the revision's link check lists it.

The assets directory is as untrusted as the documents: a path may not climb out of it (`..`), no symbolic
link is followed, a file larger than its kind's limit is refused, images are decoded and re-encoded like
uploads (monographs/uploads.py: only the pixels are kept) and videos must start like the container their
name claims.
"""

from __future__ import annotations

import errno
import hashlib
import io
import os
import posixpath
import stat
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.core.files.base import ContentFile, File
from django.core.files.storage import default_storage
from django.utils.text import slugify
from markdownx.exceptions import MarkdownxImageUploadError

from ..media import ALLOWED_FORMATS, VIDEO_TYPES

IMAGE = "image"
VIDEO = "video"
MAX_BYTES = {IMAGE: 20 * 1024 * 1024, VIDEO: 200 * 1024 * 1024}
# Where imported files go in media storage: imported/<first 16 hex digits of the source file's SHA-256>/<name>.
# The same file imported twice (by two pages, or by a re-import) is stored once, under the same URL, so a
# re-import of an unchanged page writes the same body; a changed file gets a new URL.
STORAGE_FOLDER = "imported"
CHUNK = 1024 * 1024


def _looks_like(data: bytes, extension: str) -> bool:
    """The first bytes of a video container of the kind its extension names."""
    if extension in (".mp4", ".m4v"):
        return data[4:8] == b"ftyp"
    if extension == ".webm":
        return data[:4] == b"\x1a\x45\xdf\xa3"
    if extension in (".ogv", ".ogg"):
        return data[:4] == b"OggS"
    return False


class AssetRefused(Exception):
    """Why a referenced file is not imported; the importer writes it as the document's warning."""


@dataclass
class AssetLibrary:
    """The files of a source site under `root`, copied into `storage` as pages refer to them.

    Each path is looked up once per run: the outcome (a stored URL, or why not) is remembered, and every
    page referring to a missing or refused file gets its own warning.
    """

    root: Path
    storage: object = None
    write: bool = True  # False: find and check the files, store nothing (a dry run)
    _outcomes: dict = field(default_factory=dict, repr=False)

    def __post_init__(self):
        self.root = Path(self.root)
        self.storage = self.storage or default_storage
        self._real_root = os.path.realpath(self.root)

    def localise(self, path: str, kind: str) -> str:
        """The media URL of the file at the site-absolute `path`, stored now if it was not yet; else AssetRefused."""
        key = (path, kind)
        if key not in self._outcomes:
            try:
                self._outcomes[key] = self._store(path, kind)
            except AssetRefused as refused:
                self._outcomes[key] = refused
        outcome = self._outcomes[key]
        if isinstance(outcome, AssetRefused):
            raise outcome
        return outcome

    def _open(self, path: str, kind: str):
        """The regular file at root + path, opened without following any link, and its size."""
        parts = [part for part in path.split("/") if part]
        if any(part in ("..", ".") for part in parts) or "\\" in path or "\x00" in path:
            raise AssetRefused("refused: the path climbs out of the assets directory")
        if not parts:
            raise AssetRefused("refused: the path names no file")
        candidate = self.root.joinpath(*parts)
        # Every component below the root is checked: a linked folder would lead anywhere.
        current = self.root
        for part in parts:
            current = current / part
            try:
                info = os.lstat(current)
            except FileNotFoundError:
                raise AssetRefused(f"not found in the assets directory ({self.root})") from None
            except OSError as exc:
                raise AssetRefused(f"cannot be read: {exc.strerror}") from None
            if stat.S_ISLNK(info.st_mode):
                raise AssetRefused("refused: a symbolic link in the assets directory is not followed")
        if not os.path.realpath(candidate).startswith(self._real_root + os.sep):
            raise AssetRefused("refused: the path leads out of the assets directory")
        flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
        try:
            fd = os.open(candidate, flags)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise AssetRefused("refused: a symbolic link in the assets directory is not followed") from None
            raise AssetRefused(f"cannot be read: {exc.strerror}") from None
        file = os.fdopen(fd, "rb")
        info = os.fstat(file.fileno())
        if not stat.S_ISREG(info.st_mode):
            file.close()
            raise AssetRefused("refused: not a regular file")
        if info.st_size > MAX_BYTES[kind]:
            file.close()
            what = "an image" if kind == IMAGE else "a video"
            raise AssetRefused(f"refused: {info.st_size:,} bytes; the limit for {what} is {MAX_BYTES[kind]:,} bytes")
        return file

    def _store(self, path: str, kind: str) -> str:
        with self._open(path, kind) as file:
            digest = hashlib.sha256()
            for chunk in iter(lambda: file.read(CHUNK), b""):
                digest.update(chunk)
            file.seek(0)
            stem = slugify(posixpath.splitext(posixpath.basename(path))[0])[:60] or kind
            folder = f"{STORAGE_FOLDER}/{digest.hexdigest()[:16]}"
            if kind == IMAGE:
                content, extension = self._image(file)
            else:
                content, extension = self._video(file, path)
            name = f"{folder}/{stem}{extension}"
            if self.write and not self.storage.exists(name):
                name = self.storage.save(name, content)
            return self.storage.url(name)

    def _image(self, file) -> tuple[ContentFile, str]:
        # Imported here: monographs.uploads imports markdownx's views, which import the renderer, which
        # imports the importer's sources module, which imports this one.
        from ..uploads import reencode

        try:
            encoded, detected = reencode(io.BytesIO(file.read()), settings.UPLOAD_MAX_PIXELS)
        except MarkdownxImageUploadError as error:
            raise AssetRefused(f"refused: {' '.join(error.messages)}") from None
        extension, _content_type = ALLOWED_FORMATS[detected]
        return ContentFile(encoded), f".{extension}"

    def _video(self, file, path: str) -> tuple[File, str]:
        extension = posixpath.splitext(path)[1].lower()
        if extension not in VIDEO_TYPES:
            raise AssetRefused(f"refused: not a video type drugref serves ({', '.join(sorted(VIDEO_TYPES))})")
        if not _looks_like(file.read(16), extension):
            raise AssetRefused(f"refused: the file does not start like a {extension} video")
        file.seek(0)
        return File(file), extension


def site_path(src: str, base: str = "/") -> str | None:
    """The site-absolute path `src` names on the source site (relative ones against the page's `base`),
    or None for another site's URL or a scheme that is not a file (data:, javascript:)."""
    parts = urlsplit(src.strip())
    if parts.scheme or parts.netloc:
        return None
    path = unquote(parts.path)
    if not path:
        return None
    if not path.startswith("/"):
        # Resolved as the source site's browser would; only a site-absolute `..` is refused (by `_open`).
        folder = base if base.endswith("/") else posixpath.dirname(base)
        path = posixpath.normpath(posixpath.join("/", folder, path))
    return path
