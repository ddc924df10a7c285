"""A partner's documents, seen and reviewed from a hub, through the platform storage service.

An organisation uploads its registration certificate, charter and reports once, on the platform; every hub it works
with sees the same documents and who verified each (a hub by its name, or the platform). Staff of a hub verify or
reject them for everyone: that is how an organisation verified by hub A is known as verified when it applies to
hub B. The storage layer cannot see hub roles, so this module makes the hub's part of the decision: the caller is
staff here (the views check) and the organisation is a partner of, or applicant to, this hub (checked here).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Count, QuerySet
from django.utils.translation import gettext as _

from hubs.partners.models import Partnership
from hubs.partners.services import current_hub
from huoban.errors import ApplicationError
from huoban.identity.models import User
from huoban.storage.models import REQUIRED_KINDS, DocumentStatus, OrganisationDocument
from huoban.storage.selectors import (
    VerificationSummary,
    file_can_view,
    organisation_document_get,
    organisation_documents,
    organisation_verification_summary,
)
from huoban.storage.services import file_link, organisation_document_review


@dataclass(frozen=True)
class PartnerDocuments:
    documents: list[OrganisationDocument]
    summary: VerificationSummary


def partner_documents(*, partnership: Partnership) -> PartnerDocuments:
    """The organisation's current documents and its verification summary (staff of this hub only)."""
    organisation_id = partnership.organisation_id
    return PartnerDocuments(
        documents=list(organisation_documents(organisation_id=organisation_id)),
        summary=organisation_verification_summary(organisation_id=organisation_id),
    )


def _document(*, partnership: Partnership, document_id: int) -> OrganisationDocument:
    document = organisation_document_get(organisation_id=partnership.organisation_id, document_id=document_id)
    if document is None:  # another organisation's document, or none: nothing to confirm
        raise ApplicationError(_("未找到该文件。"), code="not_found", status=404)
    return document


def partner_document_review(
    *, partnership: Partnership, document_id: int, actor: User, decision: str, note: str = ""
) -> OrganisationDocument:
    """Staff verify or reject a partner's document in the name of this hub (its Chinese name is the reviewer
    label every other hub sees). The storage service checks the decision, the note, conflicts of interest and
    that the document is current and not yet reviewed, and records the review in this hub's audit trail."""
    hub = current_hub()
    document = _document(partnership=partnership, document_id=document_id)
    return organisation_document_review(
        document=document,
        actor=actor,
        decision=decision,
        note=note,
        reviewer_hub_id=hub.pk,
        reviewer_label=hub.name_zh,
    )


def partner_document_link(*, partnership: Partnership, document_id: int, user: User) -> str:
    """A short-lived download link for a partner's document, for this hub's staff."""
    hub = current_hub()
    document = _document(partnership=partnership, document_id=document_id)
    if not file_can_view(stored_file=document.file, user=user, viewer_hub_id=hub.pk, hub_allowed=True):
        raise ApplicationError(_("未找到该文件。"), code="not_found", status=404)
    return file_link(stored_file=document.file, ttl_seconds=300)


def verified_organisation_ids() -> QuerySet[Any]:
    """Ids of organisations whose every required kind of document is verified (by any hub or the platform), as a
    subquery for the directory's "verified" filter; the same rule as ``VerificationSummary.complete``."""
    return (
        OrganisationDocument.objects.filter(
            superseded_at__isnull=True, status=DocumentStatus.VERIFIED, kind__in=list(REQUIRED_KINDS)
        )
        .values("organisation_id")
        .annotate(kinds=Count("kind", distinct=True))
        .filter(kinds=len(REQUIRED_KINDS))
        .values("organisation_id")
    )
