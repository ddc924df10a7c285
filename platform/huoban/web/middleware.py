from __future__ import annotations

import re
import uuid
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import translation

from huoban import context

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


class RequestIdMiddleware:
    """Give every request an id (a well-formed incoming X-Request-ID is kept) for logs and audit events."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id  # type: ignore[attr-defined]
        token = context.request_id.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            context.request_id.reset(token)
        response["X-Request-ID"] = request_id
        return response


class LanguageMiddleware:
    """zh-hans unless the person chose otherwise (language cookie, then their profile); the browser's
    Accept-Language is deliberately not consulted, so the product opens in Chinese by default."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response
        self.supported = {code for code, _name in settings.LANGUAGES}

    def __call__(self, request: HttpRequest) -> HttpResponse:
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
        if chosen not in self.supported:
            chosen = request.GET.get("lang", "") if request.GET.get("lang", "") in self.supported else ""
        language = chosen or settings.LANGUAGE_CODE
        request.LANGUAGE_CODE = language
        # override() restores the thread's previous language afterwards, so one request's choice never leaks
        # into the next piece of work on the same thread (a task run in-process, a test).
        with translation.override(language):
            response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        return response


class BadInputMiddleware:
    """Refuse, with the one error body, query strings PostgreSQL could never store or compare: a NUL character in
    a filter would otherwise reach the database and fail there. (Form and serializer fields already refuse NUL.)"""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        queried = (item for key, values in request.GET.lists() for item in (key, *values))
        if "\x00" in request.path or any("\x00" in item for item in queried):
            from huoban.web.views import error_400

            return error_400(request)
        return self.get_response(request)


def content_security_policy() -> str:
    """``CONTENT_SECURITY_POLICY`` if set, else the default for this site's scheme, base domain and port."""
    if settings.CONTENT_SECURITY_POLICY:
        return str(settings.CONTENT_SECURITY_POLICY)
    scheme, base = settings.HUOBAN_URL_SCHEME, settings.HUOBAN_BASE_DOMAIN
    port = f":{settings.HUOBAN_URL_PORT}" if settings.HUOBAN_URL_PORT else ""
    return (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
        "font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'; frame-ancestors 'none'; "
        f"form-action 'self' {scheme}://{base}{port} {scheme}://*.{base}{port} https://checkout.stripe.com"
    )


class SecurityHeadersMiddleware:
    """Headers Django's SecurityMiddleware does not set: the Content-Security-Policy (``content_security_policy``;
    sent as Report-Only with ``HUOBAN_CSP_REPORT_ONLY``) and a Permissions-Policy. A response that sets its own
    policy (file downloads set a stricter one) keeps it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if "Content-Security-Policy" not in response:
            header = (
                "Content-Security-Policy-Report-Only" if settings.HUOBAN_CSP_REPORT_ONLY else "Content-Security-Policy"
            )
            response.headers.setdefault(header, content_security_policy())
        response.headers.setdefault("Permissions-Policy", settings.HUOBAN_PERMISSIONS_POLICY)
        return response
