"""Figures and videos (issue 13, part 4): a source page's figures keep their images, a Markdown caption and an
alt text of their own; videos stay videos; `import_sources --assets DIR` brings the files in; a file that is
missing is a warning, never a broken image, and is listed by the revision's link check.

The document (tests/documents/figures/) was written for these tests; its images and videos are made here,
with Pillow, in a scratch copy of the source site's folders.
"""

import io
import os
from io import StringIO

import pytest
from bs4 import BeautifulSoup
from django.core.management import CommandError, call_command
from PIL import Image

from monographs.importers import assets as assets_module
from monographs.importers.sources import WARNINGS_KEY, alt_text
from monographs.links import broken_links
from monographs.models import Comparison, Drug, Revision
from monographs.rendering import render_markdown

from .conftest import EXAMPLES, make_user

pytestmark = pytest.mark.django_db

CORPUS = EXAMPLES / "figures"
ARTICAINE = CORPUS / "a_articaine.txt"
SCRIPT = b"<script>alert(document.cookie)</script>"
# The first bytes of an MP4 and a WebM file: what the importer checks a video by (it does not decode them).
MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + bytes(64)
WEBM = b"\x1a\x45\xdf\xa3" + bytes(64)
# Every file the document refers to except /images/medication/lost-photo.jpg, which the site lost.
FILES = {
    "images/medication/articaine-cartridge.jpg": "JPEG",
    "images/medication/IMG_0042.jpg": "JPEG",
    "images/diagrams/nerve-block-diagram.png": "PNG",
    "images/diagrams/DSC_0193.png": "PNG",
    "images/medication/box-label.png": "PNG",
    "videos/nerve-block-poster.jpg": "JPEG",
}
MISSING = "/images/medication/lost-photo.jpg"


