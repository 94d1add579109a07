"""Protections outside the workflow: image uploads, production settings (log-in throttling: test_login_throttle.py)."""

import io
import os
import subprocess
import sys

import pytest
from PIL import Image

from .conftest import ROOT, make_user

pytestmark = pytest.mark.django_db


def image_bytes(fmt="PNG") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (20, 10), "red").save(buffer, fmt)
    return buffer.getvalue()


def upload(client, name, content, content_type):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return client.post(
        "/markdownx/upload/",
        {"image": SimpleUploadedFile(name, content, content_type=content_type)},
        headers={"x-requested-with": "XMLHttpRequest"},
    )


def test_editors_upload_real_images_under_random_names(client, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    client.force_login(make_user("alice", "Authors"))
    response = upload(client, "../../evil name.png", image_bytes(), "image/png")
    assert response.status_code == 200
    code = response.json()["image_code"]
    assert "evil" not in code and ".." not in code
    assert len(list(tmp_path.rglob("*.png"))) == 1


@pytest.mark.parametrize(
    ("name", "content", "content_type"),
    [
        ("x.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "image/svg+xml"),
        ("x.png", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "image/png"),
        ("x.png", b"<html><script>alert(1)</script></html>", "image/png"),
        ("x.jpg", b"\xff\xd8\xff\xe0 not really a jpeg", "image/jpeg"),
    ],
)
def test_uploads_that_are_not_raster_images_are_refused(client, settings, tmp_path, name, content, content_type):
    settings.MEDIA_ROOT = tmp_path
    client.force_login(make_user("alice", "Authors"))
    assert upload(client, name, content, content_type).status_code == 400
    assert list(tmp_path.rglob("*.*")) == []


def test_oversized_uploads_are_refused(client, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.MARKDOWNX_UPLOAD_MAX_SIZE = 10
    client.force_login(make_user("alice", "Authors"))
    assert upload(client, "x.png", image_bytes(), "image/png").status_code == 400


@pytest.mark.parametrize("who", [None, "oscar", "bob"])
def test_only_editors_may_upload(client, settings, tmp_path, who):
    settings.MEDIA_ROOT = tmp_path
    if who == "oscar":
        client.force_login(make_user("oscar"))
    elif who == "bob":
        client.force_login(make_user("bob", "Proof-readers"))
    assert upload(client, "x.png", image_bytes(), "image/png").status_code == 403
    assert list(tmp_path.rglob("*.*")) == []


def test_production_settings_pass_check_deploy():
    env = {
        **{k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"},
        "DEBUG": "false",
        "SECRET_KEY": "x" * 20 + "production-like-secret-key-with-enough-entropy-0123456789",
        "ALLOWED_HOSTS": "drugref.example",
        "HTTPS": "true",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_security_headers_are_sent(client, seeded):
    response = client.get("/drugs/denosumab/")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "object-src 'none'" in policy and "unsafe-eval" not in policy
    assert "'unsafe-inline'" not in policy.split("script-src")[1].split(";")[0]
