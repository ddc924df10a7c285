"""A partner's documents seen from hubs: hub A's staff verify them in hub A's name, and hub B, where the same
organisation applies, sees them verified and by whom (through the platform storage service)."""

from __future__ import annotations

import io

import pytest

from hubs.partners import services
from huoban.audit.models import AuditEvent
from huoban.storage.services import organisation_document_upload

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n" + b"%" * 200 + b"\ntrailer << >>\n%%EOF\n"


@pytest.fixture
def files_on_disk(settings, tmp_path):  # type: ignore[no-untyped-def]
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(tmp_path)}},
    }


@pytest.fixture
def documents(files_on_disk, ngo_org_a, cast_a):  # type: ignore[no-untyped-def]
    """The organisation's registration certificate, charter and last annual report, uploaded by its owner."""
    return {
        kind: organisation_document_upload(
            organisation=ngo_org_a,
            actor=cast_a.ngo_member,
            kind=kind,
            year=2025 if kind == "annual_report" else None,
            fileobj=io.BytesIO(PDF),
            original_name=f"{kind}.pdf",
        )
        for kind in ("registration_certificate", "charter", "annual_report")
    }


def test_verified_by_hub_a_is_seen_verified_in_hub_b(
    client_for, hub_a, hub_b, cast_a, cast_b, ngo_org_a, partnership_in, documents
):
    in_a = partnership_in("under_review")
    with hub_b:
        in_b = services.partnership_apply(organisation=ngo_org_a, actor=cast_a.ngo_member)
    staff_a = client_for(cast_a.staff, hub_a)
    before = staff_a.get(f"/api/v1/partners/{in_a.pk}/documents").json()
    assert before["verified"] is False and {d["status"] for d in before["documents"]} == {"pending"}

    for kind, document in documents.items():
        response = staff_a.post(
            f"/api/v1/partners/{in_a.pk}/documents/{document.pk}/review",
            {"decision": "verified", "note": ""},
            content_type="application/json",
        )
        assert response.status_code == 200, (kind, response.json())
        assert response.json()["reviewer_label"] == hub_a.name_zh

    seen_in_b = client_for(cast_b.staff, hub_b).get(f"/api/v1/partners/{in_b.pk}/documents").json()
    assert seen_in_b["verified"] is True
    assert {k["reviewer_label"] for k in seen_in_b["summary"]} == {hub_a.name_zh}
    assert {k["reviewer_hub_id"] for k in seen_in_b["summary"]} == {hub_a.pk}
    page = client_for(cast_b.staff, hub_b).get(f"/partners/{in_b.pk}/").content.decode()
    assert f"由{hub_a.name_zh}核验" in page
    listed = client_for(cast_b.staff, hub_b).get("/api/v1/partners", {"verified": "true"}).json()["results"]
    assert [row["organisation"]["id"] for row in listed] == [ngo_org_a.pk] and listed[0]["verified"] is True
    # the reviews are in hub A's audit trail, not hub B's
    with hub_a:
        assert AuditEvent.objects.filter(action="storage.organisation_document.reviewed").count() == 3
    with hub_b:
        assert not AuditEvent.objects.filter(action="storage.organisation_document.reviewed").exists()


def test_rejection_needs_a_note_and_reviews_are_staff_only(client_for, hub_a, cast_a, partnership_in, documents):
    partnership = partnership_in("applied")
    charter = documents["charter"]
    url = f"/api/v1/partners/{partnership.pk}/documents/{charter.pk}/review"
    reviewer = client_for(cast_a.reviewer, hub_a).post(url, {"decision": "verified"}, content_type="application/json")
    assert reviewer.status_code == 403
    staff = client_for(cast_a.staff, hub_a)
    no_note = staff.post(url, {"decision": "rejected"}, content_type="application/json")
    assert no_note.status_code == 400 and no_note.json()["code"] == "note_required"
    page = staff.post(
        f"/partners/{partnership.pk}/documents/{charter.pk}/review/",
        {"decision": "rejected", "note": "章程缺少盖章页"},
        follow=True,
    )
    assert "审核结果已记录" in page.content.decode() and "章程缺少盖章页" in page.content.decode()
    twice = staff.post(url, {"decision": "verified"}, content_type="application/json")
    assert twice.status_code == 409 and twice.json()["code"] == "already_reviewed"


def test_documents_of_an_organisation_that_is_not_this_partner_answer_404(
    client_for, hub_a, cast_a, partnership_in, documents, make_org
):
    other = make_org(cast_a.resident, name="另一个组织")
    with hub_a:
        other_partnership = services.partnership_apply(organisation=other, actor=cast_a.resident)
    charter = documents["charter"]
    response = client_for(cast_a.staff, hub_a).post(
        f"/api/v1/partners/{other_partnership.pk}/documents/{charter.pk}/review",
        {"decision": "verified"},
        content_type="application/json",
    )
    assert response.status_code == 404


def test_staff_download_a_partners_document_through_a_short_lived_link(
    client_for, hub_a, cast_a, partnership_in, documents
):
    partnership = partnership_in("applied")
    staff = client_for(cast_a.staff, hub_a)
    response = staff.get(f"/partners/{partnership.pk}/documents/{documents['charter'].pk}/download/")
    assert response.status_code == 302 and response["Location"].startswith("/files/")
    downloaded = staff.get(response["Location"])
    assert downloaded.status_code == 200 and b"".join(downloaded.streaming_content).startswith(b"%PDF")
    outsider_link = client_for(cast_a.resident, hub_a).get(
        f"/partners/{partnership.pk}/documents/{documents['charter'].pk}/download/"
    )
    assert outsider_link.status_code == 404
