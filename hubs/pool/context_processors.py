from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from hubs.pool.permissions import sees_pools


def pool_nav(request: HttpRequest) -> dict[str, Any]:
    """``hub_sees_pool`` for the navigation: the mutual-aid pages are linked only for the people who can see them
    (``permissions.sees_pools``). A callable, so a page that never shows the link never pays for the check."""
    user = getattr(request, "user", None)
    if getattr(request, "hub", None) is None or user is None or not user.is_authenticated:
        return {"hub_sees_pool": False}
    return {"hub_sees_pool": lambda: sees_pools(request)}
