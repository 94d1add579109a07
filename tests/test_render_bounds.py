"""Nothing anonymous is expensive: Markdown shaped to be slow, the live preview and the 404 page.

Timings are ratios against rendering a normal monograph of the same size in the same run, so a slow or busy
machine moves both sides.
"""

import io
import time

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from monographs.bounds import BODY_LIMIT, FIELD_LIMIT, markdown_problem
from monographs.importers.sources import SourceError, parse_document
from monographs.models import Monograph
from monographs.rendering import render_markdown
from monographs.views import NOT_FOUND_WORDS

from .conftest import SEED_B, admin_form_data, make_user
from .slow_markdown import REFUSED, normal_monograph, slow_inputs

MAX_RATIO = 20
SLOW = slow_inputs()


def seconds(text: str) -> float:
    began = time.perf_counter()
    render_markdown(text)
    return time.perf_counter() - began


@pytest.fixture(scope="module")
def normal_seconds():
    text = normal_monograph()
    assert markdown_problem(text, BODY_LIMIT) is None, "the normal monograph must itself be accepted"
    render_markdown(text[:2000])  # warm the converter
    return min(seconds(text) for _ in range(3))


@pytest.mark.parametrize("name", list(SLOW))
def test_slow_shapes_at_the_size_limit_render_as_fast_as_normal_text_or_are_refused(name, normal_seconds):
    text = SLOW[name]
    assert len(text) > BODY_LIMIT * 0.99
    problem = markdown_problem(text, BODY_LIMIT)
    if problem:
        assert "the limit is" in problem
        return
    ratio = seconds(text) / normal_seconds
    assert ratio <= MAX_RATIO, f"{name}: {ratio:.1f}× a normal monograph of the same size"


def test_most_slow_shapes_are_rendered_not_refused():
    """The limits refuse shapes no monograph has, not whole families of the corpus."""
    refused = [name for name, text in SLOW.items() if markdown_problem(text, BODY_LIMIT)]
    assert len(refused) <= 3, refused


@pytest.mark.parametrize("name", list(REFUSED))
def test_shapes_that_cannot_be_made_cheap_are_refused_with_the_limit(name):
    text, reason = REFUSED[name]
    problem = markdown_problem(text, BODY_LIMIT)
    assert problem and reason in problem and "the limit is" in problem


# Nested list levels that run Python-Markdown out of stack: ~250 do at the top of a script (the limit of
# 1,000 frames; a test starts deeper), so 300 always do.  Rendering costs grow faster than the square of
# the depth (300 levels ~1.5 s of CPU, 600 ~10 s), so the tests use no more than it takes (and are not slow).
TOO_DEEP = 300


def test_nesting_deeper_than_the_stack_never_answers_an_error():
    """Stored before the limits existed: the page shows the text rather than a 500 (RecursionError)."""
    text = "".join("    " * level + "* x\n" for level in range(TOO_DEEP))
    html = render_markdown(text)
    assert html.count("x") >= TOO_DEEP
    assert html.startswith("<pre>"), "the stack did not run out: deepen TOO_DEEP, or this tests nothing"


def test_real_monographs_fit_the_limits_many_times_over():
    body = parse_document(SEED_B).body.strip()
    assert markdown_problem("\n\n".join([body] * 10), BODY_LIMIT) is None


# ------------------------------------------------------------------------------------------------
# Preview


PREVIEW = "/markdownx/markdownify/"


@pytest.mark.django_db
def test_anonymous_preview_is_refused(client):
    client.get("/admin/login/")  # a CSRF token is all an anonymous visitor has
    assert client.post(PREVIEW, {"content": "[" * 8000}).status_code == 403


@pytest.mark.django_db
def test_staff_who_may_not_edit_revisions_are_refused_the_preview(client):
    client.force_login(make_user("outsider"))
    assert client.post(PREVIEW, {"content": "*x*"}).status_code == 403


@pytest.mark.django_db
def test_an_author_previews(client):
    client.force_login(make_user("alice", "Authors"))
    response = client.post(PREVIEW, {"content": "*x*"})
    assert response.status_code == 200 and response.content.decode() == render_markdown("*x*")


@pytest.mark.django_db
def test_a_preview_beyond_the_limits_says_why_instead_of_rendering(client):
    client.force_login(make_user("alice", "Authors"))
    response = client.post(PREVIEW, {"content": ">" * 20_000})
    assert response.status_code == 200
    assert "Not previewed" in response.content.decode() and "the limit is" in response.content.decode()


# ------------------------------------------------------------------------------------------------
# Saving in the admin


def _change_url(revision):
    return reverse("admin:monographs_revision_change", args=[revision.pk])


