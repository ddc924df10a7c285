"""Organisations' documents: uploaded by the organisation's managers, reviewed by operators or hubs, superseded
by newer versions with history kept, and summarised for hubs."""

from __future__ import annotations

import io

import pytest
from django.core import mail

from huoban.audit.models import AuditEvent
from huoban.errors import ApplicationError
from huoban.identity.models import OrganisationRole
from huoban.identity.services import organisation_member_add, user_create
from huoban.storage.models import PLATFORM_REVIEWER_LABEL, DocumentStatus, OrganisationDocument, StoredFile
from huoban.storage.selectors import organisation_documents, organisation_verification_summary
from huoban.storage.services import organisation_document_review, organisation_document_upload
from tests.conftest import PASSWORD
from tests.storage import samples

pytestmark = pytest.mark.django_db


def _org(cast):  # type: ignore[no-untyped-def]
    return cast.ngo_member.organisation_memberships.get().organisation


def _member(org, owner, role=OrganisationRole.MEMBER, key="m"):  # type: ignore[no-untyped-def]
    user = user_create(name=f"成员{key}", email=f"{key}-{role}@org.test", password=PASSWORD)
    organisation_member_add(organisation=org, actor=owner, user=user, role=role)
    return user


def _upload(org, actor, kind="registration_certificate", year=None, data=None, name="登记证书.pdf"):  # type: ignore[no-untyped-def]
    return organisation_document_upload(
        organisation=org,
        actor=actor,
        kind=kind,
        year=year,
        fileobj=io.BytesIO(data or samples.pdf()),
        original_name=name,
    )


def test_owner_uploads_a_pending_document_stored_for_the_organisation(filesystem_storage, cast_a):
    org = _org(cast_a)

    document = _upload(org, cast_a.ngo_member)

    assert document.status == DocumentStatus.PENDING
    assert document.file.organisation_id == org.pk and document.file.purpose == "registration_certificate"
    assert document.uploaded_by == cast_a.ngo_member
    assert AuditEvent.objects.filter(
        action="storage.organisation_document.uploaded", object_id=str(document.pk), actor=cast_a.ngo_member
    ).exists()


def test_an_admin_may_upload_but_a_plain_member_may_not_and_nothing_is_stored(filesystem_storage, cast_a, cast_b):
    org = _org(cast_a)
    admin = _member(org, cast_a.ngo_member, OrganisationRole.ADMIN, key="admin")
    plain = _member(org, cast_a.ngo_member, OrganisationRole.MEMBER, key="plain")

    assert _upload(org, admin).pk
    with pytest.raises(ApplicationError) as member_err:
        _upload(org, plain, kind="charter", data=samples.docx(), name="章程.docx")
    with pytest.raises(ApplicationError) as outsider_err:
        _upload(org, cast_b.ngo_member, kind="charter", data=samples.docx(), name="章程.docx")

    assert (member_err.value.status, member_err.value.code) == (403, "permission_denied")
    assert (outsider_err.value.status, outsider_err.value.code) == (404, "not_found")
    assert StoredFile.objects.filter(organisation=org).count() == 1
    assert filesystem_storage.keys(f"orgs/{org.pk}/charter/") == set()


def test_yearly_reports_need_a_year_and_other_kinds_take_none(filesystem_storage, cast_a):
    org = _org(cast_a)

    with pytest.raises(ApplicationError) as err:
        _upload(org, cast_a.ngo_member, kind="annual_report")
    report = _upload(org, cast_a.ngo_member, kind="annual_report", year=2024)
    charter = _upload(org, cast_a.ngo_member, kind="charter", year=2024, data=samples.docx(), name="章程.docx")

    assert err.value.code == "invalid_year"
    assert report.year == 2024
    assert charter.year is None


def test_a_disguised_document_is_refused_and_no_document_is_made(filesystem_storage, cast_a):
    org = _org(cast_a)

    with pytest.raises(ApplicationError) as err:
        _upload(org, cast_a.ngo_member, data=samples.html(), name="登记证书.pdf")

    assert err.value.code == "file_type_not_allowed"
    assert not OrganisationDocument.objects.filter(organisation=org).exists()
    assert filesystem_storage.keys(f"orgs/{org.pk}/") == set()


def test_a_newer_upload_supersedes_the_current_one_and_keeps_history(filesystem_storage, cast_a):
    org = _org(cast_a)
    first = _upload(org, cast_a.ngo_member, kind="annual_report", year=2024)
    other_year = _upload(org, cast_a.ngo_member, kind="annual_report", year=2023)

    second = _upload(org, cast_a.ngo_member, kind="annual_report", year=2024)

    first.refresh_from_db()
    assert first.superseded_at is not None and first.superseded_by == second
    assert list(organisation_documents(organisation_id=org.pk)) == [second, other_year]
    assert set(organisation_documents(organisation_id=org.pk, include_history=True)) == {first, second, other_year}
    assert first.file.deleted_at is None  # the old file stays as history


