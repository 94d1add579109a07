"""Image uploads (markdownx) and /media/: only re-encoded images go in, and only as images do they come out.

The attack these tests replay: a valid GIF named `fig.js` with a script after its image data, stored under
its own extension and served as JavaScript, loaded by a second GIF named `fig.html` served as HTML — script
on drugref's origin, run by whichever proof-reader opens the link.
"""

import importlib
import io
import re
import struct
import zlib
from contextlib import contextmanager

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import clear_url_caches
from PIL import Image, PngImagePlugin

from .conftest import make_user

pytestmark = pytest.mark.django_db

SCRIPT = b"<script>alert(document.cookie)</script>"
HTML = b'<!doctype html><html><body><script src="/media/markdownx/fig.js"></script></body></html>'
STORED_URL = re.compile(r"^!\[\]\((/media/markdownx/[0-9a-f-]{36}\.(gif|png|jpg|webp))\)$")


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def author(client):
    client.force_login(make_user("alice", "Authors"))
    return client


def gif(comment: bytes | None = None, size=(30, 20)) -> bytes:
    image = Image.new("P", size, 1)
    image.putpalette([0, 0, 0, 255, 0, 0] * 128)
    buffer = io.BytesIO()
    image.save(buffer, "GIF", **({"comment": comment} if comment else {}))
    return buffer.getvalue()


def png(text: bytes | None = None, size=(30, 20)) -> bytes:
    info = PngImagePlugin.PngInfo()
    if text:
        info.add_text("Comment", text.decode())
    buffer = io.BytesIO()
    Image.new("RGBA", size, (255, 0, 0, 128)).save(buffer, "PNG", pnginfo=info)
    return buffer.getvalue()


POLYGLOTS = {
    "gif + script after the image data": ("gif", gif() + SCRIPT),
    "gif + html after the image data": ("gif", gif() + HTML),
    "gif with a script comment": ("gif", gif(comment=SCRIPT)),
    "png + html after the image data": ("png", png() + HTML),
    "png with a script text chunk": ("png", png(text=SCRIPT)),
}
MISLEADING_NAMES = {
    "fig.html": "text/html",
    "fig.js": "text/javascript",
    "fig.svg": "image/svg+xml",
    "fig.gif.html": "text/html",
    "../../evil name.js": "text/javascript",
}


def upload(client, name, content, content_type="image/png"):
    return client.post(
        "/markdownx/upload/",
        {"image": SimpleUploadedFile(name, content, content_type=content_type)},
        headers={"x-requested-with": "XMLHttpRequest"},
    )


def stored_url(response) -> str:
    assert response.status_code == 200, response.content
    match = STORED_URL.match(response.json()["image_code"])
    assert match, response.json()
    return match.group(1)


def refusal(response) -> str:
    assert response.status_code == 400
    return " ".join(response.json()["__all__"])


@contextmanager
def urls_built_with(debug: bool):
    """drugref.urls as it is built with DEBUG on or off (django's static() looks at DEBUG when it is built)."""
    import drugref.urls

    try:
        with override_settings(DEBUG=debug):
            importlib.reload(drugref.urls)
            clear_url_caches()
            yield
    finally:
        importlib.reload(drugref.urls)
        clear_url_caches()


def fetch(client, url: str, debug: bool):
    with urls_built_with(debug):
        response = client.get(url)
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return response, body


@pytest.mark.parametrize("name", MISLEADING_NAMES)
@pytest.mark.parametrize("polyglot", POLYGLOTS)
def test_polyglots_are_stored_as_their_format_without_their_payload(author, media, polyglot, name):
    fmt, content = POLYGLOTS[polyglot]
    payload = HTML if HTML in content else SCRIPT
    assert payload in content

    url = stored_url(upload(author, name, content, MISLEADING_NAMES[name]))

    assert url.endswith(f".{fmt}")
    stored = media / url.removeprefix("/media/")
    assert [path.name for path in media.rglob("*.*")] == [stored.name]
    data = stored.read_bytes()
    assert payload not in data and b"<script" not in data and b"<html" not in data
    with Image.open(io.BytesIO(data)) as image:
        assert (image.format, image.size) == (fmt.upper(), (30, 20))
    for debug in (True, False):
        response, body = fetch(author, url, debug)
        assert response.status_code == 200
        assert response["Content-Type"] == f"image/{fmt}"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Content-Security-Policy"] == "sandbox"
        assert body == data


