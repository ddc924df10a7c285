"""Headless Chromium on the discovery page: a phone searches, narrows by province, loads more with htmx; a
signed-in member saves the search."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from django.db import connections, transaction
from django.utils import timezone
from playwright.sync_api import expect

from huoban.db import connection
from huoban.discovery.models import LISTED_STATUSES, DiscoveryEntry, DiscoveryOutbox, EntryStatus, SavedSearch
from huoban.discovery.outbox import discovery_outbox_drain
from huoban.discovery.services import discovery_publish
from tests.browser.conftest import browser, live_site, screenshot  # noqa: F401 - fixtures
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.slow]
APP = "browsertest"


@pytest.fixture
def entries(committed_db) -> Iterator[None]:
    from tenants.models import Hub

    # a previous browser test's server shutdown may have ended this thread's connection: start afresh
    connections.close_all()
    today = timezone.localdate()
    for hub in Hub.objects.filter(slug__in=["sichuan", "shangcheng"]):
        with hub, transaction.atomic():
            for n in range(14):
                discovery_publish(
                    hub_id=hub.pk,
                    hub_slug=hub.slug,
                    hub_name=hub.name_zh,
                    hub_name_en=hub.name_en,
                    kind="call" if n % 3 else "project_seeking_funds",
                    source=(APP, str(n)),
                    title=f"{'雨城区' if hub.slug == 'sichuan' else '上城区'}社区居家养老服务项目（第{n + 1}期）",
                    summary="为独居和高龄老人提供助餐、助浴、陪伴就医与心理慰藉，招募志愿者与合作社会组织。" * 2,
                    region_code="511802" if hub.slug == "sichuan" else "330102",
                    service_areas=["elderly", "volunteering"],
                    amount=(n + 1) * 1_000_000,
                    deadline=today + timedelta(days=n + 3),
                )
    connection.set_schema_to_public()
    discovery_outbox_drain()
    # Tests that commit (concurrency, other browser walks) may have left listed entries behind; the counts below
    # are of this fixture's entries, so the others are closed for the test and reopened after it.
    others = dict(
        DiscoveryEntry.objects.exclude(source_app=APP).filter(status__in=LISTED_STATUSES).values_list("pk", "status")
    )
    DiscoveryEntry.objects.filter(pk__in=others).update(status=EntryStatus.CLOSED)
    try:
        yield
    finally:
        connection.set_schema_to_public()
        for status in set(others.values()):
            DiscoveryEntry.objects.filter(pk__in=[pk for pk, s in others.items() if s == status]).update(status=status)
        DiscoveryOutbox.objects.filter(source_app=APP).delete()
        DiscoveryEntry.objects.filter(source_app=APP).delete()
        SavedSearch.objects.filter(user__email="ngo@a.test").delete()


def test_a_phone_searches_narrows_and_loads_more(live_site, browser, entries):  # noqa: F811
    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = phone.new_page()
    page.goto(f"{live_site}/discover/")
    page.fill("input[name=q]", "养老")
    page.click("[data-testid=discover-submit]")
    page.wait_for_url(re.compile(r"/discover/\?q="))
    assert page.inner_text("[data-testid=result-count]") == "共 28 条结果"
    assert page.locator("[data-testid=hit]").count() == 20
    assert page.locator(".hit-title mark").first.inner_text() == "养老"

    page.click(".facets summary")  # folded away on a phone
    page.click("[data-testid=facet-province-510000]")
    page.wait_for_url(re.compile(r"region=510000"))
    assert page.inner_text("[data-testid=result-count]") == "共 14 条结果"
    assert page.locator("[data-testid=hit-hub]").all_inner_texts() == ["测试四川中心"] * 14

    page.goto(f"{live_site}/discover/?q=%E5%85%BB%E8%80%81&sort=deadline")
    page.click("[data-testid=load-more]")
    expect(page.locator("[data-testid=hit]")).to_have_count(28)  # the page's CSP forbids eval
    assert page.locator("[data-testid=load-more]").count() == 0
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    page.goto(f"{live_site}/discover/?q=%E5%85%BB%E8%80%81")
    screenshot(page, "discover-phone")


def test_a_member_saves_the_search_and_finds_it_on_the_saved_page(live_site, browser, entries):  # noqa: F811
    desktop = browser.new_context(viewport={"width": 1200, "height": 900})
    page = desktop.new_page()
    page.goto(f"{live_site}/accounts/login/?next=/discover/%3Fq%3D%E5%85%BB%E8%80%81%26region%3D330000")
    page.fill("input[name=login]", "ngo@a.test")
    page.fill("input[name=password]", PASSWORD)
    page.click("[data-testid=login-submit]")
    page.wait_for_url(re.compile(r"/discover/\?q="))
    assert page.inner_text("[data-testid=result-count]") == "共 14 条结果"
    page.fill("[data-testid=save-search] input[name=name]", "上城区养老")
    page.click("[data-testid=save-search-submit]")
    page.wait_for_url(re.compile(r"/discover/saved/$"))
    assert page.locator("[data-testid=saved-search] h3").all_inner_texts() == ["上城区养老"]
    page.click("[data-testid=saved-search] h3 a")
    page.wait_for_url(re.compile(r"region=330000"))
    assert page.inner_text("[data-testid=result-count]") == "共 14 条结果"
    screenshot(page, "discover-desktop")