def _refused(response, words: str):
    assert response.status_code == 200, "the form should have been shown again"
    text = response.content.decode()
    assert words in text and "the limit is" in text


def test_the_body_is_refused_beyond_its_limit_naming_the_field(client, draft, alice):
    client.force_login(alice)
    data = admin_form_data(client, _change_url(draft))
    data["body"] = "x" * (BODY_LIMIT + 2)
    _refused(client.post(_change_url(draft), data), "The body is 100,002 characters long")


def test_a_body_shaped_to_be_slow_is_refused_naming_the_field(client, draft, alice):
    client.force_login(alice)
    data = admin_form_data(client, _change_url(draft))
    data["body"] = "# x\n\n" * 600
    _refused(client.post(_change_url(draft), data), "The body has 600 headings")


def test_summary_and_faq_answers_have_their_limit(client, draft, alice):
    client.force_login(alice)
    data = admin_form_data(client, _change_url(draft))
    data["summary"] = "x" * (FIELD_LIMIT + 1)
    answer = next(key for key in data if key.endswith("-answer"))
    data[answer] = "[" * (FIELD_LIMIT + 1)
    response = client.post(_change_url(draft), data)
    _refused(response, "The summary is 10,001 characters long")
    _refused(response, "The answer is 10,001 characters long")


def test_comparison_cells_and_footnotes_have_their_limit(client, seeded, alice):
    client.force_login(alice)
    monograph = Monograph.objects.filter(revisions__comparisons__isnull=False).distinct().first()
    draft = monograph.start_draft(alice)
    data = admin_form_data(client, _change_url(draft))
    grid = next(key for key in data if key.endswith("-grid"))
    lines = data[grid].splitlines()
    cells = lines[1].strip().strip("|").split("|")
    cells[-1] = "*" * (FIELD_LIMIT + 1)
    data[grid] = "\n".join([lines[0], "|" + "|".join(cells) + "|", *lines[2:]])
    data[grid.replace("-grid", "-footnotes")] = "x\n" * 600
    response = client.post(_change_url(draft), data)
    _refused(response, f"is {FIELD_LIMIT + 1:,} characters long")
    _refused(response, "The footnote text has 600 lines")


# ------------------------------------------------------------------------------------------------
# Importing


def test_an_imported_document_beyond_the_limits_is_that_files_clear_error(tmp_path, db):
    bad = tmp_path / "deep.txt"
    bad.write_text("---\ntitle: Deep\ndescription: x\n---\n" + "> " * 40 + "x\n")
    with pytest.raises(SourceError) as refused:
        parse_document(bad)
    assert refused.value.path == str(bad)
    # The importer's own depth check (monographs/importers/sources.py) uses the renderer's limit.
    assert "nested more than 16 deep" in refused.value.reason


def test_skip_invalid_imports_the_rest(sources_dir, db):
    (sources_dir / "slow.txt").write_text("---\ntitle: Slow\ndescription: x\n---\n" + "# x\n\n" * 600)
    out = io.StringIO()
    call_command("import_sources", str(sources_dir), "--skip-invalid", stdout=out, stderr=out)
    assert Monograph.objects.count() == 2
    assert "slow.txt" in out.getvalue() and "has 600 headings; the limit is 500" in out.getvalue()


# ------------------------------------------------------------------------------------------------
# The 404 page


def _queries(client, path: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(path).status_code == 404
    return len(queries)


def test_a_404_with_a_200_word_address_runs_as_many_searches_as_a_short_one(client, seeded):
    words = [f"zq{chr(97 + i % 26)}{chr(97 + i // 26 % 26)}word" for i in range(200)]
    long = _queries(client, "/drugs/" + "-".join(words) + "/")
    short = _queries(client, "/drugs/" + "-".join(words[:NOT_FOUND_WORDS]) + "/")
    assert long == short
    assert long <= 8 * (NOT_FOUND_WORDS + 1)


def test_a_render_that_ran_out_of_stack_leaves_the_next_one_whole():
    """A RecursionError stops Python-Markdown half-way, its inline processor still "inside" a link; the
    thread's reused converter must not carry that into the next text (links were left as raw Markdown)."""
    from monographs import rendering

    render_markdown("warm up this thread's converter")
    used = rendering._per_thread.markdown
    assert render_markdown("".join("    " * level + "* [x](/a)\n" for level in range(TOO_DEEP))).startswith("<pre>")
    # Where the stack runs out depends on how deep the caller already is, so whether the reused converter
    # would be left broken varies; that it is never reused does not.
    assert rendering._per_thread.markdown is not used
    assert render_markdown("[inhibition](/drugs/x/) and *enzyme*") == (
        '<p><a href="/drugs/x/" rel="noopener noreferrer">inhibition</a> and <em>enzyme</em></p>'
    )
