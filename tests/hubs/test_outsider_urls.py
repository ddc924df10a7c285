"""Every URL of the hub URLconf, asked by an outsider from another hub, gives away nothing.

The list is read from the URLconf itself, so every view a later feature adds is covered without editing this file:
a hub view (from a ``hubs.*`` app) must answer an outsider 404 for every method unless it is marked public, and
public ones must not show any member's personal data. Platform views served on every host (``/api/v1/me``, sign-in
helpers, the schema) are about the caller, not the hub, and are listed separately.
"""

from __future__ import annotations

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from hubs.core.models import HubMembership

pytestmark = pytest.mark.django_db

METHODS = ["get", "post", "put", "patch", "delete"]


def _walk(patterns, prefix=""):  # type: ignore[no-untyped-def]
    for entry in patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from _walk(entry.url_patterns, route)
        elif isinstance(entry, URLPattern):
            yield route, entry.callback


def hub_routes() -> list[tuple[str, object]]:
    return list(_walk(get_resolver("huoban.urls_hub").url_patterns))


def _module(callback: object) -> str:
    view_class = getattr(callback, "view_class", None) or getattr(callback, "cls", None)
    return (view_class or callback).__module__  # type: ignore[union-attr]


def _is_public(callback: object) -> bool:
    view_class = getattr(callback, "view_class", None) or getattr(callback, "cls", None)
    return bool(getattr(view_class, "hub_public", False) or getattr(callback, "hub_public", False))


def _concrete(route: str, pk: int) -> str:
    path = re.sub(r"<int:\w+>", str(pk), route)
    path = re.sub(r"<(?:str|slug|path|uuid):\w+>|<\w+>", "not-a-real-token", path)
    return "/" + path.replace("^", "").replace("$", "")


def test_every_hub_view_is_declared_guarded_or_public():
    for route, callback in hub_routes():
        if not _module(callback).startswith("hubs."):
            continue
        view_class = getattr(callback, "view_class", None) or getattr(callback, "cls", None)
        guarded = hasattr(callback, "hub_roles") or (
            view_class is not None
            and any(p.__name__ == "HubRolePermission" for p in getattr(view_class, "permission_classes", []))
        )
        assert guarded, f"{route} is a hub view without the hub access checks"


def test_outsider_gets_nothing_from_any_hub_url(client_for, hub_a, cast_a, outsider):
    with hub_a:
        pk = HubMembership.objects.get(user=cast_a.staff).pk
    private_markers = [cast_a.staff.email, cast_a.hub_admin.email, cast_a.reviewer.email]
    client = client_for(outsider, hub_a)
    anonymous = client_for(None, hub_a)
    checked = 0
    for route, callback in hub_routes():
        if not _module(callback).startswith("hubs."):
            continue
        path = _concrete(route, pk)
        public = _is_public(callback)
        for method in METHODS:
            response = (
                getattr(client, method)(path, content_type="application/json") if method != "get" else client.get(path)
            )
            body = response.content.decode(errors="replace")
            assert not any(marker in body for marker in private_markers), f"{method} {path} leaks member data"
            if not public:
                assert response.status_code == 404, f"outsider {method} {path} → {response.status_code}"
                anon = getattr(anonymous, method)(path)
                assert anon.status_code in (302, 401, 404), f"anonymous {method} {path} → {anon.status_code}"
            checked += 1
    assert checked >= 5 * 4


def test_platform_views_on_a_hub_host_speak_only_of_the_caller(client_for, hub_a, outsider):
    client = client_for(outsider, hub_a)
    assert client.get("/api/v1/me").json()["email"] == outsider.email
    my_hubs = [row["hub"]["slug"] for row in client.get("/api/v1/me/hubs").json()]
    assert my_hubs == ["shangcheng"]
    assert client.get("/api/v1/operator/hubs").status_code == 404  # not an operator
