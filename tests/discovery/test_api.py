"""GET /api/v1/discover (anyone) and the signed-in person's saved searches, interests and recommendations."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from huoban.discovery.models import SavedSearch
from tests.discovery.conftest import drain, publish

pytestmark = pytest.mark.django_db


@pytest.fixture
def entries(hub_a, hub_b) -> None:
    soon = timezone.localdate() + timedelta(days=10)
    publish(
        hub_a, title="雅安市农村留守儿童关爱项目征集", region_code="511800", service_areas=["children"], deadline=soon
    )
    publish(hub_a, kind="partner", title="武侯区社工服务中心", region_code="510107", service_areas=["elderly"])
    publish(hub_b, title="上城区困境儿童心理支持", region_code="330102", service_areas=["children"], amount=3_000_000)
    drain()


def test_anyone_can_search_every_hub(client, entries):
    response = client.get("/api/v1/discover", {"query": "儿童", "sort": "deadline"}, HTTP_HOST="huoban.localhost")
    assert response.status_code == 200
    body = response.json()
    assert body["total"] == 2 and body["match"] == "full_text" and body["next_cursor"] is None
    first = body["results"][0]
    assert first["entry"]["title"] == "雅安市农村留守儿童关爱项目征集"
    assert first["entry"]["region_name"] == "四川省 雅安市"
    assert first["entry"]["kind_label"] == "项目征集"
    assert first["entry"]["url"].startswith("http://sichuan.huoban.localhost")
    assert first["title_html"] == "雅安市农村留守<mark>儿童</mark>关爱项目征集"
    assert {f["value"]: f["count"] for f in body["facets"]["province"]} == {"510000": 1, "330000": 1}
    assert set(first["entry"]) >= {"hub", "amount", "currency", "deadline", "service_areas", "status"}


def test_filters_repeat_or_use_commas_and_pages_carry_a_cursor(client, entries, hub_b):
    base = {"HTTP_HOST": "huoban.localhost"}
    body = client.get("/api/v1/discover?kinds=call,partner&service_areas=children&service_areas=elderly", **base).json()
    assert body["total"] == 3
    body = client.get("/api/v1/discover", {"hub_ids": hub_b.pk, "amount_min": 1_000_000}, **base).json()
    assert [r["entry"]["title"] for r in body["results"]] == ["上城区困境儿童心理支持"]
    first = client.get("/api/v1/discover", {"query": "儿童", "limit": 1}, **base).json()
    second = client.get(
        "/api/v1/discover", {"query": "儿童", "limit": 1, "cursor": first["next_cursor"]}, **base
    ).json()
    assert second["facets"] is None and second["total"] is None
    assert {first["results"][0]["entry"]["id"], second["results"][0]["entry"]["id"]} == {
        r["entry"]["id"] for r in client.get("/api/v1/discover", {"query": "儿童"}, **base).json()["results"]
    }


@pytest.mark.parametrize(
    ("params", "code", "field"),
    [
        ({"kinds": "secret"}, "invalid", "kinds"),
        ({"limit": 1000}, "invalid", "limit"),
        ({"amount_min": "lots"}, "invalid", "amount_min"),
        ({"region": "999999"}, "invalid_search", "region"),
        ({"amount_min": 5, "amount_max": 1}, "invalid_search", "amount_min"),
        ({"cursor": "forged"}, "invalid_cursor", "cursor"),
    ],
)
def test_bad_parameters_get_the_one_error_body(client, params, code, field):
    response = client.get("/api/v1/discover", params, HTTP_HOST="huoban.localhost")
    assert response.status_code == 400
    body = response.json()
    assert set(body) == {"code", "message", "extra"}
    assert body["code"] == code
    assert field in body["extra"].get("fields", {}) or body["extra"].get("field") == field


def test_the_schema_documents_the_discovery_endpoints(client, operator):
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator(urlconf="huoban.urls_public").get_schema(request=None, public=True)
    operations = {op["operationId"] for path in schema["paths"].values() for op in path.values()}
    assert {
        "discover_search",
        "discover_saved_list",
        "discover_saved_create",
        "discover_saved_update",
        "discover_saved_delete",
        "discover_interests_set",
        "discover_recommendations",
    } <= operations


# --- saved searches ---------------------------------------------------------------------------------------------


def test_a_member_saves_lists_renames_and_deletes_searches(client_for, cast_a):
    client = client_for(cast_a.ngo_member)
    response = client.post(
        "/api/v1/discover/saved",
        {"name": "雅安留守儿童", "params": {"query": "留守儿童", "region": "511800"}, "email_digest": True},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    saved = response.json()
    assert saved["params"] == {"query": "留守儿童", "region": "511800"}
    assert saved["url"] == "http://huoban.localhost:8000/discover/?q=%E7%95%99%E5%AE%88%E5%84%BF%E7%AB%A5&region=511800"
    assert [s["name"] for s in client.get("/api/v1/discover/saved").json()] == ["雅安留守儿童"]
    response = client.patch(
        f"/api/v1/discover/saved/{saved['id']}", {"email_digest": False}, content_type="application/json"
    )
    assert response.json()["email_digest"] is False
    assert client.delete(f"/api/v1/discover/saved/{saved['id']}").status_code == 204
    assert not SavedSearch.objects.exists()


def test_saved_search_parameters_are_checked(client_for, cast_a):
    response = client_for(cast_a.ngo_member).post(
        "/api/v1/discover/saved", {"name": "x", "params": {"region": "999999"}}, content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_search"


def test_another_persons_saved_search_answers_404(client_for, cast_a, outsider):
    from huoban.discovery.matching import saved_search_create
    from huoban.discovery.params import search_params

    saved = saved_search_create(user=cast_a.ngo_member, name="mine", params=search_params(query="养老"))
    client = client_for(outsider)
    assert client.get(f"/api/v1/discover/saved/{saved.pk}").status_code == 404
    assert client.delete(f"/api/v1/discover/saved/{saved.pk}").status_code == 404
    assert client.get("/api/v1/discover/saved").json() == []
    assert SavedSearch.objects.filter(pk=saved.pk).exists()


def test_saved_searches_need_a_sign_in(client):
    response = client.get("/api/v1/discover/saved", HTTP_HOST="huoban.localhost")
    assert response.status_code in (401, 403)
    assert response.json()["code"] == "not_authenticated"


# --- interests and recommendations ------------------------------------------------------------------------------


def test_interests_drive_recommendations(client_for, cast_a, entries):
    client = client_for(cast_a.resident)
    assert client.get("/api/v1/discover/recommendations").json() == []  # nothing known about them yet
    response = client.put(
        "/api/v1/discover/interests",
        {"service_areas": ["children"], "region_codes": ["511802"], "amount_min": None},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    assert client.get("/api/v1/discover/interests").json()["region_codes"] == ["511802"]
    titles = [r["entry"]["title"] for r in client.get("/api/v1/discover/recommendations").json()]
    # both are about children; the first is in 雅安市, which encloses the person's district
    assert titles == ["雅安市农村留守儿童关爱项目征集", "上城区困境儿童心理支持"]
    response = client.put("/api/v1/discover/interests", {"region_codes": ["999999"]}, content_type="application/json")
    assert response.status_code == 400 and response.json()["code"] == "invalid_region"


def test_search_is_rate_limited_per_client(client, settings):
    settings.HUOBAN_DISCOVER_API_RATE = "3/min"
    settings.HUOBAN_DISCOVER_RATE = "3/m"
    for _ in range(3):
        assert client.get("/api/v1/discover", HTTP_HOST="huoban.localhost").status_code == 200
    response = client.get("/api/v1/discover", HTTP_HOST="huoban.localhost")
    assert response.status_code == 429
    assert response.json()["code"] == "throttled"
    for _ in range(3):
        assert client.get("/discover/", HTTP_HOST="huoban.localhost").status_code == 200
    assert client.get("/discover/", HTTP_HOST="huoban.localhost").status_code == 429
