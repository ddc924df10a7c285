"""The one place that decides who may see and do what inside a hub.

Every hub view states the roles it needs; this module answers for all of them:
- not on a hub host → 404;
- a view marked public → anyone;
- signed out → sign in (401 for the API, a redirect for pages);
- signed in without any role in this hub (an outsider, e.g. from another hub) → 404: nothing private of this hub
  is even confirmed to exist;
- a member without one of the needed roles → 403.
Feature views subclass ``HubAPIView`` / use ``hub_view`` and cannot forget the checks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, generics, permissions
from rest_framework.request import Request
from rest_framework.views import APIView

from hubs.core.models import STAFF_ROLES, HubMembership
from tenants.models import HubRole

ANY_MEMBER: frozenset[str] = frozenset(HubRole.values)
STAFF: frozenset[str] = frozenset(STAFF_ROLES)
HUB_ADMIN: frozenset[str] = frozenset({HubRole.HUB_ADMIN})


def request_membership(request: HttpRequest) -> HubMembership | None:
    """The signed-in user's membership in the request's hub, loaded once per request."""
    if hasattr(request, "_hub_membership"):
        cached: HubMembership | None = request._hub_membership
        return cached
    membership = None
    user = getattr(request, "user", None)
    if getattr(request, "hub", None) is not None and user is not None and user.is_authenticated:
        membership = HubMembership.objects.filter(user=user).first()
    request._hub_membership = membership  # type: ignore[attr-defined]
    return membership


def two_factor_missing(request: HttpRequest, roles: Iterable[str]) -> bool:
    """With HUOBAN_REQUIRE_2FA_FOR_ADMINS, hub-admin work needs a session verified by a second factor."""
    if not settings.HUOBAN_REQUIRE_2FA_FOR_ADMINS or HubRole.HUB_ADMIN not in set(roles):
        return False
    membership = request_membership(request)
    if membership is None or HubRole.HUB_ADMIN not in membership.roles:
        return False
    return not request.user.is_verified()  # type: ignore[union-attr]


class Decision:
    ALLOW = "allow"
    LOGIN = "login"
    NOT_FOUND = "not_found"
    FORBIDDEN = "forbidden"
    TWO_FACTOR = "two_factor"


def hub_access_decide(request: HttpRequest, *, roles: Iterable[str] | None, public: bool = False) -> str:
    if getattr(request, "hub", None) is None:
        return Decision.NOT_FOUND
    if public:
        return Decision.ALLOW
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return Decision.LOGIN
    membership = request_membership(request)
    if membership is None:
        return Decision.NOT_FOUND
    needed = frozenset(roles or ANY_MEMBER)
    if not membership.has_any(needed):
        return Decision.FORBIDDEN
    if two_factor_missing(request, needed):
        return Decision.TWO_FACTOR
    return Decision.ALLOW


class HubRolePermission(permissions.BasePermission):
    """DRF side of ``hub_access_decide``. Views declare ``hub_roles`` (reads) and optionally ``hub_write_roles``,
    or ``hub_public = True`` for pages anyone may read."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        write = request.method not in permissions.SAFE_METHODS
        public = getattr(view, "hub_public", False) and not write
        roles = getattr(view, "hub_write_roles", None) if write else None
        roles = roles or getattr(view, "hub_roles", None)
        decision = hub_access_decide(request, roles=roles, public=public)
        if decision == Decision.ALLOW:
            return True
        if decision == Decision.LOGIN:
            raise exceptions.NotAuthenticated()
        if decision == Decision.NOT_FOUND:
            raise exceptions.NotFound()
        if decision == Decision.TWO_FACTOR:
            raise exceptions.PermissionDenied(_("此操作需要先完成两步验证。"), code="two_factor_required")
        raise exceptions.PermissionDenied(_("您在本枢纽的角色不能进行此操作。"), code="role_required")


class HubAPIView(generics.GenericAPIView):
    """Base of every hub API view: membership and role checks come with it."""

    permission_classes = [HubRolePermission]
    hub_roles: frozenset[str] = ANY_MEMBER
    hub_write_roles: frozenset[str] | None = None
    hub_public = False

    @property
    def hub(self) -> Any:
        return self.request.hub  # type: ignore[attr-defined]

    @property
    def membership(self) -> HubMembership | None:
        return request_membership(self.request)


def hub_view(
    roles: Iterable[str] | None = None, *, public: bool = False
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Page-view side of ``hub_access_decide``: ``@hub_view(roles=STAFF)``."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            decision = hub_access_decide(request, roles=roles, public=public)
            if decision == Decision.ALLOW:
                return view(request, *args, **kwargs)
            if decision == Decision.LOGIN:
                return redirect_to_login(request.build_absolute_uri(), f"{settings.HUOBAN_SITE_URL}/accounts/login/")
            if decision == Decision.NOT_FOUND:
                raise Http404
            if decision == Decision.TWO_FACTOR:
                return redirect_to_login(
                    request.build_absolute_uri(), f"{settings.HUOBAN_SITE_URL}/accounts/two-factor/"
                )
            raise PermissionDenied(_("您在本枢纽的角色不能查看此页面。"))

        wrapped.hub_roles = frozenset(roles or ANY_MEMBER)  # type: ignore[attr-defined]
        wrapped.hub_public = public  # type: ignore[attr-defined]
        return wrapped

    return decorator
