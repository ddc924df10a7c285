"""Download links: presigned on S3 (checked by the server), signed and host-bound on the filesystem."""

from __future__ import annotations

import io
import time
import urllib.error
import urllib.request
from email.message import Message
from urllib.parse import unquote

import pytest
from django.core import signing

from huoban.storage.services import LINK_SALT, file_delete, file_link, file_store
from tests.storage import samples

pytestmark = pytest.mark.django_db


def _hub_file(hub, user, data: bytes | None = None, name: str = "收据.pdf"):  # type: ignore[no-untyped-def]
    return file_store(
        fileobj=io.BytesIO(data or samples.pdf(1200)),
        original_name=name,
        purpose="receipt",
        uploaded_by=user,
        hub_id=hub.pk,
        hub_schema=hub.schema_name,
    )


def _get(url: str) -> tuple[int, Message, bytes]:
    """GET from the S3 test server; headers are case-insensitive."""
    try:
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - the local test server
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers, exc.read()


def test_presigned_link_downloads_with_name_and_type_then_expires(s3_storage, hub_a, cast_a):
    data = samples.pdf(1500)
    stored = _hub_file(hub_a, cast_a.staff, data, name="二〇二五年 收据")  # no extension: the link adds .pdf

    url = file_link(stored_file=stored, ttl_seconds=2)
    status, headers, body = _get(url)

    assert url.startswith(s3_storage.endpoint) and "X-Amz-Signature=" in url
    assert status == 200 and body == data
    assert headers["Content-Type"] == "application/pdf"
    assert headers["Content-Disposition"].startswith("attachment;")
    assert "二〇二五年 收据.pdf" in unquote(headers["Content-Disposition"])
    time.sleep(3)
    status, _headers, body = _get(url)
    assert status == 403 and b"expired" in body


def test_presigned_link_edited_to_another_hubs_key_is_refused_by_s3(s3_storage, hub_a, hub_b, cast_a, cast_b):
    mine = _hub_file(hub_a, cast_a.staff, samples.pdf(1300))
    theirs = _hub_file(hub_b, cast_b.staff, samples.pdf(1400))

    url = file_link(stored_file=mine, ttl_seconds=60)
    edited = url.replace(mine.key, theirs.key)
    status, _headers, body = _get(edited)

    assert edited != url
    assert status == 403 and b"SignatureDoesNotMatch" in body
    assert _get(url)[0] == 200


def test_filesystem_link_works_only_on_the_host_it_was_issued_for(filesystem_storage, client_for, hub_a, hub_b, cast_a):
    data = samples.pdf(1600)
    stored = _hub_file(hub_a, cast_a.staff, data)
    with hub_a:  # issued while serving hub A (as hub-side code would)
        url = file_link(stored_file=stored, ttl_seconds=60)

    on_a = client_for(None, hub_a).get(url)
    on_b = client_for(None, hub_b).get(url)
    on_public = client_for(None).get(url)

    assert url.startswith("/files/")
    assert on_a.status_code == 200
    assert b"".join(on_a.streaming_content) == data
    assert on_a["Content-Type"] == "application/pdf"
    assert "attachment" in on_a["Content-Disposition"]
    assert "sandbox" in on_a["Content-Security-Policy"]
    assert on_a["Cache-Control"] == "private, no-store"
    assert on_b.status_code == 404
    assert on_public.status_code == 404


def test_filesystem_token_edited_to_name_another_file_is_refused(filesystem_storage, client_for, hub_a, cast_a):
    mine = _hub_file(hub_a, cast_a.staff)
    other = _hub_file(hub_a, cast_a.staff, samples.pdf(1700))
    with hub_a:
        url = file_link(stored_file=mine, ttl_seconds=60)
    token = url.split("/")[2]
    payload = signing.loads(token, salt=LINK_SALT)
    forged_payload = signing.dumps({**payload, "f": str(other.pk)}, salt="not-the-link-salt")
    spliced = signing.dumps({**payload, "f": str(other.pk)}, salt=LINK_SALT).split(":")[0] + token[token.index(":") :]

    client = client_for(None, hub_a)
    assert client.get(f"/files/{forged_payload}/").status_code == 404
    assert client.get(f"/files/{spliced}/").status_code == 404
    assert client.get(url).status_code == 200


def test_filesystem_link_expires_and_dies_with_the_file(filesystem_storage, client_for, hub_a, cast_a):
    stored = _hub_file(hub_a, cast_a.staff)
    with hub_a:
        short = file_link(stored_file=stored, ttl_seconds=1)
        long = file_link(stored_file=stored, ttl_seconds=60)
    client = client_for(None, hub_a)
    assert client.get(short).status_code == 200

    time.sleep(2)
    assert client.get(short).status_code == 404
    assert client.get(long).status_code == 200
    file_delete(stored_file=stored, actor=cast_a.staff)
    assert client.get(long).status_code == 404
