"""Writes on the public application index: only hub code, inside the transaction that changes the application."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import QuerySet

from tenants.applications.models import ApplicationIndex
from tenants.models import Hub


def application_index_record(
    *,
    hub: Hub,
    application_id: int,
    call_id: int,
    organisation_id: int,
    call_title: str,
    call_title_en: str = "",
    title: str = "",
    status: str,
    status_reason: str = "",
    requested_amount: int = 0,
    awarded_amount: int | None = None,
    closes_at: datetime | None = None,
    submitted_at: datetime | None = None,
    link_url: str = "",
) -> ApplicationIndex:
    """Create or update the row of one application of ``hub``. Call it in the transaction that changed the
    application, so the public page never shows a status that was rolled back."""
    defaults: dict[str, Any] = {
        "call_id": call_id,
        "organisation_id": organisation_id,
        "call_title": call_title[:200],
        "call_title_en": call_title_en[:200],
        "title": title[:200],
        "status": status,
        "status_reason": status_reason[:500],
        "requested_amount": requested_amount,
        "awarded_amount": awarded_amount,
        "closes_at": closes_at,
        "submitted_at": submitted_at,
        "link_url": link_url[:500],
    }
    row, _created = ApplicationIndex.objects.update_or_create(hub=hub, application_id=application_id, defaults=defaults)
    return row


def application_index_forget(*, hub: Hub, application_id: int) -> None:
    ApplicationIndex.objects.filter(hub=hub, application_id=application_id).delete()


def applications_of_user(*, user: Any) -> QuerySet[ApplicationIndex]:
    """Every application, in every active hub, of the organisations ``user`` belongs to (any role)."""
    return (
        ApplicationIndex.objects.filter(organisation__members__user=user, hub__status__in=["active", "read_only"])
        .select_related("hub", "organisation")
        .order_by("-updated_at", "-id")
    )
