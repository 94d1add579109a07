"""Uploaded images in an S3-compatible bucket (django-storages), against moto's server mode over HTTP.

The bucket is what lets several app servers share uploads; it must change nothing an editor or a reader
sees: the upload is re-encoded the same way, its address is drugref's own /media/, and /media/ serves the
bucket's objects by the same rules and with the same headers as files on disk.
"""

import io

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.files.storage import default_storage
from PIL import Image

from .conftest import make_user
from .s3 import bucket_fixture, bucket_storage_fixture, drugref_settings, s3_endpoint_fixture  # noqa: F401
from .test_uploads import HTML, SCRIPT, fetch, gif, png, stored_url, upload, urls_built_with

pytestmark = pytest.mark.django_db


@pytest.fixture
def author(client):
    client.force_login(make_user("alice", "Authors"))
    return client


def test_the_bucket_is_the_media_storage_only_when_it_is_named():
    assert drugref_settings()["STORAGES"]["default"] == {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    configured = drugref_settings(AWS_STORAGE_BUCKET_NAME="drugref-media", AWS_S3_ENDPOINT_URL="http://127.0.0.1:9000")[
        "STORAGES"
    ]["default"]
    assert configured["BACKEND"] == "monographs.storage.MediaBucketStorage"
    assert configured["OPTIONS"]["bucket_name"] == "drugref-media"
    assert configured["OPTIONS"]["endpoint_url"] == "http://127.0.0.1:9000"
    assert configured["OPTIONS"]["default_acl"] is None  # objects stay as private as the bucket


def test_an_endpoint_without_a_bucket_is_refused_by_name():
    """Each server would quietly keep its own uploads on its own disk."""
    with pytest.raises(ImproperlyConfigured, match="AWS_S3_ENDPOINT_URL is set but AWS_STORAGE_BUCKET_NAME is not"):
        drugref_settings(AWS_S3_ENDPOINT_URL="http://127.0.0.1:9000")


def test_an_upload_through_the_admin_lands_in_the_bucket_and_is_served(author, bucket_storage, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path  # the local disk, which must stay empty

    url = stored_url(upload(author, "fig.html", png() + HTML, "text/html"))

    key = url.removeprefix("/media/")
    assert bucket_storage.keys() == [key]
    stored = bucket_storage.get(key)
    data = stored["Body"].read()
    assert stored["ContentType"] == "image/png"  # from the decoded format, not the name or the claimed type
    assert HTML not in data
    with Image.open(io.BytesIO(data)) as image:
        assert (image.format, image.size) == ("PNG", (30, 20))
    assert list(tmp_path.iterdir()) == []
    for debug in (True, False):
        response, body = fetch(author, url, debug)
        assert response.status_code == 200
        assert response["Content-Type"] == "image/png"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Content-Security-Policy"] == "sandbox"
        assert body == data


def test_image_addresses_stay_on_drugref(bucket_storage):
    """Stored Markdown keeps /media/… whatever the storage: no signed, expiring bucket URL in a revision."""
    assert default_storage.url("markdownx/a b.png") == "/media/markdownx/a%20b.png"


@pytest.mark.parametrize("debug", [True, False])
def test_the_bucket_is_served_by_the_same_rules_as_the_disk(client, bucket_storage, debug):
    """An object nobody uploaded through drugref is not served as what its name says, nor as its stored type."""
    for name in ("evil.html", "evil.js", "evil.svg", "evil.gif.html", "evil.txt", "evil.PNG"):
        bucket_storage.put(f"markdownx/{name}", HTML, "text/html")

    for name in ("evil.html", "evil.js", "evil.svg", "evil.gif.html", "evil.txt", "missing.png"):
        assert fetch(client, f"/media/markdownx/{name}", debug)[0].status_code == 404, name
    response, body = fetch(client, "/media/markdownx/evil.PNG", debug)
    assert (response.status_code, body) == (200, HTML)
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "sandbox"
    # A bucket has nothing above its root: a name climbing out of it is read inside it, where nothing is.
    bucket_storage.put("../outside/secret.png", png(), "image/png")
    assert fetch(client, "/media/markdownx/../../outside/secret.png", debug)[0].status_code == 404


def test_bucket_images_answer_conditional_gets_and_head_with_the_media_headers(client, bucket_storage):
    bucket_storage.put("x.gif", gif() + SCRIPT)  # a stray object: served only as the image type
    with urls_built_with(debug=False):
        first = client.get("/media/x.gif")
        again = client.get("/media/x.gif", headers={"if-modified-since": first["Last-Modified"]})
        head = client.head("/media/x.gif")
        post = client.post("/media/x.gif")
    assert (first.status_code, first["Content-Type"]) == (200, "image/gif")
    assert again.status_code == 304
    assert (again["X-Content-Type-Options"], again["Content-Security-Policy"]) == ("nosniff", "sandbox")
    assert (head.status_code, head["Content-Type"], head["Content-Security-Policy"]) == (200, "image/gif", "sandbox")
    assert post.status_code == 405
