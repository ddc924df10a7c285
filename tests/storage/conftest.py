"""Storage backends for the storage tests: moto's S3 server over HTTP, and the filesystem.

The S3 server is a separate process started once per session (``s3_server.py``: moto, with S3's checks of presigned
URLs in front of it). Each test that asks for ``storage_backend`` runs once per backend: the fixture points
``STORAGES["default"]`` at S3 (django-storages, shaped like production's settings) or at a temporary directory.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest
from botocore.config import Config
from django.utils.functional import empty

from tests.browser.conftest import browser, live_site  # noqa: F401 - the browser suite's fixtures, for our walk

S3_ACCESS_KEY = "huoban-test-key"
S3_SECRET_KEY = "huoban-test-secret"
S3_REGION = "us-east-1"
S3_BUCKET = "huoban-files-test"
SERVER = Path(__file__).with_name("s3_server.py")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for_port(port: int, process: subprocess.Popen[bytes], seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the S3 test server exited with {process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("the S3 test server did not start")


def s3_client(endpoint: str):  # type: ignore[no-untyped-def]
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=S3_ACCESS_KEY,
        aws_secret_access_key=S3_SECRET_KEY,
        region_name=S3_REGION,
        config=Config(signature_version="s3v4"),
    )


@pytest.fixture(scope="session")
def s3_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """moto's S3 server on a free local port, with the test bucket; stopped at the end of the session."""
    port = _free_port()
    log = tmp_path_factory.mktemp("s3") / "server.log"
    env = {**os.environ, "TEST_S3_ACCESS_KEY": S3_ACCESS_KEY, "TEST_S3_SECRET_KEY": S3_SECRET_KEY}
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, str(SERVER), "--port", str(port)], env=env, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        _wait_for_port(port, process)
        endpoint = f"http://127.0.0.1:{port}"
        s3_client(endpoint).create_bucket(Bucket=S3_BUCKET)
        yield endpoint
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def storages_reset() -> None:
    """Forget every storage Django built, so the next use reads ``settings.STORAGES`` again.

    Django 5.2 caches at three levels: ``storages.backends`` (a cached_property copying settings.STORAGES, backed by
    ``storages._backends``), ``storages._storages`` (alias -> instance), and ``default_storage._wrapped`` (the lazy
    object's instance). The ``setting_changed`` receiver does the same when a test overrides STORAGES; doing it here
    as well keeps the fixture correct whichever way settings were changed.
    """
    from django.core.files.storage import default_storage, storages

    storages.__dict__.pop("backends", None)
    storages._backends = None
    storages._storages = {}
    default_storage._wrapped = empty


@dataclass
class Backend:
    kind: str  # "s3" or "filesystem"
    root: Path | None = None
    endpoint: str = ""

    def keys(self, prefix: str = "") -> set[str]:
        if self.kind == "s3":
            pages = s3_client(self.endpoint).get_paginator("list_objects_v2").paginate(Bucket=S3_BUCKET, Prefix=prefix)
            return {obj["Key"] for page in pages for obj in page.get("Contents", [])}
        assert self.root is not None
        return {
            p.relative_to(self.root).as_posix()
            for p in self.root.rglob("*")
            if p.is_file() and p.relative_to(self.root).as_posix().startswith(prefix)
        }

    def read(self, key: str) -> bytes:
        if self.kind == "s3":
            return bytes(s3_client(self.endpoint).get_object(Bucket=S3_BUCKET, Key=key)["Body"].read())
        assert self.root is not None
        return (self.root / key).read_bytes()

    def content_type(self, key: str) -> str:
        assert self.kind == "s3"
        return str(s3_client(self.endpoint).head_object(Bucket=S3_BUCKET, Key=key)["ContentType"])


def _s3_storage_settings(endpoint: str) -> dict[str, object]:
    # The same options settings.py sets when S3_BUCKET is configured, pointed at the test server.
    return {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": S3_BUCKET,
            "endpoint_url": endpoint,
            "access_key": S3_ACCESS_KEY,
            "secret_key": S3_SECRET_KEY,
            "region_name": S3_REGION,
            "default_acl": None,
            "querystring_auth": True,
            "querystring_expire": 300,
            "file_overwrite": False,
            "signature_version": "s3v4",
        },
    }


def _use(settings, default: dict[str, object]) -> None:  # type: ignore[no-untyped-def]
    settings.STORAGES = {**settings.STORAGES, "default": default}
    storages_reset()


@pytest.fixture(params=["s3", "filesystem"])
def storage_backend(request, settings, tmp_path) -> Iterator[Backend]:  # type: ignore[no-untyped-def]
    """Runs the test once on moto's S3 over HTTP and once on the filesystem."""
    from django.core.files.storage import default_storage

    if request.param == "s3":
        endpoint = request.getfixturevalue("s3_endpoint")
        _use(settings, _s3_storage_settings(endpoint))
        assert default_storage.__class__.__name__ == "S3Storage"
        backend = Backend(kind="s3", endpoint=endpoint)
    else:
        root = tmp_path / "media"
        _use(settings, {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(root)}})
        assert default_storage.__class__.__name__ == "FileSystemStorage"
        backend = Backend(kind="filesystem", root=root)
    yield backend
    storages_reset()


@pytest.fixture
def filesystem_storage(settings, tmp_path) -> Iterator[Backend]:  # type: ignore[no-untyped-def]
    """The filesystem backend alone (for API and page tests), in a temporary directory."""
    root = tmp_path / "media"
    _use(settings, {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(root)}})
    yield Backend(kind="filesystem", root=root)
    storages_reset()


@pytest.fixture
def s3_storage(settings, s3_endpoint) -> Iterator[Backend]:  # type: ignore[no-untyped-def]
    _use(settings, _s3_storage_settings(s3_endpoint))
    yield Backend(kind="s3", endpoint=s3_endpoint)
    storages_reset()
