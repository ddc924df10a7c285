from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, permissions
from rest_framework.request import Request
from rest_framework.views import APIView


def operator_two_factor_missing(user: object) -> bool:
    return bool(settings.HUOBAN_REQUIRE_2FA_FOR_ADMINS) and not user.is_verified()  # type: ignore[attr-defined]


class IsOperator(permissions.BasePermission):
    """Platform operators only; others get 404 (operator endpoints are not advertised to them)."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        user = request.user
        if not user or not user.is_authenticated:
            raise exceptions.NotAuthenticated()
        if not getattr(user, "is_operator", False):
            raise exceptions.NotFound()
        if operator_two_factor_missing(user) and request.auth is None:
            raise exceptions.PermissionDenied(_("运营操作需要先完成两步验证。"), code="two_factor_required")
        return True