def test_operator_verifies_and_the_summary_says_who(
    filesystem_storage, cast_a, operator, django_capture_on_commit_callbacks
):
    org = _org(cast_a)
    document = _upload(org, cast_a.ngo_member)

    with django_capture_on_commit_callbacks(execute=True):
        organisation_document_review(
            document=document, actor=operator, decision="verified", reviewer_label=PLATFORM_REVIEWER_LABEL
        )

    document.refresh_from_db()
    assert document.status == DocumentStatus.VERIFIED
    assert (document.reviewer, document.reviewer_hub_id, document.reviewer_label) == (operator, None, "平台运营")
    summary = organisation_verification_summary(organisation_id=org.pk)
    certificate = next(k for k in summary.kinds if k.kind == "registration_certificate")
    assert certificate.verified and certificate.reviewer_label == "平台运营" and certificate.reviewer_name == "运营"
    assert summary.verified_kinds == ["registration_certificate"]
    assert not summary.complete
    event = AuditEvent.objects.get(action="storage.organisation_document.reviewed", object_id=str(document.pk))
    assert event.before["status"] == "pending" and event.after["status"] == "verified"
    assert [m.to for m in mail.outbox] == [[cast_a.ngo_member.email]]
    assert "平台运营" in mail.outbox[0].body and "已核验" in mail.outbox[0].body
    document.refresh_from_db()
    assert document.review_notified_at is not None


def test_a_hub_reviews_through_the_service_with_its_label_recorded_in_the_hubs_trail(
    filesystem_storage, hub_a, cast_a, django_capture_on_commit_callbacks
):
    org = _org(cast_a)
    document = _upload(org, cast_a.ngo_member, kind="charter", data=samples.docx(), name="章程.docx")

    with hub_a, django_capture_on_commit_callbacks(execute=True):
        organisation_document_review(
            document=document,
            actor=cast_a.staff,
            decision="rejected",
            note="章程缺少最新修订页",
            reviewer_hub_id=hub_a.pk,
            reviewer_label=hub_a.name_zh,
        )
        in_hub_trail = AuditEvent.objects.filter(
            action="storage.organisation_document.reviewed", object_id=str(document.pk)
        ).exists()

    document.refresh_from_db()
    assert document.status == DocumentStatus.REJECTED
    assert (document.reviewer_hub_id, document.reviewer_label) == (hub_a.pk, "测试四川中心")
    assert document.review_note == "章程缺少最新修订页"
    assert in_hub_trail
    assert "章程缺少最新修订页" in mail.outbox[0].body


def test_rejection_needs_a_note(filesystem_storage, cast_a, operator):
    document = _upload(_org(cast_a), cast_a.ngo_member)

    with pytest.raises(ApplicationError) as err:
        organisation_document_review(
            document=document, actor=operator, decision="rejected", note="  ", reviewer_label=PLATFORM_REVIEWER_LABEL
        )

    assert err.value.code == "note_required"
    document.refresh_from_db()
    assert document.status == DocumentStatus.PENDING


def test_platform_review_needs_an_operator_and_nobody_reviews_their_own_organisation(
    filesystem_storage, hub_a, cast_a, operator
):
    org = _org(cast_a)
    document = _upload(org, cast_a.ngo_member)

    with pytest.raises(ApplicationError) as not_operator:
        organisation_document_review(
            document=document, actor=cast_a.staff, decision="verified", reviewer_label=PLATFORM_REVIEWER_LABEL
        )
    with pytest.raises(ApplicationError) as own:
        organisation_document_review(
            document=document,
            actor=cast_a.ngo_member,
            decision="verified",
            reviewer_hub_id=hub_a.pk,
            reviewer_label=hub_a.name_zh,
        )

    assert not_operator.value.status == 403
    assert own.value.code == "reviewer_conflict"


def test_a_superseded_or_already_reviewed_document_is_not_reviewed_by_a_hub(
    filesystem_storage, hub_a, cast_a, operator
):
    org = _org(cast_a)
    old = _upload(org, cast_a.ngo_member)
    new = _upload(org, cast_a.ngo_member)
    organisation_document_review(document=new, actor=operator, decision="verified", reviewer_label="平台运营")
    hub_review = {"actor": cast_a.staff, "reviewer_hub_id": hub_a.pk, "reviewer_label": hub_a.name_zh}

    with pytest.raises(ApplicationError) as superseded:
        organisation_document_review(document=old, decision="verified", **hub_review)
    with pytest.raises(ApplicationError) as reviewed:
        organisation_document_review(document=new, decision="rejected", note="不清晰", **hub_review)
    corrected = organisation_document_review(
        document=new, actor=operator, decision="rejected", note="证书已过期", reviewer_label="平台运营"
    )

    assert superseded.value.code == "document_superseded"
    assert reviewed.value.code == "already_reviewed"
    assert corrected.status == DocumentStatus.REJECTED
