"""Searching the index: Chinese and English words, filters, facets, fallbacks, sorting and cursors."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from huoban.discovery.params import search_params
from huoban.discovery.selectors import discovery_search
from huoban.errors import ApplicationError
from tests.discovery.conftest import drain, publish

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


@pytest.fixture
def corpus(hub_a, hub_b) -> dict[str, int]:
    """Eight items in two hubs; returns their titles' short names → entry ids."""
    days = lambda n: TODAY + timedelta(days=n)  # noqa: E731
    items = {
        "留守": (
            hub_a,
            "call",
            "雅安市农村留守儿童关爱项目征集",
            "面向雅安市各区县社会组织。",
            "511800",
            ["children"],
            5_000_000,
            days(30),
        ),
        "养老": (
            hub_a,
            "project_seeking_funds",
            "雨城区社区居家养老服务",
            "为独居老人提供助餐助浴。",
            "511802",
            ["elderly"],
            20_000_000,
            days(10),
        ),
        "社工": (
            hub_a,
            "partner",
            "成都市武侯区社工服务中心",
            "提供心理健康和儿童服务，欢迎合作。",
            "510107",
            ["health", "children"],
            None,
            None,
        ),
        "english": (
            hub_a,
            "call",
            "Rural elderly care volunteers wanted",
            "Weekend visits to older people.",
            "510100",
            ["elderly", "volunteering"],
            None,
            days(5),
        ),
        "相亲会": (hub_a, "fair", "四川省公益项目相亲会", "", "510000", ["community"], None, days(60)),
        "困境": (
            hub_b,
            "call",
            "上城区困境儿童心理健康支持计划",
            "",
            "330102",
            ["children", "health"],
            3_000_000,
            days(20),
        ),
        "环保": (
            hub_b,
            "project_seeking_funds",
            "杭州市环保志愿服务队招募",
            "",
            "330100",
            ["environment", "volunteering"],
            800_000,
            None,
        ),
        "食堂": (hub_b, "funded_project", "上城区老年食堂（已资助）", "", "330102", ["elderly"], 10_000_000, None),
    }
    for key, (hub, kind, title, summary, region, areas, amount, deadline) in items.items():
        publish(
            hub,
            kind=kind,
            source=("test", key),
            title=title,
            summary=summary,
            region_code=region,
            service_areas=areas,
            amount=amount,
            deadline=deadline,
        )
    drain()
    from huoban.discovery.models import DiscoveryEntry

    return {e.source_id: e.pk for e in DiscoveryEntry.objects.all()}


def keys(result) -> list[str]:  # type: ignore[no-untyped-def]
    return [hit.entry.source_id for hit in result.hits]


def test_chinese_queries_find_segmented_words(corpus):
    assert keys(discovery_search(query="留守儿童")) == ["留守"]
    result = discovery_search(query="养老")
    assert keys(result)[0] == "养老"  # in the title: ranked first
    assert set(keys(result)) == {"养老", "english", "食堂"}  # the others are tagged 养老 (elderly)
    assert keys(discovery_search(query="社区居家养老")) == ["养老"]
    assert set(keys(discovery_search(query="心理健康 儿童"))) == {"困境", "社工"}
    # 雨城区 is in 雅安市: an entry's region, with its enclosing city and province, is searchable by name
    assert set(keys(discovery_search(query="雅安"))) == {"留守", "养老"}


def test_english_words_are_found_and_prefixes_match(corpus):
    assert keys(discovery_search(query="volunteers")) == ["english"]
    assert set(keys(discovery_search(query="Volunteer"))) == {"english", "环保"}  # the tag volunteering
    assert set(keys(discovery_search(query="elderly CARE"))) == {"english"}
    assert keys(discovery_search(query="养老 -食堂", sort="deadline")) == ["english", "养老"]


def test_highlights_are_on_the_original_text(corpus):
    hit = discovery_search(query="留守儿童").hits[0]
    assert str(hit.title_html) == "雅安市农村<mark>留守儿童</mark>关爱项目征集"
    hit = discovery_search(query="volunteers").hits[0]
    assert str(hit.title_html) == "Rural elderly care <mark>volunteers</mark> wanted"


def test_a_province_includes_its_cities_and_districts(corpus):
    assert set(keys(discovery_search(region="510000"))) == {"留守", "养老", "社工", "english", "相亲会"}
    assert set(keys(discovery_search(region="511800"))) == {"留守", "养老"}  # 雅安市 and its 雨城区
    assert set(keys(discovery_search(region="511802"))) == {"养老"}
    assert set(keys(discovery_search(region="330000"))) == {"困境", "环保", "食堂"}


