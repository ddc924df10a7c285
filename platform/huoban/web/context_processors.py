from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest


def huoban(request: HttpRequest) -> dict[str, Any]:
    return {
        "site_url": settings.HUOBAN_SITE_URL,
        "hub": getattr(request, "hub", None),
        "login_url": f"{settings.HUOBAN_SITE_URL}/accounts/login/",
    }
