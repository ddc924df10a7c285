"""Host routing and hub status.

``HubRoutingMiddleware`` runs first: the base domain is the public site (public schema, public URLconf); a host in
the Domain table is that hub (its schema, the hub URLconf); any other host gets a 404 page before any view runs.
``HubStatusMiddleware`` runs after authentication and language: a hub being set up or suspended answers 503, an
archived one 410, and a read-only one refuses writes with 423, each with a translated explanation.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.response import TemplateResponse
from django.urls import set_urlconf
from django.utils.translation import gettext as _

from huoban.db import connection
from tenants.models import Domain, Hub, HubStatus

SAFE_METHODS = {"GET", "HEAD", "OPTIONS", "TRACE"}


def request_hostname(request: HttpRequest) -> str:
    host = request.get_host().lower()
    if host.startswith("["):  # IPv6 literal
        return host.split("]")[0] + "]"
    return host.rsplit(":", 1)[0] if ":" in host else host


_HOSTS: dict[str, tuple[float, Hub | None]] = {}  # host name -> (expires at, its hub or None); this process only
_HOSTS_MAX = 10_000


def hub_for_host(hostname: str) -> Hub | None:
    """The hub a host name serves (a copy the request may change), or None for an unknown host.

    Every request of every hub asks, so answers are kept in this process for ``HUOBAN_HOST_CACHE_SECONDS`` (5;
    0 turns it off), unknown hosts included. A hub or domain saved or deleted in this process empties the cache
    at once (``host_cache_clear``, connected in ``tenants.apps``); other processes see the change within those
    seconds - a hub suspended or a custom domain moved takes effect everywhere within five seconds."""
    ttl = float(getattr(settings, "HUOBAN_HOST_CACHE_SECONDS", 5))
    now = time.monotonic()
    cached = _HOSTS.get(hostname)
    if cached is not None and cached[0] > now:
        return copy.copy(cached[1]) if cached[1] is not None else None
    domain = Domain.objects.select_related("tenant").filter(domain=hostname).first()
    hub: Hub | None = domain.tenant if domain is not None else None
    if ttl > 0:
        if len(_HOSTS) >= _HOSTS_MAX:  # a flood of made-up host names cannot grow it without bound
            _HOSTS.clear()
        _HOSTS[hostname] = (now + ttl, hub)
    return copy.copy(hub) if hub is not None else None


def host_cache_clear(**_kwargs: object) -> None:
    _HOSTS.clear()


class HubRoutingMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        connection.set_schema_to_public()
        # request.tenant is set only on hub hosts: django-tenants' templates read "no tenant" as the public site.
        request.hub = None  # type: ignore[attr-defined]
        try:
            hostname = request_hostname(request)
        except DisallowedHost:
            return self._malformed_host(request)
        base = settings.HUOBAN_BASE_DOMAIN
        if hostname in (base, f"www.{base}"):
            request.urlconf = settings.PUBLIC_SCHEMA_URLCONF
            set_urlconf(request.urlconf)
            return self.get_response(request)
        hub = hub_for_host(hostname)
        if hub is None:
            return self._unknown_host(request, hostname)
        hub.domain_url = hostname
        request.hub = hub  # type: ignore[attr-defined]
        request.tenant = hub  # type: ignore[attr-defined]
        connection.set_tenant(hub)
        request.urlconf = settings.ROOT_URLCONF
        set_urlconf(request.urlconf)
        try:
            return self.get_response(request)
        finally:
            connection.set_schema_to_public()

    @staticmethod
    def _malformed_host(request: HttpRequest) -> HttpResponse:
        """A Host header that is not a host name at all: a plain 400, built without the host (pages and absolute
        links would ask for it again and fail)."""
        from django.utils import translation

        with translation.override(request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME) or settings.LANGUAGE_CODE):
            message = _("请求的主机名无效。")
        if request.path.startswith("/api/"):
            return JsonResponse({"code": "bad_host", "message": message, "extra": {}}, status=400)
        return HttpResponse(message, status=400, content_type="text/plain; charset=utf-8")

    def _unknown_host(self, request: HttpRequest, hostname: str) -> HttpResponse:
        request.urlconf = settings.PUBLIC_SCHEMA_URLCONF
        set_urlconf(request.urlconf)
        from django.utils import translation

        with translation.override(request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME) or settings.LANGUAGE_CODE):
            response = TemplateResponse(
                request,
                "web/unknown_host.html",
                {"hostname": hostname, "site_url": settings.HUOBAN_SITE_URL},
                status=404,
            )
            response.render()
        return response


class HubStatusMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        hub: Hub | None = getattr(request, "hub", None)
        if hub is None or hub.status == HubStatus.ACTIVE:
            return self.get_response(request)
        if hub.status == HubStatus.READ_ONLY:
            if request.method in SAFE_METHODS or request.path.startswith("/i18n/"):
                return self.get_response(request)
            return self._refuse(
                request,
                hub,
                423,
                "hub_read_only",
                _("该枢纽目前为只读状态，暂不能提交或修改内容。")
                + (f" {hub.status_reason}" if hub.status_reason else ""),
            )
        if hub.status == HubStatus.SUSPENDED:
            return self._refuse(
                request,
                hub,
                503,
                "hub_suspended",
                _("该枢纽已暂停服务：%(reason)s") % {"reason": hub.status_reason or _("请联系平台运营方。")},
            )
        if hub.status == HubStatus.ARCHIVED:
            return self._refuse(request, hub, 410, "hub_archived", _("该枢纽已归档，不再提供服务。"))
        return self._refuse(request, hub, 503, "hub_provisioning", _("该枢纽正在开通，请稍后再试。"))

    @staticmethod
    def _refuse(request: HttpRequest, hub: Hub, status: int, code: str, message: str) -> HttpResponse:
        response: HttpResponse
        if request.path.startswith("/api/"):
            response = JsonResponse({"code": code, "message": message, "extra": {"hub": hub.slug}}, status=status)
        else:
            response = TemplateResponse(
                request, "web/hub_unavailable.html", {"hub": hub, "message": message, "code": code}, status=status
            )
            response.render()
        if status == 503:
            response["Retry-After"] = "3600"
        return response