def test_animated_gifs_stay_animated(author, media):
    frames = [Image.new("RGB", (30, 20), colour) for colour in ("red", "lime", "blue")]
    buffer = io.BytesIO()
    frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:], duration=[100, 200, 300], loop=0)

    url = stored_url(upload(author, "spin.gif", buffer.getvalue() + SCRIPT, "image/gif"))

    with Image.open(media / url.removeprefix("/media/")) as image:
        assert image.n_frames == 3 and image.info["loop"] == 0
        seen = []
        for index in range(3):
            image.seek(index)
            seen.append((image.info["duration"], image.convert("RGB").getpixel((0, 0))))
    assert seen == [(100, (255, 0, 0)), (200, (0, 255, 0)), (300, (0, 0, 255))]


def test_photos_lose_their_exif_but_keep_their_orientation(author, media):
    exif = Image.Exif()
    exif[0x010E] = SCRIPT.decode()  # ImageDescription
    exif[0x0112] = 6  # Orientation: rotate 90° to display
    buffer = io.BytesIO()
    Image.new("RGB", (40, 20), "red").save(buffer, "JPEG", exif=exif)

    url = stored_url(upload(author, "photo.html", buffer.getvalue(), "text/html"))

    assert url.endswith(".jpg")
    data = (media / url.removeprefix("/media/")).read_bytes()
    assert SCRIPT not in data and b"Exif" not in data
    with Image.open(io.BytesIO(data)) as image:
        assert image.size == (20, 40)


def test_webp_uploads_are_kept_as_webp(author, media):
    buffer = io.BytesIO()
    Image.new("RGB", (30, 20), "red").save(buffer, "WEBP")

    url = stored_url(upload(author, "fig.js", buffer.getvalue() + SCRIPT, "text/javascript"))

    assert url.endswith(".webp")
    data = (media / url.removeprefix("/media/")).read_bytes()
    assert SCRIPT not in data
    response, body = fetch(author, url, debug=False)
    assert (response["Content-Type"], body) == ("image/webp", data)


