from __future__ import annotations

import sys

from django.db import InterfaceError, OperationalError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _


def livez(request: HttpRequest) -> JsonResponse:
    """Liveness: the process answers (no database involved, so a database outage does not restart pods)."""
    return JsonResponse({"status": "ok"})


def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness and readiness: answers 200 when the database answers."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:
        return JsonResponse({"status": "unavailable", "database": False}, status=503)
    return JsonResponse({"status": "ok", "database": True})


def ratelimited(request: HttpRequest, exception: Exception) -> HttpResponse:
    message = _("尝试次数过多，请稍后再试。")
    if request.path.startswith("/api/"):
        return JsonResponse({"code": "rate_limited", "message": message, "extra": {}}, status=429)
    return render(request, "web/message.html", {"title": _("请稍后再试"), "message": message}, status=429)


def error_400(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    message = _("请求格式不正确。")
    if request.path.startswith("/api/"):
        return JsonResponse({"code": "bad_request", "message": message, "extra": {}}, status=400)
    return render(request, "web/message.html", {"title": _("请求有误"), "message": message}, status=400)


def error_403(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    message = str(exception) if exception and str(exception) else _("您没有权限查看此页面。")
    if request.path.startswith("/api/"):
        return JsonResponse({"code": "permission_denied", "message": message, "extra": {}}, status=403)
    return render(request, "web/message.html", {"title": _("无权访问"), "message": message}, status=403)


def error_404(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    message = _("页面不存在。")
    if request.path.startswith("/api/"):
        return JsonResponse({"code": "not_found", "message": message, "extra": {}}, status=404)
    return render(request, "web/message.html", {"title": _("未找到"), "message": message}, status=404)


def _unreachable_errors() -> tuple[type[BaseException], ...]:
    errors: tuple[type[BaseException], ...] = (OperationalError, InterfaceError)
    try:
        from redis.exceptions import ConnectionError as RedisConnectionError
        from redis.exceptions import TimeoutError as RedisTimeoutError
    except ImportError:  # pragma: no cover - redis is a dependency
        return errors
    return (*errors, RedisConnectionError, RedisTimeoutError)


def _database_unreachable() -> bool:
    """Whether the exception being handled is a backing service going away: the database (refused, dropped,
    restarted) or Redis, which holds the cache and the rate-limit counters."""
    unreachable = _unreachable_errors()
    exc: BaseException | None = sys.exc_info()[1]
    while exc is not None:
        if isinstance(exc, unreachable):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def service_unavailable(request: HttpRequest) -> HttpResponse:
    """503 while the database (or Redis) cannot be reached: rendered without touching it (no session, no user, no
    hub), with Retry-After; the next request reconnects (CONN_HEALTH_CHECKS), so the site recovers by itself."""
    message = _("服务暂时不可用，请稍后再试。")
    if request.path.startswith("/api/"):
        response: HttpResponse = JsonResponse(
            {"code": "service_unavailable", "message": message, "extra": {}}, status=503
        )
    else:
        html = render_to_string(
            "web/service_unavailable.html",
            {"title": _("暂时无法访问"), "message": message, "language": translation.get_language()},
        )
        response = HttpResponse(html, status=503)
    response["Retry-After"] = "30"
    return response


def error_500(request: HttpRequest) -> HttpResponse:
    if _database_unreachable():
        return service_unavailable(request)
    message = _("服务器出错了，我们已记录下来。请稍后再试。")
    if request.path.startswith("/api/"):
        return JsonResponse({"code": "server_error", "message": message, "extra": {}}, status=500)
    return render(request, "web/message.html", {"title": _("出错了"), "message": message}, status=500)
