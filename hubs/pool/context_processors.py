from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from hubs.core.permissions import request_membership
from hubs.partners.models import Partnership, PartnershipStatus
from huoban.identity.models import OrganisationMember


def pool_nav(request: HttpRequest) -> dict[str, Any]:
    """``hub_sees_pool`` for the navigation: the mutual-aid pages are linked only for the people who can see them
    (the hub's members and the people of its active partner organisations; ``permissions.PoolAccess.sees``).
    A callable, so a page that never shows the link never pays for the check."""
    user = getattr(request, "user", None)
    if getattr(request, "hub", None) is None or user is None or not user.is_authenticated:
        return {"hub_sees_pool": False}

    def sees() -> bool:
        if request_membership(request) is not None:
            return True
        organisations = OrganisationMember.objects.filter(user_id=user.pk).values("organisation_id")
        return Partnership.objects.filter(organisation_id__in=organisations, status=PartnershipStatus.ACTIVE).exists()

    return {"hub_sees_pool": sees}
