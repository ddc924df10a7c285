"""Reads on stored files and organisations' documents, and the one rule of who may see a file."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from django.db.models import Case, F, QuerySet, Sum, Value, When
from django.utils.translation import gettext

from huoban.identity.models import OrganisationMember
from huoban.storage.models import (
    REQUIRED_KINDS,
    DocumentKind,
    DocumentStatus,
    OrganisationDocument,
    StoredFile,
)


def file_get(*, file_id: UUID | str) -> StoredFile | None:
    """A live (not deleted) file by id, whoever owns it; None otherwise. Check ``file_can_view`` before linking."""
    try:
        return StoredFile.objects.filter(pk=file_id, deleted_at__isnull=True).first()
    except (ValueError, TypeError):  # not a UUID
        return None


def hub_files(*, hub_id: int, purpose: str | None = None) -> QuerySet[StoredFile]:
    """A hub's live files, newest first (for hub-side lists; link each after ``file_can_view``)."""
    qs = StoredFile.objects.filter(hub_id=hub_id, deleted_at__isnull=True)
    if purpose:
        qs = qs.filter(purpose=purpose)
    return qs.order_by("-created_at")


def file_usage_bytes(
    *, hub_id: int | None = None, organisation_id: int | None = None, user_id: int | None = None
) -> int:
    """Bytes of live files of one owner: a hub, an organisation, or a person's own files (neither of the others).

    Exactly one of the arguments is given.
    """
    if sum(x is not None for x in (hub_id, organisation_id, user_id)) != 1:
        raise ValueError("give exactly one of hub_id, organisation_id, user_id")
    live = StoredFile.objects.filter(deleted_at__isnull=True)
    if hub_id is not None:
        qs = live.filter(hub_id=hub_id)
    elif organisation_id is not None:
        qs = live.filter(organisation_id=organisation_id)
    else:
        qs = live.filter(hub_id__isnull=True, organisation__isnull=True, uploaded_by_id=user_id)
    return int(qs.aggregate(total=Sum("size"))["total"] or 0)


def file_can_view(
    *, stored_file: StoredFile, user: Any, viewer_hub_id: int | None = None, hub_allowed: bool = False
) -> bool:
    """Whether ``user`` may get a link to ``stored_file``. The one rule; every link is handed out after it.

    Hub roles live in hub schemas, which this platform layer does not read, so hub-side code makes the hub's part
    of the decision and passes it in: ``viewer_hub_id`` is the hub the request is served for, ``hub_allowed`` says
    that hub's own checks passed (e.g. the user has a staff role there, or the file is shown on a public
    transparency page of that hub).

    - A deleted file: nobody.
    - A hub's file: only through that same hub (``viewer_hub_id == stored_file.hub_id``) with ``hub_allowed``.
      Not other hubs, not operators, not the uploader on their own.
    - An organisation's file: every member of the organisation; platform operators (they review documents); and
      a hub that vouches with ``hub_allowed`` (hub-side code checks its staff role and that the organisation works
      with or applied to that hub).
    - A person's own file (no hub, no organisation): only the person who uploaded it.
    """
    if stored_file.deleted_at is not None:
        return False
    if stored_file.hub_id is not None:
        return hub_allowed and viewer_hub_id is not None and viewer_hub_id == stored_file.hub_id
    if stored_file.organisation_id is not None:
        if hub_allowed and viewer_hub_id is not None:
            return True
        if user is None or not getattr(user, "is_authenticated", False):
            return False
        if getattr(user, "is_operator", False):
            return True
        return OrganisationMember.objects.filter(organisation_id=stored_file.organisation_id, user_id=user.pk).exists()
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    return stored_file.uploaded_by_id is not None and stored_file.uploaded_by_id == user.pk


def organisation_documents(*, organisation_id: int, include_history: bool = False) -> QuerySet[OrganisationDocument]:
    """An organisation's documents: the current version of each kind (and year), or with ``include_history`` also
    the superseded ones. Callers check that the viewer may see them (members, operators, hubs it works with)."""
    qs = OrganisationDocument.objects.filter(organisation_id=organisation_id).select_related(
        "file", "reviewer", "uploaded_by"
    )
    if not include_history:
        qs = qs.filter(superseded_at__isnull=True)
    kind_order = Case(
        *[When(kind=kind, then=Value(position)) for position, kind in enumerate(DocumentKind.values)],
        default=Value(len(DocumentKind.values)),
    )
    return qs.order_by(kind_order, F("year").desc(nulls_last=True), "-created_at")


def organisation_document_get(*, organisation_id: int, document_id: int) -> OrganisationDocument | None:
    return (
        OrganisationDocument.objects.select_related("file", "organisation", "reviewer", "uploaded_by")
        .filter(organisation_id=organisation_id, pk=document_id)
        .first()
    )


@dataclass(frozen=True)
class KindVerification:
    """The state of one required kind of document."""

    kind: str
    label: str
    status: str  # "missing" when nothing is uploaded, else a DocumentStatus value
    status_label: str
    document_id: int | None = None
    year: int | None = None
    reviewer_label: str = ""
    reviewer_name: str = ""
    reviewer_hub_id: int | None = None
    reviewed_at: datetime | None = None
    review_note: str = ""

    @property
    def verified(self) -> bool:
        return self.status == DocumentStatus.VERIFIED


@dataclass(frozen=True)
class VerificationSummary:
    organisation_id: int
    kinds: list[KindVerification]

    @property
    def complete(self) -> bool:
        return all(k.verified for k in self.kinds)

    @property
    def verified_kinds(self) -> list[str]:
        return [k.kind for k in self.kinds if k.verified]

    @property
    def missing_kinds(self) -> list[str]:
        return [k.kind for k in self.kinds if not k.verified]


def _pick(docs: list[OrganisationDocument]) -> OrganisationDocument | None:
    """The document that speaks for a kind: a verified one first, then the newest (latest year first)."""
    if not docs:
        return None
    ordered = sorted(docs, key=lambda d: (d.year or 0, d.created_at), reverse=True)
    verified = [d for d in ordered if d.status == DocumentStatus.VERIFIED]
    return verified[0] if verified else ordered[0]


def organisation_verification_summary(*, organisation_id: int) -> VerificationSummary:
    """Which of the required kinds (registration certificate, charter, an annual report) are verified, and by whom.

    For annual reports, the latest verified year counts; with none verified, the latest uploaded one is shown.
    """
    current = list(organisation_documents(organisation_id=organisation_id))
    kinds: list[KindVerification] = []
    for kind in REQUIRED_KINDS:
        doc = _pick([d for d in current if d.kind == kind])
        label = str(DocumentKind(kind).label)
        if doc is None:
            kinds.append(KindVerification(kind=kind, label=label, status="missing", status_label=gettext("未上传")))
            continue
        kinds.append(
            KindVerification(
                kind=kind,
                label=label,
                status=doc.status,
                status_label=str(doc.get_status_display()),
                document_id=doc.pk,
                year=doc.year,
                reviewer_label=doc.reviewer_display,
                reviewer_name=doc.reviewer.name if doc.reviewer else "",
                reviewer_hub_id=doc.reviewer_hub_id,
                reviewed_at=doc.reviewed_at,
                review_note=doc.review_note,
            )
        )
    return VerificationSummary(organisation_id=organisation_id, kinds=kinds)
