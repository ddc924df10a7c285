"""The public discovery page and the saved-searches page."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from huoban.discovery.matching import saved_search_create
from huoban.discovery.models import SavedSearch
from huoban.discovery.params import search_params
from tests.discovery.conftest import drain, publish

pytestmark = pytest.mark.django_db
BASE = "huoban.localhost"


@pytest.fixture
def entries(hub_a, hub_b) -> None:
    for n in range(23):
        publish(
            hub_a if n % 2 else hub_b,
            title=f"社区居家养老服务项目 第{n}期",
            summary="为独居老人提供助餐、助浴和陪伴。",
            region_code="511802" if n % 2 else "330102",
            service_areas=["elderly"],
            amount=100_000 * n,
            deadline=timezone.localdate() + timedelta(days=n + 1),
        )
    publish(hub_a, kind="partner", title="武侯区留守儿童之家", region_code="510107", service_areas=["children"])
    drain()


def test_anyone_sees_highlighted_results_and_facet_links(client, entries):
    response = client.get("/discover/", {"q": "养老"}, HTTP_HOST=BASE)
    assert response.status_code == 200
    html = response.content.decode()
    assert "共 23 条结果" in html
    assert "社区居家<mark>养老</mark>服务项目" in html
    assert html.count('data-testid="hit"') == 20
    assert 'data-testid="load-more"' in html
    assert 'href="?q=%E5%85%BB%E8%80%81&amp;region=510000"' in html  # the province facet narrows the search
    assert "登录</a>后可以保存这个搜索" in html


def test_load_more_with_htmx_returns_only_the_next_hits(client, entries):
    first = client.get("/discover/", {"q": "养老", "sort": "deadline"}, HTTP_HOST=BASE).content.decode()
    next_url = re.search(r'hx-get="([^"]+)"', first).group(1).replace("&amp;", "&")  # type: ignore[union-attr]
    response = client.get("/discover/" + next_url, HTTP_HOST=BASE, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert "<html" not in html
    assert html.count('data-testid="hit"') == 3
    assert "第22期" in html and "第0期" not in html
    assert 'data-testid="load-more"' not in html


def test_filters_from_the_page_apply_in_yuan(client, entries):
    html = client.get("/discover/", {"amount_min": "15000", "amount_max": "20000"}, HTTP_HOST=BASE).content.decode()
    assert "共 6 条结果" in html  # 15,000–20,000 yuan: 第15–20期 (amounts are stored in fen)
    html = client.get("/discover/", {"region": "510000", "kind": "partner"}, HTTP_HOST=BASE).content.decode()
    assert "共 1 条结果" in html and "武侯区留守儿童之家" in html
    html = client.get("/discover/", {"region": "123"}, HTTP_HOST=BASE).content.decode()
    assert 'data-testid="discover-errors"' in html and "未知的地区代码：123。" in html


def test_the_page_speaks_english(client, entries):
    client.cookies["huoban_language"] = "en"
    html = client.get("/discover/", {"q": "养老"}, HTTP_HOST=BASE).content.decode()
    assert "Discover opportunities" in html
    assert "23 results" in html
    assert "Calls for proposals" in html


def test_a_signed_in_person_saves_the_current_search(client_for, cast_a, entries):
    client = client_for(cast_a.ngo_member)
    page = client.get("/discover/", {"q": "养老", "region": "510000"}).content.decode()
    assert 'data-testid="save-search-submit"' in page
    response = client.post(
        "/discover/saved/", {"name": "四川养老", "email_digest": "on", "search": "q=养老&region=510000"}
    )
    assert response.status_code == 302 and response["Location"] == "/discover/saved/"
    saved = SavedSearch.objects.get(user=cast_a.ngo_member)
    assert (saved.name, saved.params, saved.email_digest) == ("四川养老", {"query": "养老", "region": "510000"}, True)
    html = client.get("/discover/saved/").content.decode()
    assert "四川养老" in html and "“养老” · 四川省" in html
    assert 'href="/discover/?q=%E5%85%BB%E8%80%81&amp;region=510000"' in html


def test_saved_searches_are_listed_toggled_and_deleted_by_their_owner_only(client_for, cast_a, outsider):
    saved = saved_search_create(user=cast_a.ngo_member, name="养老", params=search_params(query="养老"))
    owner = client_for(cast_a.ngo_member)
    assert owner.post(f"/discover/saved/{saved.pk}/digest/", {"email_digest": "1"}).status_code == 302
    saved.refresh_from_db()
    assert saved.email_digest
    stranger = client_for(outsider)
    assert 'data-testid="saved-search"' not in stranger.get("/discover/saved/").content.decode()
    assert stranger.post(f"/discover/saved/{saved.pk}/delete/").status_code == 404
    assert stranger.post(f"/discover/saved/{saved.pk}/digest/", {"email_digest": "0"}).status_code == 404
    assert owner.post(f"/discover/saved/{saved.pk}/delete/").status_code == 302
    assert not SavedSearch.objects.exists()


def test_saved_searches_need_a_sign_in(client):
    response = client.get("/discover/saved/", HTTP_HOST=BASE)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert client.post("/discover/saved/", {"name": "x"}, HTTP_HOST=BASE).status_code == 302
    assert not SavedSearch.objects.exists()


def test_interests_set_on_the_page_bring_recommendations(client_for, cast_a, entries):
    client = client_for(cast_a.resident)
    assert 'data-testid="recommendations-empty"' in client.get("/discover/saved/").content.decode()
    response = client.post(
        "/discover/saved/interests/",
        {"service_areas": ["children"], "region_codes": "510107，511800", "amount_min": "", "amount_max": ""},
    )
    assert response.status_code == 302
    html = client.get("/discover/saved/").content.decode()
    assert "武侯区留守儿童之家" in html
    assert 'value="510107 511800"' in html
