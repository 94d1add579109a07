"""An S3 endpoint for tests: moto's server mode on a loopback port of its own, which boto3 reaches over HTTP
as it would reach any S3-compatible store.  Each test gets a bucket of its own.

A test module takes the fixtures by importing the `*_fixture` functions (each registers under its short name).
"""

import importlib
import uuid
from dataclasses import dataclass

import boto3
import pytest
from moto.server import ThreadedMotoServer

# moto accepts any credentials; boto3 refuses to sign without some.
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}
STORAGE_VARIABLES = ("AWS_STORAGE_BUCKET_NAME", "AWS_S3_ENDPOINT_URL", "AWS_S3_REGION_NAME")


def drugref_settings(**env: str) -> dict:
    """drugref/settings.py's values as it reads them with `env` (and none of the storage variables besides):
    the module is reloaded in that environment, then reloaded again in the test's own."""
    import drugref.settings as module

    try:
        with pytest.MonkeyPatch.context() as patch:
            for name in STORAGE_VARIABLES:
                patch.delenv(name, raising=False)
            for name, value in env.items():
                patch.setenv(name, value)
            importlib.reload(module)
            return {name: getattr(module, name) for name in dir(module) if name.isupper()}
    finally:
        importlib.reload(module)


@dataclass
class Bucket:
    name: str
    endpoint: str
    client: object

    def keys(self) -> list[str]:
        return [item["Key"] for item in self.client.list_objects_v2(Bucket=self.name).get("Contents", [])]

    def get(self, key: str) -> dict:
        return self.client.get_object(Bucket=self.name, Key=key)

    def put(self, key: str, body: bytes, content_type: str = "application/octet-stream") -> None:
        self.client.put_object(Bucket=self.name, Key=key, Body=body, ContentType=content_type)


@pytest.fixture(scope="session", name="s3_endpoint")
def s3_endpoint_fixture():
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def new_bucket(endpoint: str) -> Bucket:
    """An empty bucket on the moto server."""
    name = f"drugref-media-{uuid.uuid4().hex[:12]}"
    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name=CREDENTIALS["AWS_DEFAULT_REGION"],
        aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    )
    client.create_bucket(Bucket=name)
    return Bucket(name, endpoint, client)


@pytest.fixture(name="bucket")
def bucket_fixture(s3_endpoint, monkeypatch) -> Bucket:
    """An empty bucket, with the credentials in the environment, where boto3 reads them."""
    for name, value in CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    return new_bucket(s3_endpoint)


@pytest.fixture(name="bucket_storage")
def bucket_storage_fixture(bucket, settings) -> Bucket:
    """The media storage as drugref/settings.py configures it for this bucket."""
    configured = drugref_settings(AWS_STORAGE_BUCKET_NAME=bucket.name, AWS_S3_ENDPOINT_URL=bucket.endpoint)
    settings.STORAGES = {**settings.STORAGES, "default": configured["STORAGES"]["default"]}  # resets default_storage
    return bucket