@pytest.mark.parametrize(
    ("name", "content", "content_type"),
    [
        ("x.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "image/svg+xml"),
        ("x.png", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "image/png"),
        ("x.gif", b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>', "image/gif"),
        ("x.png", b"<html><script>alert(1)</script></html>", "image/png"),
        ("x.jpg", b"\xff\xd8\xff\xe0 not really a jpeg", "image/jpeg"),
        ("x.gif", gif()[:-12], "image/gif"),  # truncated image data
    ],
)
def test_uploads_that_are_not_accepted_raster_images_are_refused(author, media, name, content, content_type):
    assert "not an image drugref accepts" in refusal(upload(author, name, content, content_type))
    assert list(media.rglob("*.*")) == []


def test_other_formats_pillow_reads_are_refused(author, media):
    """Pillow decodes dozens of formats; only the four drugref accepts are even tried (`formats=`)."""
    buffer = io.BytesIO()
    Image.new("RGB", (30, 20), "red").save(buffer, "BMP")
    assert "not an image drugref accepts" in refusal(upload(author, "x.png", buffer.getvalue()))
    assert list(media.rglob("*.*")) == []


def test_oversized_uploads_are_refused(author, media, settings):
    settings.MARKDOWNX_UPLOAD_MAX_SIZE = 10
    assert "the limit is 10 bytes" in refusal(upload(author, "x.png", png()))
    assert list(media.rglob("*.*")) == []


def test_images_with_too_many_pixels_are_refused(author, media, settings):
    settings.UPLOAD_MAX_PIXELS = 599
    message = refusal(upload(author, "x.png", png(size=(30, 20))))
    assert "too many pixels; the limit is 599" in message
    assert list(media.rglob("*.*")) == []
    settings.UPLOAD_MAX_PIXELS = 600
    stored_url(upload(author, "x.png", png(size=(30, 20))))


def with_declared_size(png_bytes: bytes, width: int, height: int) -> bytes:
    """The PNG with its header (IHDR, the first chunk) claiming another size; the pixel data stays tiny."""
    data = bytearray(png_bytes)
    data[16:24] = struct.pack(">II", width, height)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    return bytes(data)


def test_a_decompression_bomb_is_refused_with_a_clear_message(author, media):
    """30,000 × 30,000 declared in a 100-byte file: Pillow itself refuses to open it, which is a 400, not a 500."""
    bomb = with_declared_size(png(), 30_000, 30_000)
    assert len(bomb) < 200
    assert "too many pixels" in refusal(upload(author, "x.png", bomb))
    assert list(media.rglob("*.*")) == []


def gif_frame(width: int, height: int) -> bytes:
    """An image descriptor and one pixel of LZW data (clear, 0, end): enough to read the frame's size."""
    return b"," + struct.pack("<HHHHB", 0, 0, width, height, 0) + b"\x02\x02\x44\x01\x00"


def test_a_gif_frame_larger_than_the_gif_is_counted(author, media, settings):
    """Pillow grows the canvas to hold a frame larger than the header's size: 1 × 1 declared, 20 MP decoded."""
    header = b"GIF89a" + struct.pack("<HHBBB", 1, 1, 0x80, 0, 0) + b"\x00\x00\x00\xff\xff\xff"
    content = header + gif_frame(1, 1) + gif_frame(5000, 4000) + b";"
    assert "too many pixels" in refusal(upload(author, "x.gif", content, "image/gif"))
    assert list(media.rglob("*.*")) == []


@pytest.mark.parametrize("who", [None, "oscar", "bob"])
def test_only_editors_may_upload(client, media, who):
    if who == "oscar":
        client.force_login(make_user("oscar"))
    elif who == "bob":
        client.force_login(make_user("bob", "Proof-readers"))
    assert upload(client, "x.png", png()).status_code == 403
    assert list(media.rglob("*.*")) == []


@pytest.mark.parametrize("debug", [True, False])
def test_media_serves_images_only_and_never_as_a_document(client, media, settings, debug):
    """A stray file under MEDIA_ROOT (not put there by the upload form) is not served as what its name says.

    nosniff holds even without the site-wide SECURE_CONTENT_TYPE_NOSNIFF: the media view sets it itself.
    """
    settings.SECURE_CONTENT_TYPE_NOSNIFF = False
    (media / "markdownx").mkdir()
    for name in ("evil.html", "evil.js", "evil.svg", "evil.gif.html", "evil.txt", "evil.png.gz", "evil.PNG"):
        (media / "markdownx" / name).write_bytes(HTML)

    for name in ("evil.html", "evil.js", "evil.svg", "evil.gif.html", "evil.txt", "evil.png.gz"):
        assert fetch(client, f"/media/markdownx/{name}", debug)[0].status_code == 404, name
    response, body = fetch(client, "/media/markdownx/evil.PNG", debug)
    assert (response.status_code, body) == (200, HTML)
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "sandbox"


@pytest.mark.parametrize("debug", [True, False])
def test_media_serves_nothing_but_files_under_media_root(client, media, tmp_path_factory, debug):
    outside = tmp_path_factory.mktemp("outside") / "secret.png"
    outside.write_bytes(png())
    (media / "dir.png").mkdir()
    for url in ("/media/missing.png", "/media/dir.png"):
        assert fetch(client, url, debug)[0].status_code == 404, url
    escape = fetch(client, f"/media/../{outside.parent.name}/secret.png", debug)[0]
    assert escape.status_code == 400  # SuspiciousFileOperation from safe_join


def test_the_served_type_comes_from_the_allow_list_not_the_system(client, media, monkeypatch):
    """Not from mimetypes (and so /etc/mime.types), which could map an image extension to a document type."""
    monkeypatch.setattr("mimetypes.guess_type", lambda *args, **kwargs: ("text/html", None))
    (media / "x.gif").write_bytes(gif())
    response, _body = fetch(client, "/media/x.gif", debug=False)
    assert response["Content-Type"] == "image/gif"


def test_media_answers_head_but_no_other_method(client, media):
    (media / "x.png").write_bytes(png())
    with urls_built_with(debug=False):
        head = client.head("/media/x.png")
        assert (head.status_code, head["Content-Type"], head["Content-Security-Policy"]) == (
            200,
            "image/png",
            "sandbox",
        )
        assert client.post("/media/x.png").status_code == 405


def test_conditional_gets_keep_the_media_headers(client, media):
    (media / "x.png").write_bytes(png())
    with urls_built_with(debug=False):
        modified = client.get("/media/x.png")["Last-Modified"]
        response = client.get("/media/x.png", headers={"if-modified-since": modified})
    assert response.status_code == 304
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "sandbox"
