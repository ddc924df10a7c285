"""Who may see a hub's billing: its hub admins, decided from the public index of hub roles (``HubAccess``).

Billing cannot use ``hubs.core.permissions`` (the layers keep billing and hubs apart), so the same rules are
written once here, for pages and the API alike:
- not on a hub host → 404;
- signed out → sign in (401 for the API, a redirect for pages);
- no role in this hub (an outsider, e.g. another hub's admin) → 404;
- a role, but not hub admin → 403;
- with HUOBAN_REQUIRE_2FA_FOR_ADMINS, a session without a verified second factor → two-factor first.
``HubAccess`` is written in the same transaction as each membership, so it answers like the membership itself.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, permissions
from rest_framework.request import Request
from rest_framework.views import APIView

from tenants.models import HubAccess, HubRole

ALLOW, LOGIN, NOT_FOUND, FORBIDDEN, TWO_FACTOR = "allow", "login", "not_found", "forbidden", "two_factor"


def hub_admin_decide(request: HttpRequest) -> str:
    hub = getattr(request, "hub", None)
    if hub is None:
        return NOT_FOUND
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return LOGIN
    roles = HubAccess.objects.filter(hub=hub, user=user).values_list("roles", flat=True).first()
    if roles is None:
        return NOT_FOUND
    if HubRole.HUB_ADMIN not in roles:
        return FORBIDDEN
    if settings.HUOBAN_REQUIRE_2FA_FOR_ADMINS and not user.is_verified():
        return TWO_FACTOR
    return ALLOW


def hub_admin_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Pages: ``@hub_admin_required``."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        decision = hub_admin_decide(request)
        if decision == ALLOW:
            return view(request, *args, **kwargs)
        if decision == LOGIN:
            return redirect_to_login(request.build_absolute_uri(), f"{settings.HUOBAN_SITE_URL}/accounts/login/")
        if decision == NOT_FOUND:
            raise Http404
        if decision == TWO_FACTOR:
            return redirect_to_login(request.build_absolute_uri(), f"{settings.HUOBAN_SITE_URL}/accounts/two-factor/")
        raise PermissionDenied(_("只有枢纽管理员可以查看套餐与账单。"))

    wrapped.hub_roles = frozenset({HubRole.HUB_ADMIN})  # type: ignore[attr-defined]
    return wrapped


class IsHubAdmin(permissions.BasePermission):
    """API: the hub admins of the request's hub."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        decision = hub_admin_decide(request)
        if decision == ALLOW:
            return True
        if decision == LOGIN:
            raise exceptions.NotAuthenticated()
        if decision == NOT_FOUND:
            raise exceptions.NotFound()
        if decision == TWO_FACTOR:
            raise exceptions.PermissionDenied(_("此操作需要先完成两步验证。"), code="two_factor_required")
        raise exceptions.PermissionDenied(_("只有枢纽管理员可以查看套餐与账单。"), code="role_required")
