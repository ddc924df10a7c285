"""Who sees billing: a hub's admins on its host; an outsider gets 404, a weaker role 403, nobody signed in is sent
to sign in; operators on the base domain. Every billing URL is walked, so new ones are covered."""

from __future__ import annotations

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

pytestmark = pytest.mark.django_db

METHODS = ["get", "post", "put", "patch", "delete"]


def _walk(patterns, prefix=""):  # type: ignore[no-untyped-def]
    for entry in patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from _walk(entry.url_patterns, route)
        elif isinstance(entry, URLPattern):
            yield route, entry.callback


def _billing_routes(urlconf: str) -> list[tuple[str, object]]:
    routes = []
    for route, callback in _walk(get_resolver(urlconf).url_patterns):
        view_class = getattr(callback, "view_class", None) or getattr(callback, "cls", None)
        if (view_class or callback).__module__.startswith("billing."):  # type: ignore[union-attr]
            routes.append((route, callback))
    return routes


def _path(route: str) -> str:
    path = re.sub(r"<int:\w+>", "1", route)
    path = re.sub(r"<(?:str|slug):\w+>", "sichuan", path)
    return "/" + path


def _is_public(callback: object) -> bool:
    view_class = getattr(callback, "view_class", None) or getattr(callback, "cls", None)
    return bool(getattr(view_class, "hub_public", False))


def test_outsiders_get_404_and_strangers_are_sent_to_sign_in_on_every_billing_url(client_for, hub_a, outsider, cast_a):
    routes = _billing_routes("huoban.urls_hub")
    assert len(routes) >= 12
    outsider_client = client_for(outsider, hub_a)
    anonymous = client_for(None, hub_a)
    private = [cast_a.hub_admin.email, cast_a.staff.email]
    for route, callback in routes:
        if _is_public(callback):
            continue
        path = _path(route)
        for method in METHODS:
            response = getattr(outsider_client, method)(path)
            assert response.status_code == 404, f"outsider {method} {path} → {response.status_code}"
            assert not any(m in response.content.decode(errors="replace") for m in private)
            anon = getattr(anonymous, method)(path)
            assert anon.status_code in (302, 401, 403), f"anonymous {method} {path} → {anon.status_code}"


@pytest.mark.parametrize("role", ["staff", "reviewer", "treasurer"])
def test_members_without_the_hub_admin_role_get_403(client_for, hub_a, cast_a, role):
    client = client_for(getattr(cast_a, role), hub_a)
    assert client.get("/billing/").status_code == 403
    api = client.get("/api/v1/billing")
    assert api.status_code == 403 and api.json()["code"] == "role_required"
    assert client.post("/api/v1/billing/plan", {"plan": "standard"}, content_type="application/json").status_code == 403


def test_the_hub_admin_sees_only_their_own_hubs_billing(client_for, hub_a, hub_b, cast_a):
    client = client_for(cast_a.hub_admin, hub_a)
    assert client.get("/billing/").status_code == 200
    assert client.get("/api/v1/billing").status_code == 200
    assert client_for(cast_a.hub_admin, hub_b).get("/billing/").status_code == 404


def test_the_plan_catalogue_is_public(client_for, hub_a):
    plans = client_for(None, hub_a).get("/api/v1/billing/plans").json()
    assert [p["code"] for p in plans] == ["free", "standard", "provincial"]
    standard = plans[1]
    assert (standard["seat_price_fen"], standard["currency"]) == (19_900, "cny")
    assert standard["name_zh"] == "标准版" and standard["name_en"] == "Standard"


def test_billing_pages_are_not_on_the_base_domain_and_console_is_for_operators(client_for, cast_a, operator):
    assert client_for(cast_a.hub_admin).get("/billing/").status_code == 404
    assert client_for(cast_a.hub_admin).get("/console/billing/").status_code == 404
    assert client_for(None).get("/console/billing/").status_code == 302
    assert client_for(cast_a.hub_admin).get("/api/v1/operator/billing/hubs").status_code == 404
    assert client_for(operator).get("/console/billing/").status_code == 200
    assert client_for(operator).get("/console/billing/sichuan/").status_code == 200
