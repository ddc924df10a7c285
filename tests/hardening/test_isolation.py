"""Isolation between hubs, from every side an attacker could come at it.

``tests/hubs/test_outsider_urls.py`` proves one outsider (hub B's admin) gets nothing from any hub A URL. This file
widens it: every role another hub can hand out, session and API-token sign-in, forged and odd Host headers, a hub's
custom domain, and the two places hubs share storage outside their schemas — the cache and the file store.
"""

from __future__ import annotations

import io

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client

from hubs.core.models import HubMembership
from huoban.identity.services import api_token_create
from huoban.storage import selectors as storage_selectors
from huoban.storage import services as storage
from tenants.models import Domain
from tests.hubs.test_outsider_urls import METHODS, _concrete, _is_public, _module, hub_routes
from tests.storage import samples

pytestmark = pytest.mark.django_db

ROLES = ["hub_admin", "staff", "reviewer", "ambassador", "committee", "treasurer", "ngo_member"]


def _private_hub_routes() -> list[str]:
    return [
        route for route, callback in hub_routes() if _module(callback).startswith("hubs.") and not _is_public(callback)
    ]


def _markers(cast) -> list[str]:  # type: ignore[no-untyped-def]
    return [cast.staff.email, cast.hub_admin.email, cast.reviewer.email, cast.treasurer.email]


def _walk_private(client: Client, pk: int, markers: list[str], who: str, methods: list[str]) -> int:
    checked = 0
    for route in _private_hub_routes():
        path = _concrete(route, pk)
        for method in methods:
            call = getattr(client, method)
            response = call(path) if method == "get" else call(path, content_type="application/json")
            body = response.content.decode(errors="replace")
            assert response.status_code == 404, f"{who}: {method} {path} → {response.status_code}"
            assert not any(marker in body for marker in markers), f"{who}: {method} {path} leaks member data"
            checked += 1
    return checked


@pytest.mark.parametrize("role", ROLES)
def test_every_role_of_another_hub_gets_404_from_every_private_url(role, client_for, hub_a, cast_a, cast_b):
    """Hub B's people, whatever B made them, are strangers in hub A: 404 for every private URL.

    Reading and writing (GET, POST) for every role; B's admin tries every method in tests/hubs/test_outsider_urls.py.
    """
    with hub_a:
        pk = HubMembership.objects.get(user=cast_a.staff).pk
    checked = _walk_private(client_for(getattr(cast_b, role), hub_a), pk, _markers(cast_a), role, ["get", "post"])
    assert checked >= 100 * 2