def image_bytes(kind: str = "PNG", size=(40, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (180, 40, 40)).save(buffer, kind)
    return buffer.getvalue()


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.MEDIA_ROOT.mkdir()
    return settings.MEDIA_ROOT


@pytest.fixture
def site(tmp_path):
    """A copy of the source site's files, as `--assets` expects them: by their site-absolute paths."""
    root = tmp_path / "site"
    for name, kind in FILES.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(image_bytes(kind) + (SCRIPT if "cartridge" in name else b""))
    (root / "videos" / "nerve-block.mp4").write_bytes(MP4)
    (root / "videos" / "nerve-block.webm").write_bytes(WEBM)
    return root


def run_import(*args) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("import_sources", *map(str, args), stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def public_page(client) -> BeautifulSoup:
    response = client.get(Drug.objects.get(slug="articaine").get_absolute_url())
    assert response.status_code == 200
    return BeautifulSoup(response.content, "html.parser").find("main")


def fetch(client, url: str):
    response = client.get(url)
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return response, body


@pytest.fixture
def imported(media, site, client):
    out, err = run_import(CORPUS, "--assets", site)
    assert "1 created" in out
    return public_page(client), err


def caption_of(page: BeautifulSoup, words: str):
    figcaption = next(c for c in page.find_all("figcaption") if words in c.get_text())
    return figcaption.find_parent("figure"), figcaption


def test_a_figure_keeps_its_caption_as_markup_with_its_credits_and_licence_link(imported):
    page, _err = imported
    figure, caption = caption_of(page, "A cartridge of articaine")
    html = str(caption)
    assert "<strong>Figure 1</strong>" in html
    assert "C<sub>9</sub>H<sub>13</sub>NO<sub>3</sub>" in html and "H<sup>+</sup>" in html
    assert caption.find("a", href="/treatment/other/medication/local-anaesthetics").get_text() == (
        "other local anaesthetics"
    )
    assert caption.find("em").get_text() == "Photograph"
    assert caption.find("a", href="https://example.org/people/jqp") is not None  # the author's credit
    assert caption.find("a", href="https://creativecommons.org/licenses/by-sa/4.0/").get_text() == "CC BY-SA 4.0"
    (image,) = figure.find_all("img")
    assert image["src"].startswith("/media/imported/") and image["src"].endswith("/articaine-cartridge.jpg")
    assert image["alt"] == "Articaine 4% with adrenaline 1:100,000, one 1.7 ml cartridge"  # its own, not the caption
    video = page.find("video")
    _figure, video_caption = caption_of(page, "Preparing an")
    assert video_caption.find("strong").get_text() == "inferior alveolar nerve block"
    assert video_caption.find("a", href="https://creativecommons.org/licenses/by-nc/4.0/") is not None
    assert video is not None


def test_no_image_has_its_caption_for_alt_text(imported):
    page, _err = imported
    images = page.select("figure img")
    assert len(images) == 4  # the lost photo is not shown
    for image in images:
        caption = " ".join(image.find_parent("figure").find("figcaption").get_text(" ").split())
        assert image["alt"].strip() and image["alt"] not in caption, (image["alt"], caption)
    alts = [image["alt"] for image in images]
    # IMG_0042.jpg names nothing and its alt was the caption: the caption's first words stand for it.
    assert "Infiltration injection next to…" in alts
    assert "Nerve block diagram" in alts  # no alt: the file's name says what it shows


@pytest.mark.parametrize(
    ("own", "caption", "src", "expected"),
    [
        ("A swollen cheek", "Figure 3 Swelling after an injection", "/x/a.jpg", "A swollen cheek"),
        ("Figure 3 Swelling after an injection", "Figure 3 Swelling after an injection", "/x/cheek-swelling.jpg",
         "Cheek swelling"),
        ("Swelling after an injection", "Figure 3: swelling after an injection", "/x/IMG_1.jpg", "Figure 3"),
        ("", "The nerve block, seen from the side and from above", "/x/DSC_0193.png", "The nerve block, seen…"),
        ("photo_12.jpg", "Short caption", "/x/9f8e7d6c5b4a.jpg", "Image"),
        ("", "", "/x/jaw-xray.png", "Jaw xray"),
    ],
)  # fmt: skip
def test_alt_text_is_short_and_never_the_caption(own, caption, src, expected):
    assert alt_text(own, caption, src) == expected


def test_a_video_figure_becomes_a_video_with_its_sources_poster_and_caption(imported, client):
    page, _err = imported
    video = page.find("video")
    assert video.has_attr("controls") and not video.has_attr("autoplay") and not video.has_attr("onplay")
    assert (video["width"], video["height"]) == ("640", "360")
    sources = [(source["src"], source["type"]) for source in video.find_all("source")]
    assert [kind for _src, kind in sources] == ["video/mp4", "video/webm"]
    assert all(src.startswith("/media/imported/") for src, _kind in sources)
    assert video["poster"].startswith("/media/imported/") and video["poster"].endswith(".jpg")
    assert "not capable" not in page.get_text()  # the old fallback text is gone
    assert video.find_parent("figure").find("figcaption") is not None
    response, body = fetch(client, sources[0][0])
    assert (response.status_code, response["Content-Type"], body) == (200, "video/mp4", MP4)
    assert response["X-Content-Type-Options"] == "nosniff"


def test_assets_are_stored_re_encoded_and_served(imported, client, media):
    page, _err = imported
    for image in page.find_all("img"):
        response, body = fetch(client, image["src"])
        assert response.status_code == 200, image["src"]
        assert response["Content-Type"] in ("image/jpeg", "image/png")
        with Image.open(io.BytesIO(body)) as decoded:
            assert decoded.size == (40, 30)
        assert SCRIPT not in body  # only the pixels were kept
    stored = sorted(path.relative_to(media).as_posix() for path in media.rglob("*") if path.is_file())
    assert len(stored) == len(FILES) + 2 and all(name.startswith("imported/") for name in stored)


def test_a_missing_asset_is_a_warning_the_caption_shows_without_a_broken_image_and_the_link_check_lists_it(
    imported, client
):
    page, err = imported
    revision = Revision.objects.get(source_file="a_articaine.txt")
    warning = f"figure 5, image 1: {MISSING}: not found in the assets directory"
    assert any(message.startswith(warning) for message in revision.source_meta[WARNINGS_KEY])
    assert f"warning: {ARTICAINE}: {warning}" in err
    figure, _caption = caption_of(page, "Swelling of the cheek")
    assert figure.find("img") is None
    assert MISSING not in str(page)
    assert MISSING in revision.body  # kept for the editor, who may bring the file in later
    for image in page.find_all("img"):
        assert fetch(client, image["src"])[0].status_code == 200
    # The caption's link to a page not imported, and the missing photo: every other file was found.
    assert broken_links(revision) == ["/treatment/other/medication/local-anaesthetics", MISSING]
    client.force_login(make_user("root", is_superuser=True))
    admin_page = client.get(f"/admin/monographs/revision/{revision.pk}/change/")
    listed = BeautifulSoup(admin_page.content, "html.parser").select_one("#broken-links").find_next_sibling("ul")
    assert MISSING in listed.get_text()


def test_without_assets_every_file_is_a_warning_and_no_image_is_shown(media, client):
    _out, err = run_import(CORPUS)
    assert err.count("not imported (no --assets directory given)") == 9
    page = public_page(client)
    assert page.find("img") is None and page.find("video") is None
    assert len(page.find_all("figcaption")) == 5  # every caption is still there


def test_a_re_import_with_the_missing_file_found_publishes_the_figure(media, site, client):
    run_import(CORPUS, "--assets", site)
    (site / MISSING.lstrip("/")).write_bytes(image_bytes("JPEG"))
    out, _err = run_import(CORPUS, "--assets", site)
    assert "1 updated" in out
    figure, _caption = caption_of(public_page(client), "Swelling of the cheek")
    assert figure.find("img")["src"].endswith("/lost-photo.jpg")
    out, _err = run_import(CORPUS, "--assets", site)
    assert "1 unchanged" in out  # the same files are stored under the same names: the same body


def test_an_editor_writes_a_figure_in_markdown(media):
    (media / "jaw.png").write_bytes(image_bytes())
    html = render_markdown(
        '<figure markdown="1">\n![Lower jaw](/media/jaw.png)\n\n'
        '<figcaption markdown="span">**Figure 1** The *mandible*, CO<sub>2</sub> laser; '
        "[CC BY 4.0](https://creativecommons.org/licenses/by/4.0/)</figcaption>\n</figure>\n"
    )
    figure = BeautifulSoup(html, "html.parser").find("figure")
    assert figure.find("img", alt="Lower jaw", src="/media/jaw.png").parent is figure  # no paragraph around it
    caption = str(figure.find("figcaption"))
    assert "<strong>Figure 1</strong>" in caption and "<em>mandible</em>" in caption and "<sub>2</sub>" in caption
    assert 'href="https://creativecommons.org/licenses/by/4.0/"' in caption


HOSTILE = [
    '<video controls autoplay onerror="alert(1)" poster="javascript:alert(1)">'
    '<source src="/media/clip.mp4" type="video/mp4" onerror="alert(2)"></video>',
    '<video controls poster="data:image/svg+xml,<svg onload=alert(3)>"><source src="javascript:alert(4)">'
    '<source src="/media/clip.mp4" srcset="javascript:alert(5)"></video>',
    '<iframe srcdoc="<script>alert(6)</script>"></iframe><video srcdoc="x" src="/media/clip.mp4" controls>'
    '<source src="/media/clip.mp4"><track src="/media/t.vtt" kind="captions"></video>',
    '<figure onclick="alert(7)"><img src="/media/still.png" onerror="alert(8)" alt="x">'
    '<figcaption style="position:fixed">c</figcaption></figure>',
    '<video controls preload="javascript:alert(9)" muted loop><source src="/media/clip.mp4"></video>',
]


@pytest.mark.parametrize("html", HOSTILE)
def test_hostile_attributes_of_figures_and_videos_are_stripped(media, html):
    (media / "clip.mp4").write_bytes(MP4)
    (media / "still.png").write_bytes(image_bytes())
    rendered = render_markdown(html)
    for banned in ("alert", "autoplay", "onerror", "onclick", "srcdoc", "srcset", "javascript", "data:", "<track",
                   "<iframe", "style=", "muted", "loop"):  # fmt: skip
        assert banned not in rendered, (banned, rendered)
    soup = BeautifulSoup(rendered, "html.parser")
    kept = soup.find("video") or soup.find("img")
    assert kept is not None  # what may stay, stays
    for video in soup.find_all("video"):
        assert [source["src"] for source in video.find_all("source")] == ["/media/clip.mp4"]


def test_a_video_or_image_this_site_does_not_serve_is_left_out(media):
    (media / "note.txt").write_bytes(b"text")
    (media / "folder.png").mkdir()
    html = render_markdown(
        "![a](/images/a.png) ![b](relative/b.png) ![c](/media/gone.png) ![d](/media/note.txt) "
        "![e](/media/folder.png) ![f](/media/../secret.png)\n\n"
        '<video controls poster="/images/p.jpg"><source src="/videos/v.mp4" type="video/mp4"></video>\n\n'
        '<video controls poster="/media/gone.jpg"><source src="https://video.example.org/v.mp4"></video>\n'
    )
    soup = BeautifulSoup(html, "html.parser")
    assert soup.find("img") is None and "<p></p>" not in html
    (video,) = soup.find_all("video")  # the one with nothing this site could serve is gone
    assert not video.has_attr("poster") and video.source["src"] == "https://video.example.org/v.mp4"


@pytest.fixture
def hostile_site(site, tmp_path):
    (tmp_path / "secret.jpg").write_bytes(image_bytes("JPEG"))
    os.symlink(tmp_path / "secret.jpg", site / "images" / "linked.jpg")
    os.symlink(tmp_path, site / "images" / "linked-folder")
    (site / "images" / "huge.png").write_bytes(image_bytes())
    (site / "images" / "not-an-image.png").write_bytes(b"GIF89a" + SCRIPT)
    (site / "videos" / "fake.mp4").write_bytes(SCRIPT)
    return site


def test_assets_outside_the_directory_links_and_oversize_files_are_refused(
    media, hostile_site, write_source, monkeypatch
):
    monkeypatch.setitem(assets_module.MAX_BYTES, "image", 1000)
    (hostile_site / "images" / "huge.png").write_bytes(image_bytes(size=(400, 400)) + bytes(2000))
    references = {
        "/../secret.jpg": "refused: the path climbs out of the assets directory",
        "/images/../../secret.jpg": "refused: the path climbs out of the assets directory",
        "/images/%2e%2e/%2e%2e/secret.jpg": "refused: the path climbs out of the assets directory",
        "/images/linked.jpg": "refused: a symbolic link in the assets directory is not followed",
        "/images/linked-folder/secret.jpg": "refused: a symbolic link in the assets directory is not followed",
        "/images/huge.png": "refused: ",  # "…: refused: 3,214 bytes; the limit for an image is 1,000 bytes"
        "/images/not-an-image.png": "refused: The file is not an image drugref accepts",
    }
    body = "".join(f'<figure><img src="{src}" alt="x"><figcaption>Figure {n}</figcaption></figure>'
                   for n, src in enumerate(references, start=1))  # fmt: skip
    body += '<figure><video><source src="/videos/fake.mp4"></video><figcaption>A film</figcaption></figure>'
    path = write_source(
        "a_hostile.txt", f"---\ntitle: Mepivacaine\nuri: treatment/other/medication/mepivacaine\n---\n{body}\n"
    )
    _out, err = run_import(path, "--assets", hostile_site)
    revision = Revision.objects.get(source_file="a_hostile.txt")
    warnings = revision.source_meta[WARNINGS_KEY]
    for number, (src, reason) in enumerate(references.items(), start=1):
        shown = src.replace("%2e", ".")
        assert any(w.startswith(f"figure {number}, image 1: {shown}: {reason}") for w in warnings), (src, warnings)
    assert any(w.startswith("figure 6, image 1: /images/huge.png: refused: ") and "limit for an image is 1,000" in w
               for w in warnings)  # fmt: skip
    assert any("/videos/fake.mp4: refused: the file does not start like a .mp4 video" in w for w in warnings)
    assert [path for path in media.rglob("*") if path.is_file()] == []  # nothing of them was stored
    assert "warning:" in err


def test_the_assets_option_names_a_directory(media, tmp_path):
    with pytest.raises(CommandError, match=r"--assets .*nowhere: not a directory"):
        run_import(CORPUS, "--assets", tmp_path / "nowhere")


def test_format_b_images_come_in_through_assets_too(media, site, write_source, client):
    (site / "images" / "ref").mkdir()
    (site / "images" / "ref" / "tablet.png").write_bytes(image_bytes())
    path = write_source(
        "b_lidocaine.txt",
        "---\ntitle: Lidocaine\ndescription: A local anaesthetic.\n---\n## Uses\n\nNumbs the gum.\n\n"
        '![A round white tablet](/images/ref/tablet.png "Figure 1 A tablet")\n\n![Gone](/images/ref/gone.png)\n'
        "![Elsewhere](//images.example.org/pack.png) ![Inline](data:image/png;base64,iVBORw0KGgo=)\n",
    )
    _out, err = run_import(path, "--assets", site)
    revision = Revision.objects.get(source_file="b_lidocaine.txt")
    assert "](/media/imported/" in revision.body and "/images/ref/tablet.png" not in revision.body
    assert f"warning: {path}: image 2: /images/ref/gone.png: not found in the assets directory" in err
    assert "![Elsewhere](https://images.example.org/pack.png)" in revision.body  # another site's, kept
    assert f"warning: {path}: image 4: 'data:image/png;base64,iVBORw0KGgo=' is not the address of a file" in err
    page = BeautifulSoup(client.get(revision.monograph.get_absolute_url()).content, "html.parser").find("main")
    image, elsewhere = page.find_all("img")
    assert elsewhere["src"] == "https://images.example.org/pack.png"
    assert image["alt"] == "A round white tablet" and image.find_parent("figure").figcaption.text == "Figure 1 A tablet"
    assert fetch(client, image["src"])[0].status_code == 200


def test_an_image_that_is_there_stays_whatever_its_alt_text_holds(media):
    (media / "jaw.png").write_bytes(image_bytes())
    html = render_markdown('Before ![a > b, "quoted" <img src=x>](/media/jaw.png) and ![gone](/media/gone.png) after')
    (image,) = BeautifulSoup(html, "html.parser").find_all("img")
    assert (image["src"], image["alt"]) == ("/media/jaw.png", 'a > b, "quoted" <img src=x>')
    assert BeautifulSoup(html, "html.parser").get_text() == "Before  and  after"


def test_images_in_tables_come_in_too(media, site, write_source, client):
    (site / "images" / "species").mkdir()
    for name in ("candida.png", "aspergillus.png"):
        (site / "images" / "species" / name).write_bytes(image_bytes())
    comparison = (
        "<table><tr><th></th><th>Nystatin</th><th>Fluconazole</th></tr>"
        '<tr><td>Looks like</td><td><img src="/images/species/candida.png" alt="Candida colonies"></td>'
        "<td>white patches</td></tr></table>"
    )
    spanning = (
        '<table><tr><th colspan="2">Species</th></tr>'
        '<tr><td>Aspergillus</td><td><img src="/images/species/aspergillus.png"></td></tr>'
        '<tr><td>Mucor</td><td><img src="/images/species/mucor.png" alt="Mucor"></td></tr></table>'
    )
    path = write_source(
        "a_nystatin.txt",
        f"---\ntitle: Nystatin\nuri: treatment/other/medication/nystatin\n---\n<p>Antifungal.</p>{comparison}"
        f"<p>Moulds:</p>{spanning}\n",
    )
    _out, err = run_import(path, "--assets", site)
    assert f"{path}: table 2, image 2: /images/species/mucor.png: not found in the assets directory" in err
    page = BeautifulSoup(client.get(Drug.objects.get(slug="nystatin").get_absolute_url()).content, "html.parser")
    images = page.find("main").find_all("img")
    assert [(image.find_parent("table") is not None, image["alt"]) for image in images] == [
        (True, "Candida colonies"),
        (True, "Aspergillus"),
    ]
    for image in images:
        assert fetch(client, image["src"])[0].status_code == 200


def test_a_re_import_with_a_tables_missing_file_found_publishes_the_table_with_it(media, site, write_source, client):
    """A file in a comparison's cell changes the cell, not the body (which holds only the table's marker): the
    re-import that finds it must not call the document unchanged."""
    (site / "images" / "species").mkdir()
    path = write_source(
        "a_nystatin.txt",
        "---\ntitle: Nystatin\nuri: treatment/other/medication/nystatin\n---\n<p>Antifungal.</p>"
        "<table><tr><th></th><th>Nystatin</th><th>Fluconazole</th></tr>"
        '<tr><td>Looks like</td><td><img src="/images/species/candida.png" alt="Candida colonies"></td>'
        "<td>white patches</td></tr></table>\n",
    )
    run_import(path, "--assets", site)
    (site / "images" / "species" / "candida.png").write_bytes(image_bytes())
    out, _err = run_import(path, "--assets", site)
    assert "1 updated" in out
    table = Comparison.objects.get(revision__status=Revision.Status.PUBLISHED)
    image = BeautifulSoup(client.get(table.get_absolute_url()).content, "html.parser").find("main").find("img")
    assert image is not None and fetch(client, image["src"])[0].status_code == 200
    out, _err = run_import(path, "--assets", site)
    assert "1 unchanged" in out


def test_a_dry_run_checks_the_assets_and_stores_none(media, site):
    out, err = run_import(CORPUS, "--assets", site, "--dry-run")
    assert "1 created" in out
    assert not Drug.objects.filter(slug="articaine").exists()
    assert [path for path in media.rglob("*") if path.is_file()] == []


def test_a_video_embedded_from_another_site_is_a_link_and_a_warning_not_lost(media, write_source, client):
    # The patient site embeds YouTube and Vimeo players as <iframe>s, which this site does not show (neither the
    # allow-list nor the Content-Security-Policy let a frame in): they become links to the player, with a warning.
    source = write_source(
        "a_articaine.txt",
        "---\ntitle: Articaine\n---\n<p>How the injection is given:</p>\n"
        '<iframe width="560" height="315" src="https://www.youtube.com/embed/abcdEFGhij0" '
        'title="Giving a nerve block" allowfullscreen></iframe>\n'
        '<figure><iframe src="//player.vimeo.com/video/123"></iframe><figcaption>Video 2 The numb feeling'
        "</figcaption></figure>\n"
        '<iframe src="javascript:alert(1)"></iframe><p>After the video.</p>\n',
    )
    _out, err = run_import(source)
    body = public_page(client).select_one("div.body")
    youtube = body.find("a", href="https://www.youtube.com/embed/abcdEFGhij0")
    assert youtube is not None and youtube.get_text() == "Giving a nerve block"
    assert youtube.find_parent("p").find_previous_sibling("p").get_text() == "How the injection is given:"
    vimeo = body.find("a", href="https://player.vimeo.com/video/123")
    assert vimeo is not None and vimeo.get_text() == "https://player.vimeo.com/video/123"
    assert vimeo.find_parent("p").find_next_sibling("p").get_text() == "Video 2 The numb feeling"  # its caption
    assert "javascript" not in str(body) and body.find("iframe") is None
    assert (
        "iframe 1: an embedded player (https://www.youtube.com/embed/abcdEFGhij0) is not shown here; kept as a link"
        in err
    )
    assert "iframe 3: 'javascript:alert(1)' is not another site's player; left out" in err


def test_a_player_embedded_in_a_table_is_a_link_and_a_warning_too(media, write_source, client):
    """A kept table's HTML goes through the sanitiser, which keeps no frame: the player vanished from its
    cell without a word.  In a kept table and in a comparison's cell it is a link, as in the body."""
    tables = [
        '<table><tr><th colspan="2">Videos</th></tr><tr><td>How to inject</td>'
        '<td><iframe src="https://www.youtube.com/embed/abc" title="Injection video"></iframe></td></tr></table>',
        "<table><tr><th></th><th>Articaine</th></tr><tr><td>Video</td>"
        '<td><iframe src="//player.vimeo.com/video/1"></iframe></td></tr>'
        '<tr><td>Other</td><td><iframe src="javascript:alert(1)"></iframe></td></tr></table>',
    ]
    source = write_source("a_articaine.txt", "\n".join(["---\ntitle: Articaine\n---\n<p>Videos.</p>", *tables, ""]))
    _out, err = run_import(source)
    kept = public_page(client).select_one("div.body table")
    link = kept.find("a", href="https://www.youtube.com/embed/abc")
    assert link is not None and link.get_text() == "Injection video"
    assert "table 1, iframe 1: an embedded player (https://www.youtube.com/embed/abc) is not shown here" in err
    comparison = Comparison.objects.get()
    assert comparison.subjects.get().cells.get(attribute__label="Video").text == (
        "[https://player.vimeo.com/video/1](https://player.vimeo.com/video/1)"
    )
    assert comparison.subjects.get().cells.get(attribute__label="Other").text == ""
    assert "table 2, iframe 2: 'javascript:alert(1)' is not another site's player; left out" in err
