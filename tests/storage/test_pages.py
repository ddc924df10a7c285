"""The organisation's documents page on the public site, and its card on the organisation's page."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from huoban.identity.models import OrganisationRole
from huoban.identity.services import organisation_member_add, user_create
from huoban.storage.models import OrganisationDocument
from huoban.storage.services import organisation_document_review, organisation_document_upload
from tests.conftest import PASSWORD
from tests.storage import samples

pytestmark = pytest.mark.django_db


def _org(cast):  # type: ignore[no-untyped-def]
    return cast.ngo_member.organisation_memberships.get().organisation


def _plain_member(org, owner):  # type: ignore[no-untyped-def]
    user = user_create(name="普通成员", email="plain@org.test", password=PASSWORD)
    organisation_member_add(organisation=org, actor=owner, user=user, role=OrganisationRole.MEMBER)
    return user


def test_owner_uploads_from_the_page(filesystem_storage, client_for, cast_a):
    org = _org(cast_a)
    page = f"/files/organisations/{org.pk}/documents/"
    client = client_for(cast_a.ngo_member)

    form = client.get(page)
    response = client.post(
        page,
        {"kind": "charter", "file": SimpleUploadedFile("章程.docx", samples.docx(), content_type="application/pdf")},
    )
    after = client.get(page).content.decode()

    assert form.status_code == 200 and 'data-testid="upload-form"' in form.content.decode()
    assert response.status_code == 302
    document = OrganisationDocument.objects.get(organisation=org)
    assert document.kind == "charter"
    assert "章程.docx" in after and "待审核" in after


def test_a_refused_upload_shows_the_reason_on_the_form(filesystem_storage, client_for, cast_a):
    org = _org(cast_a)

    response = client_for(cast_a.ngo_member).post(
        f"/files/organisations/{org.pk}/documents/",
        {"kind": "registration_certificate", "file": SimpleUploadedFile("证书.pdf", samples.html())},
    )

    assert response.status_code == 200
    assert "不支持这种文件" in response.content.decode()
    assert not OrganisationDocument.objects.filter(organisation=org).exists()


def test_members_see_status_and_who_verified_but_cannot_upload(filesystem_storage, client_for, cast_a, operator):
    org = _org(cast_a)
    member = _plain_member(org, cast_a.ngo_member)
    document = organisation_document_upload(
        organisation=org,
        actor=cast_a.ngo_member,
        kind="registration_certificate",
        fileobj=io.BytesIO(samples.pdf()),
        original_name="登记证书.pdf",
    )
    organisation_document_review(document=document, actor=operator, decision="verified", reviewer_label="平台运营")
    client = client_for(member)

    page = client.get(f"/files/organisations/{org.pk}/documents/")
    html = page.content.decode()
    refused = client.post(f"/files/organisations/{org.pk}/documents/", {"kind": "charter"})
    download = client.get(f"/files/organisations/{org.pk}/documents/{document.pk}/download/")
    streamed = client.get(download["Location"])

    assert page.status_code == 200
    assert "已核验" in html and "平台运营" in html and operator.name in html
    assert 'data-testid="upload-form"' not in html
    assert refused.status_code == 403
    assert download.status_code == 302 and download["Location"].startswith("/files/")
    assert streamed.status_code == 200 and b"".join(streamed.streaming_content) == samples.pdf()
    assert "inline" in streamed["Content-Disposition"]


def test_the_page_is_for_members_and_operators_on_the_public_site(
    filesystem_storage, client_for, hub_a, cast_a, cast_b, operator
):
    org = _org(cast_a)
    page = f"/files/organisations/{org.pk}/documents/"

    assert client_for(cast_b.ngo_member).get(page).status_code == 404
    assert client_for(cast_a.hub_admin).get(page).status_code == 404
    assert client_for(None).get(page).status_code == 302
    assert client_for(cast_a.ngo_member, hub_a).get(page).status_code == 404
    assert client_for(operator).get(page).status_code == 200


def test_operator_reviews_from_the_page(filesystem_storage, client_for, cast_a, operator):
    org = _org(cast_a)
    document = organisation_document_upload(
        organisation=org,
        actor=cast_a.ngo_member,
        kind="registration_certificate",
        fileobj=io.BytesIO(samples.png()),
        original_name="证书.png",
    )
    client = client_for(operator)
    review = f"/files/organisations/{org.pk}/documents/{document.pk}/review/"

    assert "提交审核" in client.get(f"/files/organisations/{org.pk}/documents/").content.decode()
    assert client_for(cast_a.ngo_member).post(review, {"decision": "verified"}).status_code == 404
    response = client.post(review, {"decision": "rejected", "note": "照片模糊"})

    document.refresh_from_db()
    assert response.status_code == 302
    assert document.status == "rejected" and document.review_note == "照片模糊"


def test_the_organisation_page_links_to_its_documents(client_for, cast_a):
    org = _org(cast_a)

    html = client_for(cast_a.ngo_member).get(f"/accounts/organisations/{org.pk}/").content.decode()

    assert 'data-testid="documents-card"' in html
    assert f"/files/organisations/{org.pk}/documents/" in html
    assert "登记证书" in html and "未上传" in html
