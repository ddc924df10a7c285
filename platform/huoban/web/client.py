"""The client's address, the one rule every limit and flag uses.

Without a proxy it is ``REMOTE_ADDR``. Behind ``HUOBAN_PROXY_COUNT`` trusted proxies (``HUOBAN_BEHIND_PROXY``
means one) it is the entry of ``X-Forwarded-For`` that the outermost trusted proxy appended: entries further left
are whatever the client sent and are never trusted. The same rule as DRF's ``NUM_PROXIES``, which the discovery
API's throttle uses.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    remote = str(request.META.get("REMOTE_ADDR", "") or "")
    proxies = int(getattr(settings, "REST_FRAMEWORK", {}).get("NUM_PROXIES") or 0)
    if proxies <= 0:
        return remote
    entries = [e.strip() for e in str(request.META.get("HTTP_X_FORWARDED_FOR", "")).split(",") if e.strip()]
    if not entries:
        return remote
    candidate = entries[-min(proxies, len(entries))]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:  # a proxy that forwards garbage: fall back to the connection's address
        return remote
