from __future__ import annotations

from django.db.models import QuerySet

from huoban.identity.models import User
from tenants.models import Hub, HubAccess, HubStatus

PUBLIC_STATUSES = (HubStatus.ACTIVE, HubStatus.READ_ONLY)


def hub_list_public() -> QuerySet[Hub]:
    """Hubs anyone may see listed: open ones (active or read-only)."""
    return Hub.objects.filter(status__in=PUBLIC_STATUSES).order_by("slug")


def hub_list_all_hubs() -> QuerySet[Hub]:
    """Every hub with its usage, for operators."""
    return Hub.objects.select_related("usage").order_by("slug")


def user_hub_accesses(*, user: User) -> QuerySet[HubAccess]:
    return HubAccess.objects.filter(user=user).select_related("hub").order_by("hub__slug")
