"""The storage API: who may list, upload, review and link; errors in the one error body."""

from __future__ import annotations

import io

import pytest

from huoban.identity.models import OrganisationRole
from huoban.identity.services import organisation_member_add, user_create
from huoban.storage.services import file_store, organisation_document_upload
from tests.conftest import PASSWORD
from tests.storage import samples

pytestmark = pytest.mark.django_db


def _org(cast):  # type: ignore[no-untyped-def]
    return cast.ngo_member.organisation_memberships.get().organisation


def _plain_member(org, owner):  # type: ignore[no-untyped-def]
    user = user_create(name="普通成员", email="plain@org.test", password=PASSWORD)
    organisation_member_add(organisation=org, actor=owner, user=user, role=OrganisationRole.MEMBER)
    return user


def _document(org, owner):  # type: ignore[no-untyped-def]
    return organisation_document_upload(
        organisation=org,
        actor=owner,
        kind="registration_certificate",
        fileobj=io.BytesIO(samples.pdf()),
        original_name="登记证书.pdf",
    )


def _upload_body(data: bytes, name: str, kind: str = "registration_certificate", **extra: object) -> dict[str, object]:
    upload = io.BytesIO(data)
    upload.name = name
    return {"kind": kind, "file": upload, **extra}


def test_owner_uploads_through_the_api_and_members_list(filesystem_storage, client_for, cast_a):
    org = _org(cast_a)
    member = _plain_member(org, cast_a.ngo_member)
    url = f"/api/v1/organisations/{org.pk}/documents"

    created = client_for(cast_a.ngo_member).post(url, _upload_body(samples.pdf(900), "证书.pdf"))
    listed = client_for(member).get(url)

    assert created.status_code == 201, created.content
    body = created.json()
    assert body["status"] == "pending" and body["file"]["content_type"] == "application/pdf"
    assert body["file"]["size"] == 900
    assert [d["id"] for d in listed.json()] == [body["id"]]


def test_upload_refusals_use_the_error_body(filesystem_storage, client_for, cast_a):
    org = _org(cast_a)
    url = f"/api/v1/organisations/{org.pk}/documents"
    owner = client_for(cast_a.ngo_member)

    disguised = owner.post(url, _upload_body(samples.exe(), "证书.pdf"))
    no_year = owner.post(url, _upload_body(samples.pdf(), "年报.pdf", kind="annual_report"))
    empty = owner.post(url, _upload_body(b"", "空.pdf"))

    assert disguised.status_code == 400
    assert disguised.json()["code"] == "file_type_not_allowed" and set(disguised.json()) == {"code", "message", "extra"}
    assert no_year.json()["code"] == "invalid_year"
    assert empty.json()["code"] == "empty_file"


def test_document_endpoints_refuse_outsiders_members_and_anonymous(filesystem_storage, client_for, cast_a, cast_b):
    org = _org(cast_a)
    member = _plain_member(org, cast_a.ngo_member)
    url = f"/api/v1/organisations/{org.pk}/documents"
    body = _upload_body(samples.pdf(), "证书.pdf")

    assert client_for(None).get(url).status_code == 401
    assert client_for(None).post(url, _upload_body(samples.pdf(), "证书.pdf")).status_code == 401
    assert client_for(cast_b.ngo_member).get(url).status_code == 404
    assert client_for(cast_b.ngo_member).post(url, _upload_body(samples.pdf(), "证书.pdf")).status_code == 404
    refused = client_for(member).post(url, body)
    assert refused.status_code == 403 and refused.json()["code"] == "permission_denied"
    assert client_for(cast_a.ngo_member).get("/api/v1/organisations/999999/documents").status_code == 404


def test_operator_reviews_through_the_api(filesystem_storage, client_for, cast_a, operator):
    org = _org(cast_a)
    document = _document(org, cast_a.ngo_member)
    url = f"/api/v1/organisations/{org.pk}/documents/{document.pk}/review"

    no_note = client_for(operator).post(url, {"decision": "rejected"}, content_type="application/json")
    verified = client_for(operator).post(url, {"decision": "verified"}, content_type="application/json")
    listed = client_for(operator).get(f"/api/v1/organisations/{org.pk}/documents")

    assert no_note.status_code == 400 and no_note.json()["code"] == "note_required"
    assert verified.status_code == 200
    assert verified.json()["status"] == "verified" and verified.json()["reviewer_label"] == "平台运营"
    assert verified.json()["reviewer_name"] == operator.name
    assert listed.status_code == 200 and listed.json()[0]["status"] == "verified"


def test_only_operators_may_review_through_the_api(filesystem_storage, client_for, hub_a, cast_a, cast_b):
    org = _org(cast_a)
    document = _document(org, cast_a.ngo_member)
    url = f"/api/v1/organisations/{org.pk}/documents/{document.pk}/review"
    decision = {"decision": "verified"}

    assert client_for(None).post(url, decision, content_type="application/json").status_code == 401
    for user in (cast_a.ngo_member, cast_a.hub_admin, cast_b.ngo_member):
        assert client_for(user).post(url, decision, content_type="application/json").status_code == 404
    assert client_for(cast_a.staff, hub_a).post(url, decision, content_type="application/json").status_code == 404


def test_file_link_for_allowed_viewers_only(filesystem_storage, client_for, cast_a, cast_b, operator):
    org = _org(cast_a)
    document = _document(org, cast_a.ngo_member)
    member = _plain_member(org, cast_a.ngo_member)
    url = f"/api/v1/files/{document.file.pk}/link"

    granted = client_for(member).post(url)
    download = client_for(None).get(granted.json()["url"].removeprefix("http://huoban.localhost"))

    assert granted.status_code == 200
    assert granted.json()["url"].startswith("http://huoban.localhost/files/") and granted.json()["expires_at"]
    assert download.status_code == 200 and b"".join(download.streaming_content) == samples.pdf()
    assert client_for(operator).post(url).status_code == 200
    assert client_for(cast_b.ngo_member).post(url).status_code == 404
    assert client_for(cast_a.hub_admin).post(url).status_code == 404
    assert client_for(None).post(url).status_code == 401
    assert client_for(member).post("/api/v1/files/00000000-0000-0000-0000-000000000000/link").status_code == 404


def test_hub_files_are_not_linked_by_the_platform_endpoint(filesystem_storage, client_for, hub_a, cast_a):
    stored = file_store(
        fileobj=io.BytesIO(samples.png()),
        original_name="现场.png",
        purpose="photo",
        uploaded_by=cast_a.staff,
        hub_id=hub_a.pk,
        hub_schema=hub_a.schema_name,
    )

    for client in (client_for(cast_a.staff, hub_a), client_for(cast_a.staff), client_for(cast_a.hub_admin, hub_a)):
        assert client.post(f"/api/v1/files/{stored.pk}/link").status_code == 404


def test_openapi_describes_the_storage_endpoints(client_for, cast_a):
    schema = client_for(cast_a.ngo_member).get("/api/v1/schema?format=json")

    assert schema.status_code == 200
    text = schema.content.decode()
    for operation in (
        "organisation_documents_list",
        "organisation_documents_create",
        "organisation_documents_review",
        "files_link_create",
    ):
        assert operation in text
    assert "multipart/form-data" in text
