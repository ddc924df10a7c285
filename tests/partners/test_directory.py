"""The staff directory (search, filters, sorting), statistics and the charts."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from hubs.partners import services
from hubs.partners.models import Partnership
from hubs.partners.selectors import DirectoryFilters, network_stats, partnership_list, trigram_available

pytestmark = pytest.mark.django_db


@pytest.fixture
def network(hub_a, cast_a, make_org):  # type: ignore[no-untyped-def]
    """Five partners across Sichuan, Chongqing and Zhejiang, of several kinds and states."""
    specs = [
        ("雅安市青少年成长服务中心", "511802", "social_organisation", ["youth", "education"], "active"),
        ("成都市武侯区助老服务中心", "510107", "social_organisation", ["elderly"], "active"),
        ("四川省青少年发展基金会", "510000", "foundation", ["youth"], "under_review"),
        ("重庆市渝中区社区基金会", "500103", "foundation", ["community"], "active"),
        ("杭州上城区邻里志愿队", "330102", "volunteer_team", ["volunteering"], "suspended"),
    ]
    made = {}
    with hub_a:
        for name, region, kind, areas, status in specs:
            initial = "under_review" if status == "under_review" else "active"
            if kind == "volunteer_team":  # no credit code: staff register the record
                data = services.organisation_data_check(name=name, kind=kind, region_code=region)
                p = services.partnership_staff_add(
                    actor=cast_a.staff, organisation_data=data, service_areas=areas, status=initial
                )
            else:
                org = make_org(cast_a.resident, name=name, region=region, kind=kind)
                p = services.partnership_staff_add(
                    actor=cast_a.staff, credit_code=org.credit_code, service_areas=areas, status=initial
                )
            if status == "suspended":
                p = services.partnership_suspend(partnership=p, actor=cast_a.staff, reason="整改")
            made[name] = p
    return made


def _names(hub, **filters) -> list[str]:  # type: ignore[no-untyped-def]
    with hub:
        return [p.organisation.name for p in partnership_list(filters=DirectoryFilters(**filters))]


def test_search_finds_chinese_names(hub_a, network):
    assert _names(hub_a, q="青少年", sort="name") == ["四川省青少年发展基金会", "雅安市青少年成长服务中心"]
    assert _names(hub_a, q="雅安 青少年") == ["雅安市青少年成长服务中心"]  # every word, in any place
    assert _names(hub_a, q="助老") == ["成都市武侯区助老服务中心"]
    assert _names(hub_a, q="养老院") == []


def test_fuzzy_search_with_pg_trgm(hub_a, network):
    assert trigram_available()  # the partners migration installed it in the public schema
    # a word missing from the middle: no substring match, found by trigram similarity
    assert "雅安市青少年成长服务中心" in _names(hub_a, q="雅安市青少年服务中心")


def test_search_by_credit_code(hub_a, network):
    code = network["成都市武侯区助老服务中心"].organisation.credit_code
    assert _names(hub_a, q=code.lower()) == ["成都市武侯区助老服务中心"]


def test_region_filter_includes_children(hub_a, network):
    sichuan = _names(hub_a, region="510000", sort="name")
    assert sichuan == ["四川省青少年发展基金会", "成都市武侯区助老服务中心", "雅安市青少年成长服务中心"]
    assert _names(hub_a, region="510100") == ["成都市武侯区助老服务中心"]  # Chengdu: Wuhou district
    assert _names(hub_a, region="511802") == ["雅安市青少年成长服务中心"]
    assert _names(hub_a, region="999999") == []


def test_filters_and_sorting(hub_a, network):
    assert _names(hub_a, kind="foundation", sort="name") == ["四川省青少年发展基金会", "重庆市渝中区社区基金会"]
    assert _names(hub_a, tag="youth", sort="name") == ["四川省青少年发展基金会", "雅安市青少年成长服务中心"]
    assert _names(hub_a, status="suspended") == ["杭州上城区邻里志愿队"]
    assert len(_names(hub_a, verified=False)) == 5 and _names(hub_a, verified=True) == []
    with hub_a:
        old = network["重庆市渝中区社区基金会"]
        Partnership.objects.filter(pk=old.pk).update(joined_at=timezone.now() - timedelta(days=400))
    assert _names(hub_a, sort="joined", status="active")[0] == "重庆市渝中区社区基金会"
    assert _names(hub_a, sort="-joined", status="active")[-1] == "重庆市渝中区社区基金会"


def test_directory_page_api_and_htmx_fragment(client_for, hub_a, cast_a, network):
    staff = client_for(cast_a.staff, hub_a)
    page = staff.get("/partners/", {"q": "青少年"}).content.decode()
    assert "雅安市青少年成长服务中心" in page and "成都市武侯区助老服务中心" not in page
    fragment = staff.get("/partners/", {"region": "510000"}, HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in fragment and "成都市武侯区助老服务中心" in fragment
    api = staff.get("/api/v1/partners", {"q": "青少年", "status": "active"}).json()
    assert [r["organisation"]["name"] for r in api["results"]] == ["雅安市青少年成长服务中心"]
    assert api["results"][0]["verified"] is False
    assert staff.get("/api/v1/partners", {"region": "51"}).status_code == 400
    paged = staff.get("/api/v1/partners", {"page_size": 2}).json()
    assert paged["count"] == 5 and len(paged["results"]) == 2


def test_network_statistics_and_charts(client_for, hub_a, cast_a, network):
    with hub_a:
        Partnership.objects.filter(pk=network["重庆市渝中区社区基金会"].pk).update(
            joined_at=timezone.now() - timedelta(days=62)
        )
        stats = network_stats(months=6)
    by_status = {s: n for s, _l, n in stats.by_status}
    assert by_status["active"] == 3 and by_status["under_review"] == 1 and by_status["suspended"] == 1
    by_kind = {k: (cells, total) for k, _l, cells, total in stats.by_kind}
    assert by_kind["foundation"] == ({"active": 1, "under_review": 1}, 2)
    assert [n for _m, n, _t in stats.growth][-1] == 3 and stats.growth[-1][2] == 4
    assert sum(n for _m, n, _t in stats.growth) == 4
    page = client_for(cast_a.staff, hub_a).get("/partners/stats/").content.decode()
    assert page.count("<svg") == 3
    # charts are drawn on the server: no script or stylesheet from another origin (a CDN)
    assert re.findall(r"<(?:script|link)\b[^>]*\b(?:src|href)=\"(?:https?:)?//", page) == []
    api = client_for(cast_a.staff, hub_a).get("/api/v1/partners/stats").json()
    assert api["total"] == 5 and api["by_kind"]["foundation"]["active"] == 1


def test_the_pg_trgm_migration_can_run_again_in_any_schema(hub_a):
    """It runs in the template and in every hub schema (and in parallel): creating the extension again is a no-op."""
    import importlib

    from huoban.db import connection

    sql = importlib.import_module("hubs.partners.migrations.0002_pg_trgm").CREATE
    with hub_a, connection.cursor() as cursor:
        cursor.execute(sql)
        cursor.execute(sql)
        cursor.execute(
            "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
            "WHERE e.extname = 'pg_trgm'"
        )
        assert cursor.fetchall() == [("public",)]