def test_filters_combine(corpus, hub_b):
    assert set(keys(discovery_search(kinds=["call"]))) == {"留守", "english", "困境"}
    assert set(keys(discovery_search(service_areas=["health", "environment"]))) == {"社工", "困境", "环保"}
    assert set(keys(discovery_search(amount_min=3_000_000))) == {"留守", "养老", "困境", "食堂"}
    assert set(keys(discovery_search(amount_min=1_000_000, amount_max=5_000_000))) == {"留守", "困境"}
    assert set(keys(discovery_search(deadline_before=TODAY + timedelta(days=20)))) == {"养老", "english", "困境"}
    assert set(keys(discovery_search(hub_ids=[hub_b.pk], query="儿童"))) == {"困境"}


def test_facet_counts_are_exact_and_each_ignores_only_its_own_filter(corpus, hub_a, hub_b):
    result = discovery_search()
    assert result.total == 8
    counts = {name: {f.value: f.count for f in values} for name, values in result.facets.items()}
    assert counts["kind"] == {"call": 3, "project_seeking_funds": 2, "funded_project": 1, "partner": 1, "fair": 1}
    assert counts["province"] == {"510000": 5, "330000": 3}
    assert counts["service_area"] == {
        "children": 3,
        "elderly": 3,
        "health": 2,
        "volunteering": 2,
        "community": 1,
        "environment": 1,
    }
    assert counts["hub"] == {str(hub_a.pk): 5, str(hub_b.pk): 3}
    assert [f.label for f in result.facets["province"]] == ["四川省", "浙江省"]

    result = discovery_search(kinds=["call"], region="510000")
    assert result.total == 2
    counts = {name: {f.value: f.count for f in values} for name, values in result.facets.items()}
    assert counts["kind"] == {"call": 2, "project_seeking_funds": 1, "partner": 1, "fair": 1}  # in Sichuan
    assert counts["province"] == {"510000": 2, "330000": 1}  # calls
    assert counts["service_area"] == {"children": 1, "elderly": 1, "volunteering": 1}
    assert [f.selected for f in result.facets["kind"]] == [True, False, False, False]


def test_when_no_entry_has_every_word_similar_titles_then_any_word_are_tried(corpus):
    result = discovery_search(query="eldery care")  # a typo
    assert (result.match, keys(result)) == ("similar", ["english"])
    result = discovery_search(query="留守儿童 篮球")  # nothing has both
    assert result.match == "partial"
    assert keys(result)[0] == "留守"
    result = discovery_search(query="留守儿童")
    assert result.match == "full_text"
    assert discovery_search(query="").match == "all"


def test_deadline_sort_puts_the_soonest_first_and_none_last(corpus):
    order = keys(discovery_search(sort="deadline"))
    assert order[:5] == ["english", "养老", "困境", "留守", "相亲会"]
    assert set(order[5:]) == {"社工", "环保", "食堂"}  # no deadline: last, in id order
    assert order[5:] == sorted(order[5:], key=lambda k: corpus[k])


@pytest.mark.parametrize("sort", ["relevance", "deadline"])
def test_cursor_pages_are_stable_and_complete(hub_a, sort):
    for n in range(25):
        publish(
            hub_a,
            title=f"社区养老服务项目 第{n}期",
            summary="养老" * (n % 4),  # a few distinct ranks, many ties
            deadline=TODAY + timedelta(days=n % 7) if n % 5 else None,
        )
    drain()
    everything = keys(discovery_search(query="养老", sort=sort, limit=100))
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        result = discovery_search(query="养老", sort=sort, limit=10, cursor=cursor)
        seen += keys(result)
        pages += 1
        assert (result.total is None) == (cursor is not None)  # facets and total with the first page only
        cursor = result.next_cursor
        if cursor is None:
            break
    assert pages == 3
    assert seen == everything
    assert len(set(seen)) == 25


def test_a_cursor_only_works_for_its_own_search(corpus):
    first = discovery_search(query="儿童", limit=1)
    assert first.next_cursor
    with pytest.raises(ApplicationError) as exc:
        discovery_search(query="养老", limit=1, cursor=first.next_cursor)
    assert exc.value.code == "invalid_cursor"
    with pytest.raises(ApplicationError) as exc:
        discovery_search(query="儿童", limit=1, cursor=first.next_cursor[:-3] + "abc")
    assert exc.value.code == "invalid_cursor"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"kinds": ["secret"]}, "kinds"),
        ({"region": "999999"}, "region"),
        ({"service_areas": ["x"]}, "service_areas"),
        ({"amount_min": 5, "amount_max": 1}, "amount_min"),
        ({"amount_min": -1}, "amount_min"),
        ({"sort": "random"}, "sort"),
        ({"query": "长" * 201}, "query"),
    ],
)
def test_invalid_parameters_are_refused_naming_the_field(kwargs, field):
    with pytest.raises(ApplicationError) as exc:
        search_params(**kwargs)
    assert (exc.value.code, exc.value.extra["field"]) == ("invalid_search", field)
