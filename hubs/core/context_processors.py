from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from hubs.core.permissions import request_membership


def hub_membership(request: HttpRequest) -> dict[str, Any]:
    membership = request_membership(request) if getattr(request, "hub", None) is not None else None
    return {
        "hub_membership": membership,
        "hub_is_staff": bool(membership and membership.has_any({"hub_admin", "staff"})),
        "hub_is_admin": bool(membership and "hub_admin" in membership.roles),
    }
