"""Who does what in the needs app, on top of hubs.core.permissions.

Residents need no hub role: they are identified by a phone verified with an SMS code (kept in the session) or by
their account. Funders act for an organisation they manage; staff may act on any partner's behalf."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from rest_framework import exceptions, permissions
from rest_framework.request import Request
from rest_framework.views import APIView

from hubs.core.models import STAFF_ROLES
from hubs.core.permissions import request_membership
from hubs.needs.models import Resident
from huoban.identity.models import OrganisationMember, OrganisationRole

SESSION_RESIDENT = "needs_resident_id"


class OnHub(permissions.BasePermission):
    """Anyone on a hub host (residents post without a role or an account)."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        if getattr(request, "hub", None) is None:
            raise exceptions.NotFound()
        return True


def request_resident(request: HttpRequest) -> Resident | None:
    """The verified resident behind this request: the session's verified phone for this hub, else the account."""
    from hubs.needs.services import resident_for_user

    key = f"{SESSION_RESIDENT}:{getattr(request, 'hub', None) and request.hub.pk}"  # type: ignore[attr-defined]
    resident_id = request.session.get(key) if hasattr(request, "session") else None
    if resident_id:
        resident = Resident.objects.filter(pk=resident_id).first()
        if resident is not None:
            return resident
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return resident_for_user(user=user)
    return None


def remember_resident(request: HttpRequest, resident: Resident) -> None:
    request.session[f"{SESSION_RESIDENT}:{request.hub.pk}"] = resident.pk  # type: ignore[attr-defined]


def is_staff(request: HttpRequest) -> bool:
    membership = request_membership(request)
    return bool(membership and membership.has_any(STAFF_ROLES))


def can_claim_for(request: HttpRequest, funder_id: int) -> bool:
    """Staff claim on any partner's behalf; otherwise the user must manage the funder organisation."""
    if is_staff(request):
        return True
    user: Any = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return False
    return OrganisationMember.objects.filter(
        user=user, organisation_id=funder_id, role__in=[OrganisationRole.OWNER, OrganisationRole.ADMIN]
    ).exists()


def managed_funders(request: HttpRequest) -> list[int]:
    user: Any = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return []
    return list(
        OrganisationMember.objects.filter(
            user=user, role__in=[OrganisationRole.OWNER, OrganisationRole.ADMIN]
        ).values_list("organisation_id", flat=True)
    )