def test_an_api_token_of_another_hub_opens_nothing(hub_a, hub_b, cast_a, cast_b):
    """A bearer token is the person, not a hub: B's staff token works in B and is a stranger's in A."""
    secret = api_token_create(user=cast_b.staff, name="isolation").secret
    in_b = Client(HTTP_HOST=hub_b.host, HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert in_b.get("/api/v1/hub/members").status_code == 200
    in_a = Client(HTTP_HOST=hub_a.host, HTTP_AUTHORIZATION=f"Bearer {secret}")
    with hub_a:
        pk = HubMembership.objects.get(user=cast_a.staff).pk
    api_routes = [r for r in _private_hub_routes() if r.startswith("api/")]
    assert api_routes
    for route in api_routes:
        path = _concrete(route, pk)
        for method in METHODS:
            response = getattr(in_a, method)(path, content_type="application/json")
            assert response.status_code == 404, f"token: {method} {path} → {response.status_code}"
            assert response.json()["code"] == "not_found"


@pytest.mark.parametrize(
    "host",
    [
        "evil.example",  # not ours at all
        "sichuan.evil.example",  # a hub's label under someone else's domain
        "x.sichuan.huoban.localhost",  # a deeper label under a hub
        "sichuan.huoban.localhost.",  # trailing dot: not a registered domain
        "sichuan-huoban.localhost",
        "sichuan.huoban.localhost@shangcheng.huoban.localhost",
    ],
)
def test_forged_or_unknown_hosts_reach_no_hub(host, cast_a):
    client = Client(HTTP_HOST=host)
    client.force_login(cast_a.staff)
    for path in ["/", "/api/v1/hub/members", "/partners/"]:
        response = client.get(path)
        assert response.status_code in (400, 404), f"{host}{path} → {response.status_code}"
        assert cast_a.staff.email not in response.content.decode(errors="replace")


def test_host_decides_the_hub_and_forwarded_host_headers_do_not(client_for, hub_a, hub_b, cast_b):
    """Only the Host header routes; X-Forwarded-Host (not trusted) cannot move a request into another hub."""
    client = client_for(cast_b.staff, hub_a)
    forged = client.get("/api/v1/hub/members", HTTP_X_FORWARDED_HOST=hub_b.host)
    assert forged.status_code == 404
    # the same person, honestly on B's host, sees B's members
    assert client_for(cast_b.staff, hub_b).get("/api/v1/hub/members").status_code == 200
    # letter case and a port do not make another hub either
    upper = Client(HTTP_HOST=hub_a.host.upper() + ":8000")
    upper.force_login(cast_b.staff)
    assert upper.get("/api/v1/hub/members").status_code == 404


def test_a_custom_domain_is_the_same_hub_with_the_same_walls(hub_a, cast_a, cast_b):
    Domain.objects.create(domain="gongyi.sichuan-centre.example", tenant=hub_a, is_primary=False)
    try:
        insider = Client(HTTP_HOST="gongyi.sichuan-centre.example")
        insider.force_login(cast_a.staff)
        assert insider.get("/api/v1/hub/members").status_code == 200
        stranger = Client(HTTP_HOST="gongyi.sichuan-centre.example")
        stranger.force_login(cast_b.hub_admin)
        refused = stranger.get("/api/v1/hub/members")
        assert refused.status_code == 404
        assert cast_a.staff.email not in refused.content.decode()
    finally:
        Domain.objects.filter(domain="gongyi.sichuan-centre.example").delete()


def test_cache_keys_are_per_hub(hub_a, hub_b):
    with hub_a:
        cache.set("isolation-probe", "sichuan secret")
        assert cache.get("isolation-probe") == "sichuan secret"
    with hub_b:
        assert cache.get("isolation-probe") is None
        cache.set("isolation-probe", "shangcheng")
    with hub_a:
        assert cache.get("isolation-probe") == "sichuan secret"
    connection.set_schema_to_public()
    assert cache.get("isolation-probe") is None


def test_a_hubs_files_stay_in_that_hub(client_for, hub_a, hub_b, cast_a, cast_b):
    """Object keys are namespaced by hub schema; no other hub, host or role gets a link or the bytes."""
    with hub_a:
        stored = storage.file_store(
            fileobj=io.BytesIO(samples.png()),
            original_name="site-visit.png",
            purpose="photo",
            uploaded_by=cast_a.staff,
            hub_id=hub_a.pk,
            hub_schema=hub_a.schema_name,
        )
        token_url = storage.file_link(stored_file=stored)
    try:
        assert stored.key.startswith(f"hubs/{hub_a.schema_name}/")
        # the rule itself: only hub A vouching for its own file
        for viewer in (hub_b.pk, None):
            assert not storage_selectors.file_can_view(
                stored_file=stored, user=cast_b.hub_admin, viewer_hub_id=viewer, hub_allowed=True
            )
        assert storage_selectors.file_can_view(
            stored_file=stored, user=cast_a.staff, viewer_hub_id=hub_a.pk, hub_allowed=True
        )
        # the platform link endpoint, on every host, for every role of hub B
        for host_hub in (hub_a, hub_b, None):
            for role in ROLES:
                response = client_for(getattr(cast_b, role), host_hub).post(f"/api/v1/files/{stored.pk}/link")
                assert response.status_code == 404, (host_hub, role, response.status_code)
        # a download link issued on hub A's host is dead on hub B's host and on the public site
        if token_url.startswith("/files/"):
            token = token_url.split("/")[2]
            assert storage.file_link_verify(token=token, schema=hub_b.schema_name) is None
            assert storage.file_link_verify(token=token, schema="public") is None
            assert client_for(cast_b.hub_admin, hub_b).get(token_url).status_code == 404
            assert client_for(cast_b.hub_admin, None).get(token_url).status_code == 404
            assert client_for(None, hub_a).get(token_url).status_code == 200  # the link itself is the permission
    finally:
        with hub_a:
            storage.file_delete(stored_file=stored, actor=None)


def test_a_host_header_that_is_no_host_name_gets_a_translated_400():
    page = Client(HTTP_HOST="a b@c").get("/partners/")
    assert page.status_code == 400 and "主机名无效" in page.content.decode()
    api = Client(HTTP_HOST="a b@c").get("/api/v1/hub", HTTP_COOKIE="huoban_language=en")
    assert api.status_code == 400
    assert api.json() == {"code": "bad_host", "message": "The host name of this request is not valid.", "extra": {}}
