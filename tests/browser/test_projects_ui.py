"""Headless Chromium walks a project's money: the project is funded → staff ask for a tranche → the ambassador and
a staff member approve it → the implementer reports an expense with its receipt → the public page, signed out,
shows the movements and the new balance.

Commits for real (live server); the project is made under unique names in hub A and only its rows are asserted.
"""

from __future__ import annotations

import re

import pytest

from huoban.db import connection
from tests.browser.conftest import screenshot
from tests.conftest import PASSWORD, _cast
from tests.projects.conftest import PDF, make_world

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _sign_in(browser, live_site: str, email: str, password: str, next_url: str):  # type: ignore[no-untyped-def]
    page = browser.new_context(viewport={"width": 1200, "height": 900}).new_page()
    page.goto(f"{live_site}/accounts/login/?next={next_url}")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", password)
    page.click("[data-testid=login-submit]")
    page.wait_for_url(re.compile(re.escape(next_url) + "$"))
    return page


def test_funded_tranche_two_approvals_expense_public_page(live_site, browser, tmp_path):
    from django.db import connection as db_connection

    from tenants.models import Hub

    db_connection.close()
    hub = Hub.objects.get(slug="sichuan")
    cast = _cast("a")
    world = make_world(hub, cast, fund=300_000)  # ¥3,000.00 received, project funded, ambassador assigned
    connection.set_schema_to_public()
    project_url = f"{hub.url}/projects/{world.project.pk}/"

    staff = _sign_in(browser, live_site, cast.staff.email, PASSWORD, project_url)
    assert staff.inner_text("[data-testid=project-status]") == "已筹资"
    staff.fill("[data-testid=tranche-form] input[name=title]", "第一期：助餐点启动")
    staff.fill("[data-testid=tranche-form] input[name=amount]", "1200")
    staff.click("[data-testid=tranche-form] button")
    staff.wait_for_selector(".msg.success")

    ambassador = _sign_in(browser, live_site, cast.ambassador.email, PASSWORD, project_url)
    ambassador.click("[data-testid=approve-ambassador]")
    ambassador.wait_for_selector(".msg.success")
    assert "待审批" in ambassador.inner_text("[data-testid=tranches]")

    staff.goto(project_url)
    staff.click("[data-testid=approve-staff]")
    staff.wait_for_selector(".msg.success")
    assert "已拨付" in staff.inner_text("[data-testid=tranches]")
    screenshot(staff, "projects-tranche-released")

    receipt = tmp_path / "fapiao.pdf"
    receipt.write_bytes(PDF)
    implementer = _sign_in(browser, live_site, world.implementer_member.email, "pw-very-long-123", project_url)
    implementer.fill("[data-testid=expense-form] input[name=description]", "采购餐具")
    implementer.fill("[data-testid=expense-form] input[name=amount]", "450.50")
    implementer.set_input_files("[data-testid=expense-form] input[name=receipt]", str(receipt))
    implementer.click("[data-testid=expense-form] button")
    implementer.wait_for_selector(".msg.success")
    assert "采购餐具" in implementer.inner_text("[data-testid=expenses]")

    public = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True).new_page()
    public.goto(f"{hub.url}/projects/public/{world.project.pk}/")
    assert public.inner_text("[data-testid=received]") == "¥3,000.00"
    assert public.inner_text("[data-testid=disbursed]") == "¥1,200.00"
    assert public.inner_text("[data-testid=spent]") == "¥450.50"
    assert public.inner_text("[data-testid=balance]") == "¥2,549.50"
    timeline = public.inner_text("[data-testid=timeline]")
    assert "第一期：助餐点启动" in timeline and "采购餐具" in timeline and "¥2,549.50" in timeline
    assert "13812345678" not in public.content() and "内部" not in public.content()
    screenshot(public, "projects-public-phone")
