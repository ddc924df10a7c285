"""Headless Chromium: a member organisation's person applies for a loan on a phone, a committee member votes it
through, and the treasurer disburses it."""

from __future__ import annotations

import re

import pytest

from huoban.db import connection
from tests.conftest import PASSWORD, _cast
from tests.pool.helpers import join, new_pool

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _login(browser, live_site: str, email: str, next_url: str, **context):  # type: ignore[no-untyped-def]
    page = browser.new_context(**context).new_page()
    page.goto(f"{live_site}/accounts/login/?next={next_url}")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("[data-testid=login-submit]")
    return page


def test_member_applies_committee_votes_treasurer_disburses(live_site, browser):  # type: ignore[no-untyped-def]
    from django.db import connection as db_connection

    from tenants.models import Hub

    db_connection.close()
    hub = Hub.objects.get(slug="sichuan")
    cast = _cast("a")
    with hub:
        world = new_pool(staff=cast.staff, treasurer=cast.treasurer, committee_size=1, quorum=1)
        _member, owner = join(world, equity=1_000_000)
        join(world, equity=1_000_000)
        pool_id = world.pool.pk
    connection.set_schema_to_public()
    base = f"{hub.url}/pool/{pool_id}"

    phone = _login(browser, live_site, owner.email, f"{base}/", viewport={"width": 390, "height": 844}, is_mobile=True)
    phone.wait_for_url(re.compile(rf"/pool/{pool_id}/$"))
    phone.click("[data-testid=loan-apply-link]")
    phone.fill("input[name=amount]", "5000.00")
    phone.fill("textarea[name=purpose]", "垫付三月社工工资")
    phone.fill("input[name=receivable_payer]", "成都市武侯区民政局")
    phone.fill("input[name=receivable_contract]", "2016 社区居家养老购买服务")
    phone.fill("input[name=receivable_expected_on]", "2030-06-30")
    phone.click("[data-testid=loan-apply-submit]")
    phone.wait_for_selector("[data-testid=loan-status]")
    assert "待表决" in phone.inner_text("[data-testid=loan-status]")
    loan_url = phone.url

    desk = _login(browser, live_site, world.committee[0].email, f"{base}/", viewport={"width": 1200, "height": 900})
    desk.wait_for_url(re.compile(rf"/pool/{pool_id}/$"))
    desk.click("[data-testid=to-vote]")
    desk.select_option("select[name=approve]", "1")
    desk.click("[data-testid=vote-submit]")
    desk.wait_for_selector(".msg.success")
    assert "已批准待放款" in desk.inner_text("[data-testid=loan-status]")

    treasurer = _login(browser, live_site, cast.treasurer.email, loan_url, viewport={"width": 1200, "height": 900})
    treasurer.wait_for_selector("[data-testid=disburse]")
    treasurer.click("[data-testid=disburse]")
    treasurer.wait_for_selector("[data-testid=outstanding]")
    assert "还款中" in treasurer.inner_text("[data-testid=loan-status]")
    assert "¥5,000.00" in treasurer.inner_text("[data-testid=outstanding]")
